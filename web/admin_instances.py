"""Every process instance for administrators (what Camunda's Cockpit does): the searchable list,
and one instance with its diagram, variables, history and incidents, suspended, resumed,
cancelled or corrected with a reason.

The engine does and audits each change (``engine.instance_admin``, ``engine.cancel``,
``engine.retry_incident``/``resolve_incident``) and refuses bad input with a typed error; this
module reads the forms, shows the refusal and keeps nothing when there is one.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from engine import (
    EngineError,
    InvalidData,
    cancel,
    resolve_incident,
    resume,
    retry_incident,
    set_variable,
    suspend,
)
from engine.instance_search import STATUSES, InstancePage, filters_from, search_instances
from engine.models import OutboxJob, ProcessDefinition
from integrations.celery_app import dispatch_after_commit
from processes.directory.models import Unit

from .extensions import dbs
from .instance_view import instance_view, variable_text
from .security import current_actor, require_roles

bp = Blueprint("admin_instances", __name__, url_prefix="/admin")

FILTER_FIELDS = ("business_key", "entity_name", "entity_id", "unit_id", "process_key", "status", "activity",
                 "started_from", "started_to", "due_before", "has_incident")
PER_PAGE = 50


@bp.before_request
@login_required
@require_roles("admin")
def _admins_only() -> None:
    return None


def status_labels() -> dict[str, str]:
    return {"running": _("running"), "suspended": _("suspended"), "stalled": _("stalled"),
            "completed": _("completed"), "cancelled": _("cancelled")}


def _names() -> tuple[dict[str, str], dict[str, str]]:
    """Process names (newest version's) and unit names, for the list and the filter form."""
    processes: dict[str, str] = {}
    for key, name in dbs().execute(select(ProcessDefinition.process_key, ProcessDefinition.name)
                                   .order_by(ProcessDefinition.process_key, ProcessDefinition.version)):
        processes[key] = name
    units = dict(dbs().execute(select(Unit.id, Unit.name).order_by(Unit.id)).all())
    return processes, units


@bp.get("/instances")
def instance_list() -> tuple[str, int]:
    query = {name: request.args.get(name, "").strip() for name in FILTER_FIELDS}
    cursor = request.args.get("cursor") or None
    processes, units = _names()
    page, error = InstancePage([], None, 0, False), None
    try:
        page = search_instances(dbs(), filters_from(query), cursor, PER_PAGE)
    except InvalidData as exc:
        error = exc.message
    return render_template("admin/instances.html", page=page, query=query, error=error, processes=processes,
                           units=units, statuses=STATUSES, status_labels=status_labels(),
                           next_args={**{k: v for k, v in query.items() if v}, "cursor": page.next_cursor},
                           filtered=any(query.values())), 422 if error else 200


@bp.get("/instances/<instance_id>")
def instance_show(instance_id: str) -> str:
    view = instance_view(dbs(), instance_id, current_actor(), history=True)
    processes, units = _names()
    return render_template("admin/instance.html", view=view, inst=view.instance, status_labels=status_labels(),
                           process_name=processes.get(view.instance.process_key, view.instance.process_key),
                           unit_name=units.get(view.instance.unit_id or "", view.instance.unit_id or "—"),
                           variables=[(k, variable_text(v)) for k, v in sorted(view.variables.items())],
                           completed=view.instance.completed_elements or [], current=view.current,
                           editable=view.instance.status in ("running", "suspended", "stalled"))


def _act(instance_id: str, act: Callable[[], object], done: str) -> Response:
    """Run one administrator's action: a refusal is shown and nothing is kept; otherwise commit,
    hand any queued job to the workers and say what happened."""
    try:
        act()
    except EngineError as exc:
        dbs().rollback()
        flash(exc.message, "error")
        return redirect(url_for("admin_instances.instance_show", instance_id=instance_id))
    dbs().commit()
    dispatch_after_commit(dbs())
    flash(done, "success")
    return redirect(url_for("admin_instances.instance_show", instance_id=instance_id))


def _reason() -> str:
    return request.form.get("reason", "")


@bp.post("/instances/<instance_id>/suspend")
def instance_suspend(instance_id: str) -> Response:
    return _act(instance_id, lambda: suspend(dbs(), current_actor(), instance_id, _reason()),
                _("The case is suspended."))


@bp.post("/instances/<instance_id>/resume")
def instance_resume(instance_id: str) -> Response:
    return _act(instance_id, lambda: resume(dbs(), current_actor(), instance_id, _reason()),
                _("The case is resumed."))


@bp.post("/instances/<instance_id>/cancel")
def instance_cancel(instance_id: str) -> Response:
    return _act(instance_id, lambda: cancel(dbs(), instance_id, current_actor(), _reason()),
                _("The case is cancelled."))


@bp.post("/instances/<instance_id>/variables")
def instance_variable(instance_id: str) -> Response:
    name = request.form.get("name", "")
    return _act(instance_id, lambda: set_variable(dbs(), current_actor(), instance_id, name,
                                                  request.form.get("value", ""), _reason()),
                _("The variable %(name)s was changed.", name=name))


def _job_of(instance_id: str, job_id: str) -> OutboxJob:
    job = dbs().get(OutboxJob, job_id)
    if job is None or job.instance_id != instance_id:
        raise InvalidData("this incident does not belong to this case")
    return job


def _retry(instance_id: str, job_id: str) -> None:
    if not _reason().strip():
        raise InvalidData("a reason is required")
    _job_of(instance_id, job_id)
    retry_incident(dbs(), job_id, current_actor(), reason=_reason())


def _resolve(instance_id: str, job_id: str) -> None:
    _job_of(instance_id, job_id)
    raw = request.form.get("result", "").strip()
    try:
        result = json.loads(raw) if raw else None
    except ValueError as exc:
        raise InvalidData("the result must be JSON (or empty)") from exc
    resolve_incident(dbs(), job_id, current_actor(), result, _reason())


@bp.post("/instances/<instance_id>/incidents/<job_id>/retry")
def incident_retry(instance_id: str, job_id: str) -> Response:
    return _act(instance_id, lambda: _retry(instance_id, job_id), _("The job was queued again."))


@bp.post("/instances/<instance_id>/incidents/<job_id>/resolve")
def incident_resolve(instance_id: str, job_id: str) -> Response:
    return _act(instance_id, lambda: _resolve(instance_id, job_id),
                _("The incident was resolved and the case continues."))


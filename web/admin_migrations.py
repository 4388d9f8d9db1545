"""Moving running cases to another version: choose them, preview each, map removed elements,
start a batch a worker runs, and follow its progress with a result per case."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from engine import EngineError
from engine.definitions import spec_by_id
from engine.migration import plan
from engine.migration_batch import progress, start_batch
from engine.models import HumanTask, MigrationBatch, ProcessDefinition, ProcessInstance
from integrations.celery_app import dispatch_migration

from .extensions import dbs
from .security import current_actor, require_roles

bp = Blueprint("admin_migrations", __name__, url_prefix="/admin")
SHOWN = 200  # cases previewed on one page; a batch may hold more (the API takes any number)
MOVABLE = ("running", "suspended", "stalled")


@bp.before_request
@login_required
@require_roles("admin")
def _admins_only() -> None:
    return None


def candidates(key: str, target_id: int, from_version: int | None, activity: str | None,
               limit: int = SHOWN) -> list[ProcessInstance]:
    """Open cases of ``key`` not on the target version, optionally on one version or at one activity."""
    query = select(ProcessInstance).where(ProcessInstance.process_key == key, ProcessInstance.status.in_(MOVABLE),
                                          ProcessInstance.definition_id != target_id)
    if from_version is not None:
        query = query.join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id).where(
            ProcessDefinition.version == from_version)
    if activity:
        query = query.where(ProcessInstance.id.in_(select(HumanTask.instance_id).where(
            HumanTask.task_name == activity, HumanTask.status == "ready")))
    return list(dbs().scalars(query.order_by(ProcessInstance.started_at.desc()).limit(limit)))


def _target_elements(definition: ProcessDefinition) -> list[tuple[str, str]]:
    loaded = spec_by_id(dbs(), definition.id)
    found: dict[str, str] = {}
    for spec in (loaded.spec, *loaded.subprocess_specs.values()):
        for task_spec in spec.task_specs.values():
            element = getattr(task_spec, "bpmn_id", None)
            if element:
                found[element] = getattr(task_spec, "bpmn_name", None) or element
    return sorted(found.items())


def _mapping(form: Any) -> dict[str, str]:
    return {k[len("map_"):]: v for k, v in form.items() if k.startswith("map_") and v}


@bp.route("/processes/<key>/migrate", methods=["GET", "POST"])
def choose(key: str) -> str | Response:
    versions = list(dbs().scalars(select(ProcessDefinition).where(ProcessDefinition.process_key == key)
                                  .order_by(ProcessDefinition.version.desc())))
    if not versions:
        abort(404)
    args = request.form if request.method == "POST" else request.args
    target = next((v for v in versions if str(v.version) == args.get("to")), versions[0])
    from_version = int(args["from"]) if str(args.get("from", "")).isdigit() else None
    activity = (args.get("activity") or "").strip() or None
    mapping = _mapping(args)
    if request.method == "POST" and request.form.get("action") == "start":
        chosen = request.form.getlist("instance")
        try:
            batch = start_batch(dbs(), current_actor(), target.id, chosen, request.form.get("reason", ""), mapping)
        except EngineError as exc:
            dbs().rollback()
            flash(exc.message, "error")
        else:
            batch_id = batch.id
            dbs().commit()
            dispatch_migration(batch_id)
            return redirect(url_for(".batch", batch_id=batch_id))
    rows = candidates(key, target.id, from_version, activity)
    previews: list[dict[str, Any]] = []
    for row in rows:
        try:
            previews.append({"row": row, **plan(dbs(), row.id, target.id, mapping).as_dict()})
        except EngineError as exc:
            previews.append({"row": row, "can_move": False, "reason": exc.message, "unmapped": [], "changed": []})
    unmapped = sorted({e for p in previews for e in p.get("unmapped", [])})
    version_of = {v.id: v.version for v in versions}
    return render_template("admin/process_migrate.html", key=key, versions=versions, target=target,
                           from_version=from_version, activity=activity, previews=previews, unmapped=unmapped,
                           mapping=mapping, elements=_target_elements(target), version_of=version_of)


@bp.get("/migrations/<batch_id>")
def batch(batch_id: str) -> str | Response:
    found = dbs().get(MigrationBatch, batch_id) or abort(404)
    state = progress(found)
    if request.args.get("format") == "json":
        return jsonify(state)
    target = dbs().get(ProcessDefinition, found.target_definition_id)
    shown = found.instance_ids[:1000]
    labels = dict(dbs().execute(select(ProcessInstance.id, ProcessInstance.business_key)
                                .where(ProcessInstance.id.in_(shown))).all())
    return render_template("admin/migration_batch.html", batch=found, state=state, target=target, shown=shown,
                           labels=labels)

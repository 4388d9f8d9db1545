"""Administration basics: staff and roles, units, API tokens, process versions, incidents and
stalled cases, audit check.

Directory changes are appended to the engine's system audit chain (who changed whose roles,
which token was issued), since they decide who may see and do what.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from engine import (
    EngineError,
    NotFound,
    incidents,
    repair_stalled,
    resolve_incident,
    retry_incident,
    scan_stalled,
    stalled_instances,
    verify_audit,
)
from engine import permissions as perm
from engine.audit import append as audit_append
from engine.clock import china_today
from engine.db import utcnow
from engine.models import ProcessDefinition, ProcessInstance
from integrations.celery_app import dispatch_after_commit
from processes.directory.models import LEVELS, ROLES, Unit, User
from processes.directory.services import (
    DirectoryError,
    create_unit,
    create_user,
    set_password,
    units_tree,
    unlock,
    update_user,
)

from . import directory
from .api.schemas import UnitUpdateSchema
from .extensions import dbs
from .models import ApiToken
from .security import create_token, current_actor, end_all_sessions, require_roles

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
@require_roles("admin")
def _admins_only() -> None:
    return None


def _audit(action: str, data: dict[str, Any]) -> None:
    audit_append(dbs(), current_actor().user_id, action, data=data)


@bp.get("/")
def index() -> str:
    return render_template("admin/index.html",
                           users=dbs().scalar(select(func.count()).select_from(User)),
                           units=dbs().scalar(select(func.count()).select_from(Unit)),
                           definitions=dbs().scalar(select(func.count()).select_from(ProcessDefinition)),
                           incidents=len(incidents(dbs())) + len(stalled_instances(dbs())))


@bp.get("/users")
def users() -> str:
    rows = list(dbs().scalars(select(User).order_by(User.unit_id, User.id)))
    names = dict(dbs().execute(select(Unit.id, Unit.name)).all())
    return render_template("admin/users.html", users=rows, unit_names=names, now=utcnow(), today=china_today())


def _user_form(user: User | None, values: dict[str, Any], errors: dict[str, str], status: int = 200) -> Any:
    return render_template("admin/user_form.html", user=user, values=values, errors=errors, roles=ROLES,
                           units=units_tree(dbs())), status


@bp.route("/users/new", methods=["GET", "POST"])
def user_new() -> Any:
    values: dict[str, Any] = {k: request.form.get(k, "") for k in
                              ("id", "display_name", "unit_id", "certificate_no", "certificate_valid_until",
                               "password")}
    values["roles"] = request.form.getlist("roles")
    if request.method == "GET":
        return _user_form(None, values, {})
    try:
        user = create_user(dbs(), values["id"], values["display_name"], values["unit_id"], values["roles"],
                           values["password"], values["certificate_no"], values["certificate_valid_until"])
    except DirectoryError as exc:
        dbs().rollback()
        return _user_form(None, values, {exc.field or "_": exc.message}, 422)
    _audit("user_created", {"user": user.id, "unit": user.unit_id, "roles": user.roles})
    dbs().commit()
    flash(_("User %(name)s created.", name=user.id), "success")
    return redirect(url_for("admin.users"))


@bp.route("/users/<user_id>", methods=["GET", "POST"])
def user_edit(user_id: str) -> Any:
    user = dbs().get(User, user_id)
    if user is None:
        return render_template("error.html", status=404, message=_("Not found.")), 404
    if request.method == "GET":
        current = {"display_name": user.display_name, "unit_id": user.unit_id, "roles": user.roles,
                   "certificate_no": user.certificate_no or "", "active": user.active,
                   "certificate_valid_until": (user.certificate_valid_until.isoformat()
                                               if user.certificate_valid_until else "")}
        return _user_form(user, current, {})
    values: dict[str, Any] = {k: request.form.get(k, "") for k in
                              ("display_name", "unit_id", "certificate_no", "certificate_valid_until", "password")}
    values["roles"] = request.form.getlist("roles")
    values["active"] = request.form.get("active") == "1"
    before = {"unit": user.unit_id, "roles": list(user.roles), "active": user.active}
    try:
        update_user(dbs(), user, display_name=values["display_name"], unit_id=values["unit_id"],
                    roles=values["roles"], certificate_no=values["certificate_no"],
                    certificate_valid_until=values["certificate_valid_until"], active=values["active"])
        if values["password"]:
            set_password(user, values["password"])
            end_all_sessions(user.id)
        if request.form.get("unlock") == "1":
            unlock(dbs(), user)
    except DirectoryError as exc:
        dbs().rollback()
        return _user_form(user, values, {exc.field or "_": exc.message}, 422)
    _audit("user_changed", {"user": user.id, "before": before,
                            "after": {"unit": user.unit_id, "roles": user.roles, "active": user.active},
                            "password_reset": bool(values["password"])})
    dbs().commit()
    flash(_("User %(name)s saved.", name=user.id), "success")
    return redirect(url_for("admin.users"))


@bp.route("/units", methods=["GET", "POST"])
def units() -> Any:
    errors: dict[str, str] = {}
    values = {k: request.form.get(k, "") for k in ("id", "name", "short_name", "level", "region_code", "parent_id")}
    status = 200
    if request.method == "POST":
        try:
            unit = create_unit(dbs(), values["id"], values["name"], values["level"], values["region_code"],
                               values["parent_id"] or None, values["short_name"] or None)
        except DirectoryError as exc:
            dbs().rollback()
            errors[exc.field or "_"] = exc.message
            status = 422
        else:
            _audit("unit_created", {"unit": unit.id, "parent": unit.parent_id, "region_code": unit.region_code})
            dbs().commit()
            flash(_("Unit %(name)s created.", name=unit.name), "success")
            return redirect(url_for("admin.units"))
    actor = current_actor()
    tree = units_tree(dbs())
    return render_template("admin/units.html", tree=tree, levels=LEVELS, values=values, errors=errors,
                           manageable={u.id for _d, u in tree if perm.can_manage_unit(actor, u.id)}), status


def _unit_page(unit: Unit, values: dict[str, Any], errors: dict[str, str]) -> Any:
    actor = current_actor()
    parents = [(depth, u) for depth, u in units_tree(dbs())
               if not u.path.startswith(unit.path) and (u.id == unit.parent_id or perm.can_manage_unit(actor, u.id))]
    return render_template("admin/unit_edit.html", unit=unit, values=values, errors=errors, parents=parents,
                           levels=LEVELS), 422 if errors else 200


def _manageable(unit_id: str) -> Unit:
    try:
        return directory.manageable_unit(dbs(), current_actor(), unit_id)
    except NotFound:
        abort(404)


@bp.route("/units/<unit_id>", methods=["GET", "POST"])
def unit_edit(unit_id: str) -> Any:
    """Rename, re-code or move a unit of the admin's subtree (its own subtree moves with it); audited."""
    unit = _manageable(unit_id)
    if request.method == "GET":
        return _unit_page(unit, {k: getattr(unit, k) or "" for k in directory.UNIT_FIELDS}, {})
    values = {k: request.form.get(k, "") for k in directory.UNIT_FIELDS}
    body, errors = directory.load(UnitUpdateSchema(), directory.form_body(request.form, directory.UNIT_FIELDS,
                                                                          optional=("parent_id",)))
    if not errors:
        try:
            directory.save_unit(dbs(), current_actor(), unit, body)
        except DirectoryError as exc:
            dbs().rollback()
            errors[exc.field or "_"] = exc.message
    if errors:
        return _unit_page(unit, values, errors)
    dbs().commit()
    flash(_("Unit %(name)s saved.", name=unit.name), "success")
    return redirect(url_for("admin.units"))


@bp.post("/units/<unit_id>/active")
def unit_active(unit_id: str) -> Any:
    """Deactivate a unit (only with no active staff, active sub-units, open tasks or running cases),
    or reactivate it."""
    unit = _manageable(unit_id)
    active = request.form.get("active") == "1"
    try:
        directory.save_unit(dbs(), current_actor(), unit, {"active": active})
    except DirectoryError as exc:
        dbs().rollback()
        return _unit_page(unit, {k: getattr(unit, k) or "" for k in directory.UNIT_FIELDS}, {"active": exc.message})
    dbs().commit()
    flash(_("Unit %(name)s reactivated.", name=unit.name) if active
          else _("Unit %(name)s deactivated.", name=unit.name), "success")
    return redirect(url_for("admin.units"))


@bp.get("/tokens")
def tokens() -> str:
    rows = list(dbs().scalars(select(ApiToken).order_by(ApiToken.created_at.desc())))
    users_ = list(dbs().scalars(select(User).where(User.active).order_by(User.id)))
    return render_template("admin/tokens.html", tokens=rows, users=users_, new_token=None, now=utcnow())


@bp.post("/tokens")
def token_new() -> Any:
    user = dbs().get(User, request.form.get("user_id", ""))
    if user is None:
        flash(_("Choose a user."), "error")
        return redirect(url_for("admin.tokens"))
    row, token = create_token(user, request.form.get("name", ""), current_actor().user_id)
    _audit("api_token_created", {"user": user.id, "name": row.name, "prefix": row.prefix})
    dbs().commit()
    rows = list(dbs().scalars(select(ApiToken).order_by(ApiToken.created_at.desc())))
    users_ = list(dbs().scalars(select(User).where(User.active).order_by(User.id)))
    return render_template("admin/tokens.html", tokens=rows, users=users_, new_token=token, now=utcnow())


@bp.post("/tokens/<int:token_id>/revoke")
def token_revoke(token_id: int) -> Response:
    row = dbs().get(ApiToken, token_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
        _audit("api_token_revoked", {"user": row.user_id, "prefix": row.prefix})
        dbs().commit()
        flash(_("Token revoked."), "info")
    return redirect(url_for("admin.tokens"))


@bp.get("/processes")
def processes() -> str:
    rows = list(dbs().scalars(select(ProcessDefinition)
                                   .order_by(ProcessDefinition.process_key, ProcessDefinition.version.desc())))
    counts = dict(dbs().execute(select(ProcessInstance.definition_id, func.count())
                                     .where(ProcessInstance.status == "running")
                                     .group_by(ProcessInstance.definition_id)).all())
    return render_template("admin/processes.html", definitions=rows, running=counts)


@bp.get("/incidents")
def incident_list() -> str:
    return render_template("admin/incidents.html", incidents=incidents(dbs()), stalled=stalled_instances(dbs()))


@bp.post("/stalled/scan")
def stalled_scan() -> Response:
    """Look for running cases stored before stalls were detected (nothing can move them)."""
    found = scan_stalled(dbs(), current_actor())
    dbs().commit()
    flash(_("%(n)d stalled case(s) found.", n=len(found)), "success" if not found else "error")
    return redirect(url_for("admin.incident_list"))


@bp.post("/stalled/<instance_id>/repair")
def stalled_repair(instance_id: str) -> Response:
    return _incident_action(lambda: repair_stalled(dbs(), instance_id, current_actor()),
                            _("The case was repaired and moves on."))


@bp.post("/incidents/<job_id>/retry")
def incident_retry(job_id: str) -> Response:
    return _incident_action(lambda: retry_incident(dbs(), job_id, current_actor()), _("The job was queued again."))


def _incident_action(act: Callable[[], object], done: str) -> Response:
    """Run an administrator's action on an incident or stalled case: its refusal is shown and
    nothing is kept; otherwise commit, hand any queued job to the workers, say what happened."""
    try:
        act()
    except EngineError as exc:
        dbs().rollback()
        flash(exc.message, "error")
        return redirect(url_for("admin.incident_list"))
    dbs().commit()
    dispatch_after_commit(dbs())
    flash(done, "success")
    return redirect(url_for("admin.incident_list"))


@bp.post("/incidents/<job_id>/resolve")
def incident_resolve(job_id: str) -> Response:
    raw = request.form.get("result", "").strip()
    try:
        result = json.loads(raw) if raw else None
    except ValueError:
        flash(_("The result must be JSON (or empty)."), "error")
        return redirect(url_for("admin.incident_list"))
    try:
        resolve_incident(dbs(), job_id, current_actor(), result, request.form.get("note", ""))
    except EngineError as exc:
        dbs().rollback()
        flash(exc.message, "error")
        return redirect(url_for("admin.incident_list"))
    dbs().commit()
    dispatch_after_commit(dbs())
    flash(_("The incident was resolved and the case continues."), "success")
    return redirect(url_for("admin.incident_list"))


@bp.get("/audit")
def audit() -> str:
    return render_template("admin/audit.html", result=verify_audit(dbs()))

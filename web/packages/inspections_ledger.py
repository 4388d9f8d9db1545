"""The risk ledger (风险评估台账) and inspectors' leave by hand, on the staff side.

Why a page: the ledger's entries are opened by other processes (complaints, failed inspections,
penalties); an assessment of the agency's own (风险评估) and closing an entry (销账) need a person,
and so does recording that an inspector is on leave (the draw skips them for that period). The
page only calls ``directories.open_risk`` / ``close_risk`` / ``add_leave``, which check and audit
every change; a refusal comes back beside the form with its sentence and nothing is written.
Heads (and administrators) of the entity's or the inspector's unit use it, as for the directory
imports.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from engine.clock import china_today
from processes.directory.codes import normalize_credit_code
from processes.directory.models import Entity, User
from processes.directory.services import DirectoryError
from processes.inspections import directories
from processes.inspections.models import Inspector, InspectorLeave, RiskEntry
from processes.inspections.rules import RISK_LEVELS
from web.extensions import dbs
from web.security import current_actor, require_roles

bp = Blueprint("inspections_ledger", __name__, url_prefix="/inspections")
MANAGERS = ("head",)


def _in_scope(unit_id: str | None) -> bool:
    actor = current_actor()
    return actor.is_admin or (unit_id is not None and unit_id in actor.unit_ids)


def _entity(code: str) -> Entity | None:
    entity = dbs().get(Entity, normalize_credit_code(code)) if code else None
    return entity if entity is not None and _in_scope(entity.unit_id) else None


def _risk_page(code: str, values: dict[str, str], errors: dict[str, list[str]], status: int = 200) -> Any:
    entity = _entity(code)
    entries = list(dbs().scalars(select(RiskEntry).where(RiskEntry.credit_code == entity.credit_code)
                                 .order_by(RiskEntry.opened_on.desc(), RiskEntry.id.desc()))) if entity else []
    return render_template("inspections/risk.html", entity=entity, code=code, entries=entries, values=values,
                           errors=errors, levels=RISK_LEVELS, sources=directories.RISK_SOURCES), status


@bp.get("/risk")
@login_required
@require_roles(*MANAGERS)
def risk() -> Any:
    code = (request.args.get("credit_code") or "").strip()[:40]
    errors = {"credit_code": [_("No entity of your units has this credit code.")]} if code and not _entity(code) else {}
    return _risk_page(code, {"level": "high", "reason": ""}, errors)


@bp.post("/risk")
@login_required
@require_roles(*MANAGERS)
def open_risk() -> Any:
    values = {k: request.form.get(k, "") for k in ("credit_code", "level", "reason")}
    entity = _entity(values["credit_code"].strip())
    if entity is None:
        return _risk_page(values["credit_code"], values,
                          {"credit_code": [_("No entity of your units has this credit code.")]}, 422)
    try:
        directories.open_risk(dbs(), current_actor(), entity.credit_code, source="assessment",
                              level=values["level"], reason=values["reason"], on=china_today())
    except DirectoryError as exc:
        dbs().rollback()
        return _risk_page(entity.credit_code, values, {exc.field or "_": [exc.message]}, 422)
    dbs().commit()
    flash(_("Risk entry opened."), "success")
    return redirect(url_for("inspections_ledger.risk", credit_code=entity.credit_code))


@bp.post("/risk/<int:entry_id>/close")
@login_required
@require_roles(*MANAGERS)
def close_risk(entry_id: int) -> Any:
    entry = dbs().get(RiskEntry, entry_id)
    if entry is None or _entity(entry.credit_code) is None:
        abort(404)
    code, reason = entry.credit_code, request.form.get("reason", "")
    try:
        directories.close_risk(dbs(), current_actor(), entry_id, reason=reason, on=china_today())
    except DirectoryError as exc:
        dbs().rollback()
        return _risk_page(code, {"level": "high", "reason": "", "close_reason": reason},
                          {f"close_{entry_id}" if exc.field == "reason" else (exc.field or "_"): [exc.message]}, 422)
    dbs().commit()
    flash(_("Risk entry closed."), "success")
    return redirect(url_for("inspections_ledger.risk", credit_code=code))


def _inspectors() -> list[tuple[Inspector, str]]:
    rows = dbs().execute(select(Inspector, User.display_name).join(User, User.id == Inspector.user_id)
                         .where(Inspector.active).order_by(Inspector.unit_id, Inspector.user_id)).all()
    return [(row[0], row[1]) for row in rows if _in_scope(row[0].unit_id)]


def _leave_page(values: dict[str, str], errors: dict[str, list[str]], status: int = 200) -> Any:
    people = _inspectors()
    ids = [p.user_id for p, _name in people]
    leaves = list(dbs().scalars(select(InspectorLeave).where(InspectorLeave.user_id.in_(ids),
                                                             InspectorLeave.ends_on >= china_today())
                                .order_by(InspectorLeave.starts_on, InspectorLeave.id))) if ids else []
    return render_template("inspections/leave.html", people=people, leaves=leaves, values=values,
                           errors=errors), status


def _day(values: dict[str, str], name: str, errors: dict[str, list[str]]) -> date | None:
    try:
        return date.fromisoformat(values.get(name, "").strip())
    except ValueError:
        errors.setdefault(name, []).append(_("Enter a date as YYYY-MM-DD."))
        return None


@bp.get("/leave")
@login_required
@require_roles(*MANAGERS)
def leave() -> Any:
    return _leave_page({"user_id": "", "starts_on": "", "ends_on": "", "reason": ""}, {})


@bp.post("/leave")
@login_required
@require_roles(*MANAGERS)
def add_leave() -> Response | Any:
    values = {k: request.form.get(k, "") for k in ("user_id", "starts_on", "ends_on", "reason")}
    errors: dict[str, list[str]] = {}
    if values["user_id"] not in {p.user_id for p, _name in _inspectors()}:
        errors["user_id"] = [_("Choose an inspector of your units.")]
    starts, ends = _day(values, "starts_on", errors), _day(values, "ends_on", errors)
    if errors or starts is None or ends is None:
        return _leave_page(values, errors, 422)
    try:
        directories.add_leave(dbs(), current_actor(), values["user_id"], starts, ends, values["reason"])
    except DirectoryError as exc:
        dbs().rollback()
        return _leave_page(values, {exc.field or "_": [exc.message]}, 422)
    dbs().commit()
    flash(_("Leave recorded: the draw skips this inspector in that period."), "success")
    return redirect(url_for("inspections_ledger.leave"))

"""Editing one row of the inspection directories by hand: an item of the 抽查事项清单, an entity's
profile, an inspector of the 执法检查人员名录库.

Why these pages only call ``processes.inspections.directories``: the import (``imports``) writes
through the same services, so a row typed here is checked exactly as a row of a file (same
sentences) and audited by the same events (``inspection_item_saved``,
``inspection_entity_profile_changed``, ``inspection_inspector_saved``). A saved item is a new
version (``add_item``); the earlier versions stay, shown under the form, for the plans that used
them. The risk level is not editable here: it follows the risk ledger's open entries (风险评估台账),
so the profile page links to the ledger. A refusal re-renders the form with everything typed and
its sentence, and nothing is written. Heads (and administrators) use it, as for the imports; an
entity or inspector of another unit is not found.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from processes.directory.codes import normalize_credit_code
from processes.directory.models import ENTITY_CATEGORIES, Entity, User
from processes.directory.services import DirectoryError
from processes.inspections import directories
from processes.inspections.imports import LIST_SEPARATORS
from processes.inspections.models import EntityProfile, InspectionItem, Inspector
from processes.inspections.rules import CREDIT_GRADES, RISK_LEVELS
from web.extensions import dbs
from web.security import current_actor, require_roles

bp = Blueprint("inspections_edit", __name__, url_prefix="/inspections/directory-edit")
MANAGERS = ("head",)
REQUIRED = "此项为必填项"  # the import's sentence for a missing cell (translated in the domain catalog)


@bp.before_request
@login_required
@require_roles(*MANAGERS)
def _heads_only() -> None:
    return None


def _in_scope(unit_id: str | None) -> bool:
    actor = current_actor()
    return actor.is_admin or (unit_id is not None and unit_id in actor.unit_ids)


def _lines(text: str) -> list[str]:
    """One entry a line (or separated as in an imported cell: | ； ; 、)."""
    for sep in ("\n", *LIST_SEPARATORS[1:]):
        text = text.replace(sep, LIST_SEPARATORS[0])
    return [part.strip() for part in text.split(LIST_SEPARATORS[0]) if part.strip()]


def _day(text: str, field: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text.replace("/", "-"))
    except ValueError as exc:
        raise DirectoryError("日期格式应为YYYY-MM-DD", field) from exc


# -- items -------------------------------------------------------------------------------------

@bp.get("/items")
def items() -> str:
    rows = list(dbs().scalars(select(InspectionItem).where(InspectionItem.active)
                              .order_by(InspectionItem.category, InspectionItem.code)))
    return render_template("inspections/edit_items.html", items=rows, categories=ENTITY_CATEGORIES)


ITEM_FIELDS = ("code", "category", "name", "legal_basis", "checklist")


@bp.route("/items/new", methods=["GET", "POST"])
def new_item() -> Any:
    """A new code in the list (version 1); an existing code is changed on its own page."""
    values = {k: request.form.get(k, "") for k in ITEM_FIELDS}
    if request.method == "GET":
        return render_template("inspections/edit_item_new.html", values=values, errors={},
                               categories=ENTITY_CATEGORIES)
    code = values["code"].strip()
    taken = _("This code is already in the list: change that item on its own page.")
    try:
        if dbs().scalar(select(InspectionItem.id).where(InspectionItem.code == code).limit(1)) is not None:
            raise DirectoryError(taken, "code")
        directories.add_item(dbs(), current_actor(), code=code, category=values["category"], name=values["name"],
                             legal_basis=values["legal_basis"], checklist=_lines(values["checklist"]))
        dbs().commit()
    except IntegrityError:  # the same code added by someone else at the same moment
        dbs().rollback()
        return render_template("inspections/edit_item_new.html", values=values, errors={"code": [taken]},
                               categories=ENTITY_CATEGORIES), 422
    except DirectoryError as exc:
        dbs().rollback()
        return render_template("inspections/edit_item_new.html", values=values,
                               errors={exc.field or "_": [exc.message]}, categories=ENTITY_CATEGORIES), 422
    flash(_("Item %(code)s added to the list.", code=code), "success")
    return redirect(url_for("inspections_edit.item", code=code))


def _item_page(code: str, values: dict[str, str], errors: dict[str, list[str]], status: int = 200) -> Any:
    versions = list(dbs().scalars(select(InspectionItem).where(InspectionItem.code == code)
                                  .order_by(InspectionItem.version.desc())))
    if not versions:
        abort(404)
    return render_template("inspections/edit_item.html", code=code, versions=versions, values=values,
                           errors=errors, categories=ENTITY_CATEGORIES), status


@bp.get("/items/<code>")
def item(code: str) -> Any:
    current = dbs().scalar(select(InspectionItem).where(InspectionItem.code == code)
                           .order_by(InspectionItem.version.desc()).limit(1))
    if current is None:
        abort(404)
    values = {"category": current.category, "name": current.name, "legal_basis": current.legal_basis,
              "checklist": "\n".join(current.checklist), "based_on": str(current.version)}
    return _item_page(code, values, {})


def _stale(version: int) -> str:
    return _("Someone saved version %(version)s of this item meanwhile, so nothing of yours was saved. Compare "
             "it below; saving again saves your text as the next version.", version=version)


@bp.post("/items/<code>")
def save_item(code: str) -> Any:
    current = dbs().scalar(select(InspectionItem).where(InspectionItem.code == code)
                           .order_by(InspectionItem.version.desc()).limit(1))
    if current is None:
        abort(404)
    values = {k: request.form.get(k, "") for k in ("category", "name", "legal_basis", "checklist", "based_on")}
    checklist = _lines(values["checklist"])
    if values["based_on"] != str(current.version):  # someone saved a version since this form was opened
        return _item_page(code, {**values, "based_on": str(current.version)}, {"_": [_stale(current.version)]}, 409)
    if (values["category"], values["name"].strip(), values["legal_basis"].strip(), checklist) == (
            current.category, current.name, current.legal_basis, current.checklist):
        return _item_page(code, values, {"_": [_("Nothing was changed, so no new version was saved.")]}, 422)
    try:
        saved = directories.add_item(dbs(), current_actor(), code=code, category=values["category"],
                                     name=values["name"], legal_basis=values["legal_basis"], checklist=checklist)
        dbs().commit()
    except DirectoryError as exc:
        dbs().rollback()
        return _item_page(code, values, {exc.field or "_": [exc.message]}, 422)
    except IntegrityError:  # two saves of the same code at once: (code, version) is unique
        dbs().rollback()
        latest = dbs().scalar(select(func.max(InspectionItem.version)).where(InspectionItem.code == code))
        latest = latest or current.version
        return _item_page(code, {**values, "based_on": str(latest)}, {"_": [_stale(latest)]}, 409)
    flash(_("Saved as version %(version)s; the earlier versions are kept.", version=saved.version), "success")
    return redirect(url_for("inspections_edit.item", code=code))


def _stamp(row: EntityProfile | Inspector | None) -> str:
    """When the row was last saved: sent with the form, so a save over someone's newer one is refused."""
    return row.updated_at.isoformat() if row is not None else ""


STALE = "stale"


def _stale_record() -> str:
    return _("Someone saved this record meanwhile, so nothing of yours was saved. What is saved now is shown "
             "above the form; saving again replaces it with what you typed.")


# -- entity profiles ---------------------------------------------------------------------------

PROFILE_FIELDS = ("status", "credit_grade", "complaint_count", "last_inspected_on", "region_code", "latitude",
                  "longitude")


def _entity(code: str) -> Entity | None:
    entity = dbs().get(Entity, normalize_credit_code(code)) if code else None
    return entity if entity is not None and _in_scope(entity.unit_id) else None


def _profile_page(code: str, values: dict[str, str], errors: dict[str, list[str]], status: int = 200) -> Any:
    entity = _entity(code)
    profile = dbs().get(EntityProfile, entity.credit_code) if entity is not None else None
    return render_template("inspections/edit_profile.html", code=code, entity=entity, profile=profile,
                           values=values, errors=errors, statuses=directories.ENTITY_STATUSES,
                           grades=CREDIT_GRADES, levels=RISK_LEVELS, categories=ENTITY_CATEGORIES), status


@bp.get("/entities")
def profile() -> Any:
    code = (request.args.get("credit_code") or "").strip()[:40]
    entity = _entity(code)
    if code and entity is None:
        return _profile_page(code, {}, {"credit_code": [_("No entity of your units has this credit code.")]})
    values: dict[str, str] = {}
    if entity is not None:
        row = dbs().get(EntityProfile, entity.credit_code)
        values = {k: "" if row is None or getattr(row, k) is None else str(getattr(row, k)) for k in PROFILE_FIELDS}
        values["status"] = values["status"] or "active"
        values["complaint_count"] = values["complaint_count"] or "0"
        values["region_code"] = values["region_code"] or (entity.region_code or "")
        values["based_on"] = _stamp(row)
    return _profile_page(code, values, {})


@bp.post("/entities")
def save_profile() -> Any:
    code = request.form.get("credit_code", "").strip()[:40]
    entity = _entity(code)
    if entity is None:
        abort(404)
    values = {k: request.form.get(k, "").strip() for k in (*PROFILE_FIELDS, "based_on")}
    saved = _stamp(dbs().get(EntityProfile, entity.credit_code))
    if values["based_on"] != saved:
        return _profile_page(entity.credit_code, {**values, "based_on": saved}, {STALE: [_stale_record()]}, 409)
    try:
        count = values["complaint_count"]
        if not count.isdigit():
            raise DirectoryError("投诉举报次数应为不小于0的整数", "complaint_count")
        directories.set_profile(
            dbs(), current_actor(), entity.credit_code, status=values["status"],
            credit_grade=values["credit_grade"], complaint_count=int(count),
            last_inspected_on=_day(values["last_inspected_on"], "last_inspected_on"),
            region_code=values["region_code"] or None, latitude=values["latitude"], longitude=values["longitude"])
    except DirectoryError as exc:
        dbs().rollback()
        return _profile_page(entity.credit_code, values, {exc.field or "_": [exc.message]}, 422)
    dbs().commit()
    flash(_("Entity profile saved."), "success")
    return redirect(url_for("inspections_edit.profile", credit_code=entity.credit_code))


# -- inspectors --------------------------------------------------------------------------------

INSPECTOR_FIELDS = ("certificate_no", "valid_from", "valid_until", "relatives_at", "former_employers")


def _roster() -> list[tuple[Inspector, str]]:
    rows = dbs().execute(select(Inspector, User.display_name).join(User, User.id == Inspector.user_id)
                         .order_by(Inspector.unit_id, Inspector.user_id)).all()
    return [(row[0], row[1]) for row in rows if _in_scope(row[0].unit_id)]


def _others(people: list[tuple[Inspector, str]]) -> list[User]:
    """Active staff of the head's units not yet in the roster (they can be added)."""
    listed = {p.user_id for p, _name in people}
    users = dbs().scalars(select(User).where(User.active).order_by(User.unit_id, User.id))
    return [u for u in users if u.id not in listed and _in_scope(u.unit_id)]


@bp.get("/inspectors")
def inspectors() -> str:
    people = _roster()
    return render_template("inspections/edit_inspectors.html", people=people, others=_others(people),
                           categories=ENTITY_CATEGORIES)


def _person(user_id: str) -> tuple[Inspector | None, User]:
    """The roster entry (None: a staff member of the head's units not in the roster yet) and user."""
    inspector, user = dbs().get(Inspector, user_id), dbs().get(User, user_id)
    unit = inspector.unit_id if inspector is not None else (user.unit_id if user is not None and user.active
                                                            else None)
    if user is None or not _in_scope(unit):
        abort(404)
    return inspector, user


def _inspector_page(user_id: str, values: dict[str, Any], errors: dict[str, list[str]], status: int = 200) -> Any:
    inspector, user = _person(user_id)
    return render_template("inspections/edit_inspector.html", inspector=inspector, user=user, values=values,
                           errors=errors, categories=ENTITY_CATEGORIES), status


@bp.get("/inspectors/<user_id>")
def inspector(user_id: str) -> Any:
    row, _user = _person(user_id)
    if row is None:
        return _inspector_page(user_id, {"specialties": [], "active": True, "based_on": ""}, {})
    values: dict[str, Any] = {
        "certificate_no": row.certificate_no, "valid_from": row.certificate_valid_from.isoformat(),
        "valid_until": row.certificate_valid_until.isoformat(), "specialties": list(row.specialties),
        "relatives_at": "\n".join(row.relatives_at), "former_employers": "\n".join(row.former_employers),
        "active": row.active, "based_on": _stamp(row)}
    return _inspector_page(user_id, values, {})


@bp.post("/inspectors/<user_id>")
def save_inspector(user_id: str) -> Any:
    row, _user = _person(user_id)
    values: dict[str, Any] = {k: request.form.get(k, "") for k in (*INSPECTOR_FIELDS, "based_on")}
    values["specialties"] = request.form.getlist("specialties")
    values["active"] = request.form.get("active") == "1"
    if values["based_on"] != _stamp(row):
        return _inspector_page(user_id, {**values, "based_on": _stamp(row)}, {STALE: [_stale_record()]}, 409)
    try:
        for field in ("certificate_no", "valid_from", "valid_until", "specialties"):
            if not (values[field].strip() if isinstance(values[field], str) else values[field]):
                raise DirectoryError(REQUIRED, field)
        valid_from, valid_until = _day(values["valid_from"], "valid_from"), _day(values["valid_until"], "valid_until")
        if valid_from is None or valid_until is None:  # not reached: both are required above
            raise DirectoryError(REQUIRED, "valid_from" if valid_from is None else "valid_until")
        directories.save_inspector(dbs(), current_actor(), user_id, certificate_no=values["certificate_no"],
                                   valid_from=valid_from, valid_until=valid_until, specialties=values["specialties"],
                                   relatives_at=_lines(values["relatives_at"]),
                                   former_employers=_lines(values["former_employers"]), active=values["active"])
    except DirectoryError as exc:
        dbs().rollback()
        return _inspector_page(user_id, values, {exc.field or "_": [exc.message]}, 422)
    dbs().commit()
    flash(_("Inspector saved."), "success")
    return redirect(url_for("inspections_edit.inspector", user_id=user_id))

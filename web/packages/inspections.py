"""Double-random inspections (双随机一公开) on the staff side: plans (list, detail with the draw's
commitment, seed, result and replacements, creation, submission, making a plan recurring),
re-draws with a reason, the staff verification page, and the task/case panels. Schedules and
directory imports are ``inspections_admin``; the public disclosure site is ``inspections_public``.

Why the head's approval is not here: it is a BPMN user task (``inspections.approve_plan``) on the
generic task page, which shows this package's panel (the plan being approved). Every change goes
through the services of ``processes.inspections`` (checked, audited); nothing here writes a row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from marshmallow import ValidationError
from sqlalchemy import select
from werkzeug.wrappers import Response

from engine import Actor, PermissionDenied
from engine.clock import china_today
from engine.models import HumanTask, ProcessInstance
from integrations.celery_app import dispatch_after_commit
from processes.directory.models import ENTITY_CATEGORIES, Unit, User
from processes.directory.services import DirectoryError
from processes.inspections import draw_record, draw_signing, draw_witness, national, public_changes, scheduling, service
from processes.inspections import plans as plan_service
from processes.inspections.draw import verify_draw
from processes.inspections.forms import OUTCOME_NAMES
from processes.inspections.models import Draw, Inspection, InspectionItem, Plan, Replacement
from web.extensions import dbs
from web.security import current_actor, require_roles

from . import NavLink, Panel, WebPackage
from .inspections_admin import bp as admin_bp
from .inspections_api import api_bp
from .inspections_edit import bp as edit_bp
from .inspections_ledger import bp as ledger_bp
from .inspections_plan_form import rule_weights, scope_names, scope_of_form, weight_rows, weights_of_form
from .inspections_public import bp as public_bp
from .inspections_rules import bp as rules_bp
from .inspections_sign import bp as sign_bp
from .inspections_sign import draw_signatures

bp = Blueprint("inspections", __name__, url_prefix="/inspections")
ROLES = frozenset({"officer", "head"})
STATUSES = {"draft": "草稿", "submitted": "待负责人审批", "returned": "已退回", "published": "已发布"}
DRAW_STATUSES = {"committed": "已承诺，待抽取", "drawn": "已抽取", "superseded": "已被重新抽取取代"}
INSPECTION_STATUSES = {"assigned": "已分派", "declaring": "利益冲突声明中", "confirming": "待另一名检查人员确认",
                       "disputed": "记录有异议，待主检人员修改", "reviewing": "待负责人审核",
                       "returned": "退回重查", "done": "已完成", "cancelled": "已取消", "unstaffed": "检查人员不足"}
FORM_FIELDS = ("title", "kind", "unit_id", "window_start", "window_end", "seed_source", "witness_id",
               "recent_months", "frequency_cap", "fixed_entities")


@dataclass(frozen=True)
class PlanPanel:
    """The plan a task or case works on (approval, revision, witness), or the inspection."""

    plan: Plan | None
    inspection: Inspection | None
    categories: list[tuple[str, str]]
    items: list[InspectionItem]
    people: dict[str, str]
    weights: list[Any]  # inspections_plan_form.WeightRow: the weights the head approves
    scope: list[str]  # the scope's unit names


def _names(user_ids: list[str]) -> dict[str, str]:
    return dict(dbs().execute(select(User.id, User.display_name).where(User.id.in_(user_ids))).all())


def _amounts(plan: Plan) -> list[tuple[str, str]]:
    out = []
    for code, spec in sorted((plan.params.get("categories") or {}).items()):
        if plan.fixed_entities is not None:
            amount = _("fixed list")
        elif spec.get("count"):
            amount = _("%(n)s entities", n=spec["count"])
        else:
            amount = f"{float(spec.get('ratio') or plan.params.get('default_ratio', '0.05')) * 100:g}%"
        out.append((ENTITY_CATEGORIES.get(code, code), amount))
    return out


def _panel(instance: ProcessInstance) -> PlanPanel | None:
    plan = dbs().scalar(select(Plan).where(Plan.instance_id == instance.id))
    inspection = None if plan else service.inspection_of_instance(dbs(), instance.id)
    if inspection is not None:
        plan = dbs().get(Plan, inspection.plan_id)
    witnessed = draw_witness.draw_of_instance(dbs(), instance) if plan is None and inspection is None else None
    if witnessed is not None:  # a re-draw's witness task shows the plan being drawn
        plan = dbs().get(Plan, witnessed.plan_id)
    if plan is None:
        return None
    categories = [inspection.category] if inspection else list(plan.params.get("categories") or {})
    items = list(dbs().scalars(select(InspectionItem).where(InspectionItem.id.in_(plan.item_ids or []),
                                                            InspectionItem.category.in_(categories))
                               .order_by(InspectionItem.code)))
    return PlanPanel(plan, inspection, _amounts(plan), items, _names(list(inspection.inspectors) if inspection else []),
                     weight_rows(plan), scope_names(plan))


@dataclass(frozen=True)
class SignPanel:
    """The draw record a signer signs on their task 签署抽取记录 (what the record states)."""

    record: Any  # signing.DrawRecordData
    plan: Plan
    pending: list[str]
    due_on: date | None
    overdue: bool


def _sign_panel(instance: ProcessInstance) -> SignPanel | None:
    draw = draw_signing.draw_of_instance(dbs(), instance.id)
    plan_row = dbs().get(Plan, draw.plan_id) if draw is not None else None
    if draw is None or plan_row is None:
        return None
    step = draw_signing.status(dbs(), draw)
    return SignPanel(draw_record.record_data(dbs(), draw), plan_row, step.pending, step.due_on, step.overdue)


def task_panel(_actor: Actor, instance: ProcessInstance, _task: HumanTask | None) -> Panel | None:
    if instance.process_key == draw_signing.SIGN_PROCESS:
        sign_view = _sign_panel(instance)
        return Panel("inspections/_sign_panel.html", sign_view) if sign_view is not None else None
    view = _panel(instance)
    return Panel("inspections/_panel.html", view) if view is not None else None


def case_panel(actor: Actor, instance: ProcessInstance) -> Panel | None:
    return task_panel(actor, instance, None)


def _visible_plan(actor: Actor, plan_id: str) -> Plan:
    plan = dbs().get(Plan, plan_id)
    if plan is None or not (actor.is_admin or plan.unit_id in actor.unit_ids):
        abort(404)
    return plan


@bp.before_request
@login_required
@require_roles(*ROLES)
def _staff_only() -> None:
    return None


@bp.get("/plans")
def plans() -> str:
    actor = current_actor()
    stmt = select(Plan).order_by(Plan.created_at.desc(), Plan.code).limit(200)
    if not actor.is_admin:
        stmt = stmt.where(Plan.unit_id.in_(sorted(actor.unit_ids)))
    status = request.args.get("status") or ""
    if status in STATUSES:
        stmt = stmt.where(Plan.status == status)
    return render_template("inspections/plans.html", plans=list(dbs().scalars(stmt)), statuses=STATUSES,
                           kinds=plan_service.KINDS, status=status)


def _units(actor: Actor) -> list[Unit]:
    stmt = select(Unit).where(Unit.active).order_by(Unit.path)
    if not actor.is_admin:
        stmt = stmt.where(Unit.id.in_(sorted(actor.unit_ids)))
    return list(dbs().scalars(stmt))


def _day(values: dict[str, str], name: str, errors: dict[str, list[str]]) -> date | None:
    try:
        return date.fromisoformat(values.get(name, "").strip())
    except ValueError:
        errors.setdefault(name, []).append(_("Enter a date as YYYY-MM-DD."))
        return None


def _categories(form: Any, errors: dict[str, list[str]]) -> dict[str, dict[str, Any]]:
    """Each checked category with its ratio (percent) or count; blank: the default ratio."""
    out: dict[str, dict[str, Any]] = {}
    for code in form.getlist("categories"):
        if code not in ENTITY_CATEGORIES:
            errors.setdefault("categories", []).append(_("Unknown category."))
            continue
        count, percent = (form.get(f"count_{code}") or "").strip(), (form.get(f"percent_{code}") or "").strip()
        try:
            if count:
                out[code] = {"count": int(count)}
            elif percent:
                out[code] = {"ratio": str(float(percent) / 100)}
            else:
                out[code] = {}
        except ValueError:
            errors.setdefault("categories", []).append(_("Enter a whole number of entities or a percentage."))
    return out


@bp.route("/plans/new", methods=["GET", "POST"])
def new_plan() -> Any:
    actor = current_actor()
    units = _units(actor)
    values = {k: request.form.get(k, "") for k in FORM_FIELDS}
    values.setdefault("kind", "annual")
    errors: dict[str, list[str]] = {}
    page = {"units": units, "kinds": plan_service.KINDS, "seeds": plan_service.SEED_SOURCES,
            "categories": ENTITY_CATEGORIES, "form": request.form, "rule_weights": rule_weights(),
            "weight_labels": plan_service.WEIGHT_LABELS, "weight_bounds": plan_service.WEIGHT_BOUNDS}
    if request.method == "GET":
        return render_template("inspections/plan_new.html", values=values, errors=errors, **page)
    start, end = _day(values, "window_start", errors), _day(values, "window_end", errors)
    categories = _categories(request.form, errors)
    exclusions: dict[str, int] = {}
    for key in ("recent_months", "frequency_cap"):
        if values[key].strip():
            try:
                exclusions[key] = int(values[key])
            except ValueError:
                errors.setdefault(key, []).append(_("Enter a whole number."))
    if values["unit_id"] not in {u.id for u in units}:
        errors.setdefault("unit_id", []).append(_("Choose one of your units."))
    scope, weights = scope_of_form(request.form, {u.id for u in units}, errors), weights_of_form(request.form)
    if values["kind"] == "national" and weights:  # a national task's list is given, not drawn by weight
        errors.setdefault("weights", []).append(plan_service.NATIONAL_UNWEIGHTED)
    fixed = [c.strip() for c in values["fixed_entities"].replace(",", "\n").splitlines() if c.strip()]
    if not errors and start and end and values["kind"] == "national":
        plan_id = _national(actor, values, start, end, fixed, errors)
        if plan_id is not None:
            return redirect(url_for("inspections.plan", plan_id=plan_id))
    elif not errors and start and end:
        try:
            plan = plan_service.create_plan(
                dbs(), actor, title=values["title"], kind=values["kind"], unit_id=values["unit_id"],
                window_start=start, window_end=end, categories=categories if values["kind"] != "national" else None,
                fixed_entities=fixed or None, exclusions=exclusions, seed_source=values["seed_source"] or "generated",
                witness_id=values["witness_id"].strip() or None, scope=scope, weights=weights)
        except DirectoryError as exc:
            dbs().rollback()
            errors.setdefault(exc.field or "_", []).append(exc.message)
        else:
            dbs().commit()
            flash(_("Plan %(code)s created as a draft. Check it, then submit it to the head.", code=plan.code),
                  "success")
            return redirect(url_for("inspections.plan", plan_id=plan.id))
    return render_template("inspections/plan_new.html", values=values, errors=errors, **page), 422


MAX_LIST_BYTES = 5 * 1024 * 1024


def _national(actor: Actor, values: dict[str, str], start: date, end: date, fixed: list[str],
              errors: dict[str, list[str]]) -> str | None:
    """A national task from its uploaded list (CSV/XLSX) or the codes typed in: every wrong row
    reported at once under the list, nothing written; the new plan's id when all rows are good."""
    upload = request.files.get("national_list")
    try:
        if upload is not None and upload.filename:
            if not upload.filename.lower().endswith((".csv", ".xlsx")):
                raise national.ImportRefused([national.RowError(0, "-", "名单只能是CSV或者XLSX文件")])
            content = upload.read(MAX_LIST_BYTES + 1)
            if len(content) > MAX_LIST_BYTES:
                raise national.ImportRefused([national.RowError(0, "-", "名单文件超过5 MB")])
            rows: list[dict[str, str]] = national.rows_of_file(upload.filename, content)
            source, digest = f"file:{upload.filename}", national.file_digest(content)
        else:
            rows, source, digest = [{"credit_code": c} for c in fixed], "form", None
        plan = national.create_national_plan(
            dbs(), actor, title=values["title"], unit_id=values["unit_id"], window_start=start, window_end=end,
            rows=rows, source=source, file_sha256=digest, seed_source=values["seed_source"] or "generated",
            witness_id=values["witness_id"].strip() or None)
    except national.ImportRefused as exc:
        dbs().rollback()
        errors.setdefault("fixed_entities", []).extend(national.describe(e) for e in exc.errors)
        return None
    except DirectoryError as exc:
        dbs().rollback()
        errors.setdefault(exc.field or "_", []).append(exc.message)
        return None
    dbs().commit()
    flash(_("National task %(code)s created as a draft with its locked list of %(n)s entities. Check it, then "
            "submit it to the head.", code=plan.code, n=len(plan.fixed_entities or [])), "success")
    return plan.id


@bp.get("/plans/<plan_id>")
def plan(plan_id: str) -> str:
    actor = current_actor()
    row = _visible_plan(actor, plan_id)
    draws = list(dbs().scalars(select(Draw).where(Draw.plan_id == row.id).order_by(Draw.period, Draw.seq)))
    inspections = list(dbs().scalars(select(Inspection).where(Inspection.plan_id == row.id)
                                     .order_by(Inspection.draw_id, Inspection.credit_code)))
    replacements = list(dbs().scalars(select(Replacement).where(Replacement.inspection_id.in_(
        [i.id for i in inspections])).order_by(Replacement.id)))
    people = [u for i in inspections for u in i.inspectors] + [r.replaced for r in replacements] + \
        [r.replacement for r in replacements if r.replacement] + [row.created_by, row.approved_by or "",
                                                                 row.witness_id or ""]
    signatures = draw_signatures(draws)
    people += [u for s in signatures.values() for u in s.pending]
    items = list(dbs().scalars(select(InspectionItem).where(InspectionItem.id.in_(row.item_ids or []))))
    unit = dbs().get(Unit, row.unit_id)
    changes = public_changes.changes_by_item(dbs(), [i.id for i in inspections])
    return render_template("inspections/plan.html", plan=row, draws=draws, inspections=inspections,
                           completion=plan_service.completion(dbs(), row.id),
                           completion_labels=plan_service.COMPLETION_LABELS,
                           replacements=replacements, names=_names(people), items=items, unit=unit,
                           amounts=_amounts(row), weights=weight_rows(row), scope=scope_names(row),
                           statuses=STATUSES, kinds=plan_service.KINDS,
                           draw_statuses=DRAW_STATUSES, inspection_statuses=INSPECTION_STATUSES,
                           outcomes=OUTCOME_NAMES, seeds=plan_service.SEED_SOURCES,
                           may_redraw=actor.is_admin or "head" in actor.roles, today=china_today(),
                           changes=changes, signatures=signatures, me=actor.user_id)


@bp.post("/plans/<plan_id>/submit")
def submit(plan_id: str) -> Response:
    actor = current_actor()
    row = _visible_plan(actor, plan_id)
    try:
        plan_service.submit_plan(dbs(), actor, row.id)
    except DirectoryError as exc:
        dbs().rollback()
        flash(exc.message, "error")
    else:
        dbs().commit()
        dispatch_after_commit(dbs())
        flash(_("Sent to the head for approval."), "success")
    return redirect(url_for("inspections.plan", plan_id=plan_id))


@bp.post("/plans/<plan_id>/schedule")
def make_recurring(plan_id: str) -> Response:
    actor = current_actor()
    row = _visible_plan(actor, plan_id)
    try:
        window = int(request.form.get("window_days") or "60")
    except ValueError:
        window = 0
    try:
        if row.schedule_id is not None:
            raise DirectoryError("该计划已设为周期计划", "schedule")
        scheduling.create_schedule(dbs(), actor, name=request.form.get("name", ""), template_plan_id=row.id,
                                   recurrence_spec=request.form.get("recurrence", ""), window_days=window)
    except DirectoryError as exc:
        dbs().rollback()
        flash(exc.message, "error")
    else:
        dbs().commit()
        flash(_("The plan is now recurring. Once the head approves it, each period is drawn on schedule."), "success")
    return redirect(url_for("inspections.plan", plan_id=plan_id))


@bp.post("/draws/<draw_id>/redraw")
def redraw(draw_id: str) -> Response:
    actor = current_actor()
    old = dbs().get(Draw, draw_id)
    if old is None:
        abort(404)
    _visible_plan(actor, old.plan_id)
    try:
        new = service.redraw(dbs(), actor, draw_id, request.form.get("reason", ""))
    except PermissionDenied:
        dbs().rollback()
        abort(403)
    except ValidationError as exc:
        dbs().rollback()
        messages = exc.messages if isinstance(exc.messages, dict) else {"_": exc.messages}
        flash("；".join(str(m) for v in messages.values() for m in (v if isinstance(v, list) else [v])), "error")
    else:
        dbs().commit()
        dispatch_after_commit(dbs())
        flash(_("Drawn again. The earlier draw is kept, marked as superseded, with your reason.")
              if new.status == "drawn" else
              _("The new draw is committed. The earlier draw is kept, marked as superseded, with your reason; "
                "the witness now has a task to enter the public random value."), "success")
    return redirect(url_for("inspections.plan", plan_id=old.plan_id))


@bp.post("/results/<inspection_id>/public-change")
def public_change(inspection_id: str) -> Response:
    """A head corrects the published inspection date of a disclosed result, or withdraws it."""
    actor = current_actor()
    row = dbs().get(Inspection, inspection_id)
    if row is None:
        abort(404)
    _visible_plan(actor, row.plan_id)
    action, reason = request.form.get("action", ""), request.form.get("reason", "")
    try:
        if action == "withdraw":
            public_changes.withdraw_result(dbs(), actor, row.id, reason=reason)
        elif action == "correct":
            try:
                checked_on = date.fromisoformat(request.form.get("checked_on", ""))
            except ValueError:
                raise DirectoryError("请填写正确的检查日期（年-月-日）", "checked_on") from None
            public_changes.correct_result(dbs(), actor, row.id, checked_on=checked_on, reason=reason)
        else:
            abort(400)
    except DirectoryError as exc:
        dbs().rollback()
        flash(exc.message, "error")
    else:
        dbs().commit()
        flash(_("Withdrawn from the public site; the withdrawal and its reason are public.") if action == "withdraw"
              else _("Corrected on the public site; the correction and its reason are public."), "success")
    return redirect(url_for("inspections.plan", plan_id=row.plan_id))


@bp.get("/results/<inspection_id>/opinion")
def opinion(inspection_id: str) -> Response:
    """The sealed 卫生监督意见书 a 责令改正 result issued (it names the inspectors: staff only)."""
    from processes.penalty.models import Blob
    from processes.penalty.storage import load_blob

    row = dbs().get(Inspection, inspection_id)
    if row is None or row.opinion_sha256 is None:
        abort(404)
    _visible_plan(current_actor(), row.plan_id)
    blob = dbs().get(Blob, row.opinion_sha256)
    if blob is None:
        abort(404)
    response = make_response(load_blob(dbs(), row.opinion_sha256))
    response.headers["Content-Type"] = blob.media_type
    suffix = "pdf" if blob.media_type == "application/pdf" else "html"
    response.headers["Content-Disposition"] = f'inline; filename="opinion-{row.credit_code}.{suffix}"'
    return response


@bp.get("/draws/<draw_id>/verify")
def verify(draw_id: str) -> str:
    actor = current_actor()
    draw = dbs().get(Draw, draw_id)
    if draw is None:
        abort(404)
    plan_row = _visible_plan(actor, draw.plan_id)
    report = verify_draw(dbs(), draw_id)
    return render_template("inspections/verify.html", draw=draw, plan=plan_row, report=report)


def public_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """What a refused form may send back to the browser: never the signing passphrase."""
    return {k: v for k, v in values.items() if k != "passphrase"}


WEB_PACKAGE = WebPackage(
    name="inspections",
    blueprints=(bp, admin_bp, public_bp, sign_bp, rules_bp, ledger_bp, edit_bp),
    task_panel=task_panel,
    case_panel=case_panel,
    public_values=public_values,
    api_blueprints=(api_bp,),
    nav=(NavLink("inspections.plans", _l("Random inspections"), element_id="nav-inspection-plans", roles=ROLES),
         NavLink("inspections_admin.schedules", _l("Inspection schedules"), element_id="nav-inspection-schedules",
                 roles=ROLES),
         NavLink("inspections_admin.imports_index", _l("Inspection directories"), element_id="nav-inspection-imports",
                 roles=frozenset({"head"}))),
    admin_links=(NavLink("inspections_admin.imports_index", _l("Inspection directories")),
                 NavLink("admin_inspection_rules.rules", _l("Inspection rules"), roles=frozenset({"admin"}))),
)

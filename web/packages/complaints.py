"""Complaints and reports on the staff side: the list with filters and counts, exports, statistics,
a clerk's registration of a hotline/phone/letter/visit/referral, the complaint page, and the
complaint panel on task and case pages. The citizen's pages are ``complaints_public``.

The complainant's identity is never on a page by default: the accepting clerk and the assigned
handlers see it only by pressing "show complainant" (a POST, written to the audit chain, as
信访工作条例 and 投诉举报办法 Art. 33 want every look recorded); everyone else sees it redacted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from marshmallow import ValidationError
from sqlalchemy import select
from werkzeug.wrappers import Response

from engine import Actor, PermissionDenied
from engine.clock import china_today
from engine.models import ProcessInstance
from integrations.celery_app import dispatch_after_commit
from processes import complaints
from processes.complaints.identity import identity_for, may_see_identity, redacted
from processes.complaints.models import Complaint, ComplaintEvent
from processes.complaints.records import CHANNELS, KINDS, STATUSES, get_complaint
from processes.directory.models import Entity, Unit
from web.extensions import dbs
from web.security import current_actor, require_roles

from . import NavLink, Panel, WebPackage
from .complaints_admin import bp as admin_bp
from .complaints_public import bp as public_bp

bp = Blueprint("complaints", __name__)
ROLES = frozenset({"complaint_clerk", "officer", "head"})
CLERK_CHANNELS = {k: v for k, v in CHANNELS.items() if k != "portal"}
PAGE = 50
COMPLAINT_PROCESSES = ("complaint", "complaint_received", "complaint_handle", "complaint_recheck")
# The history's internal lines (no public sentence) by kind, so staff read words, not codes.
EVENT_LABELS = {
    "forward_received": "承办单位已接收转办件", "forward_objected": "承办单位对转办提出异议",
    "objection_decided": "已处理管辖异议", "review_passed": "结果审查通过", "review_returned": "结果审查退回重办",
    "merged": "重复件已并入本件", "filing_notice": "已告知举报人立案情况", "rated": "投诉人已评价",
    "mediation_terminated": "调解期限届满，终止调解", "converted_to_report": "投诉转为举报核查",
    "urging_reminder": "到期提醒", "urging_urge": "逾期督办", "urging_escalation": "报请上级督办",
}


@dataclass(frozen=True)
class ComplaintPanel:
    """What a task or case page shows of its complaint (never the identity)."""

    complaint: Complaint
    complainant: dict[str, str]
    may_reveal: bool
    kind: str
    channel: str
    status: str
    may_open: bool = True  # the complaint page opens for this person (else the number is plain text)


def _visible(actor: Actor, complaint: Complaint) -> bool:
    """Its registering and handling units, its handlers, and a unit it was forwarded to or that
    co-handles it: that unit works on it in a case of its own (same tracking number) and must be
    able to open the complaint its task links to before it receives or objects."""
    if actor.is_admin or {complaint.unit_id, complaint.registered_unit_id} & set(actor.unit_ids) \
            or actor.user_id in (complaint.handlers or []):
        return True
    return dbs().scalar(select(ProcessInstance.id).where(
        ProcessInstance.business_key == complaint.tracking_no, ProcessInstance.process_key.in_(COMPLAINT_PROCESSES),
        ProcessInstance.unit_id.in_(sorted(actor.unit_ids))).limit(1)) is not None


def _panel_for(actor: Actor, complaint: Complaint) -> ComplaintPanel:
    may_reveal = may_see_identity(actor, complaint) and not complaint.anonymous
    return ComplaintPanel(complaint, redacted(complaint), may_reveal,
                          KINDS.get(complaint.kind or "", "未分类"), CHANNELS.get(complaint.channel, complaint.channel),
                          STATUSES.get(complaint.status, complaint.status), _may_open(actor, complaint))


def _may_open(actor: Actor, complaint: Complaint) -> bool:
    """What ``show`` lets through: a case page links to the complaint only for those it opens for
    (a legal reviewer sees the case, but the complaint pages are not theirs: no link to a 403)."""
    return (actor.is_admin or bool(actor.roles & ROLES)) and _visible(actor, complaint)


def _complaint_of(instance: ProcessInstance) -> Complaint | None:
    """The complaint an instance works on: the one it runs now, else by its business key (every
    instance of a complaint, forwarded or co-handling, carries the tracking number)."""
    found = dbs().scalar(select(Complaint).where(Complaint.instance_id == instance.id))
    if found is None and instance.business_key:
        found = dbs().scalar(select(Complaint).where(Complaint.tracking_no == instance.business_key))
    return found


def task_panel(actor: Actor, instance: ProcessInstance, _task: Any) -> Panel | None:
    complaint = _complaint_of(instance)
    return Panel("_complaint_panel.html", _panel_for(actor, complaint)) if complaint is not None else None


def case_panel(actor: Actor, instance: ProcessInstance) -> Panel | None:
    return task_panel(actor, instance, None)


def related_panel(actor: Actor, instance: ProcessInstance) -> Panel | None:
    """On a penalty case opened from a report: the complaint it came from (never its complainant)."""
    complaint = dbs().scalar(select(Complaint).where(Complaint.penalty_instance_id == instance.id))
    if complaint is None or not _may_open(actor, complaint):
        return None
    return Panel("_complaint_origin.html", complaint)


def entity_panel(actor: Actor, entity: Any) -> Panel | None:
    """The entity's archived complaint files (一户一档) its unit may see, with manifest hashes;
    complainants stay out of it (the archive itself is a staff file like the case)."""
    archives = complaints.archives_for_entity(dbs(), entity.credit_code)
    rows = [(a, c) for a in archives if (c := dbs().get(Complaint, a.complaint_id)) is not None and _may_open(actor, c)]
    return Panel("_complaint_archives.html", rows) if rows else None


@bp.get("/complaints/archives/<int:archive_id>")
@login_required
@require_roles(*ROLES)
def archive(archive_id: int) -> Response:
    """A closed complaint's archive (ZIP: documents, attachments, history, manifest), for its unit."""
    from io import BytesIO

    from processes.complaints.models import ComplaintArchive, ComplaintBlob

    row = dbs().get(ComplaintArchive, archive_id)
    complaint = dbs().get(Complaint, row.complaint_id) if row is not None else None
    if row is None or complaint is None or not _visible(current_actor(), complaint):
        abort(404)
    blob = dbs().get(ComplaintBlob, row.sha256)
    if blob is None:
        abort(404)
    return send_file(BytesIO(blob.content), mimetype="application/zip", as_attachment=True,
                     download_name=row.file_name, etag=row.sha256)


def api_case_body(_actor: Actor, instance: ProcessInstance) -> dict[str, Any] | None:
    complaint = _complaint_of(instance)
    if complaint is None:
        return None
    return {"tracking_no": complaint.tracking_no, "status": complaint.status, "kind": complaint.kind,
            "channel": complaint.channel, "target": complaint.target_name, "received_on": complaint.received_on,
            "handling_due": complaint.handling_due, "penalty_case_id": complaint.penalty_case_id,
            "complainant": redacted(complaint)}


def _filters() -> complaints.ListFilters:
    args = request.args
    overdue = args.get("overdue") == "1"
    return complaints.ListFilters(
        status=args.get("status") or None, kind=args.get("kind") or None, channel=args.get("channel") or None,
        unit_id=args.get("unit") or None, target=(args.get("target") or "").strip()[:100] or None,
        overdue_on=china_today() if overdue else None)


@bp.get("/complaints")
@login_required
@require_roles(*ROLES)
def index() -> str:
    actor = current_actor()
    filters = _filters()
    page = max(1, min(_int(request.args.get("page"), 1), 10_000))
    rows, total = complaints.list_complaints(dbs(), actor, filters, limit=PAGE, offset=(page - 1) * PAGE)
    units = list(dbs().scalars(select(Unit).where(Unit.id.in_(sorted(actor.unit_ids))).order_by(Unit.path)))
    return render_template("complaints/list.html", rows=rows, total=total, page=page, pages=(total + PAGE - 1) // PAGE,
                           counts=complaints.counts(dbs(), actor), statuses=STATUSES, kinds=KINDS, channels=CHANNELS,
                           units=units, unit_names={u.id: u.name for u in units}, args=request.args)


@bp.get("/complaints/export.<fmt>")
@login_required
@require_roles(*ROLES)
def export(fmt: str) -> Response:
    from io import BytesIO

    actor = current_actor()
    if fmt == "csv":
        content, mimetype = complaints.export_csv(dbs(), actor, _filters()), "text/csv; charset=utf-8"
    elif fmt == "xlsx":
        content = complaints.export_xlsx(dbs(), actor, _filters())
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        abort(404)
    return send_file(BytesIO(content), mimetype=mimetype, as_attachment=True,
                     download_name=f"complaints-{china_today().isoformat()}.{fmt}")


@bp.get("/complaints/statistics")
@login_required
@require_roles(*ROLES)
def statistics() -> str:
    today = china_today()
    start = _date(request.args.get("from")) or today.replace(month=1, day=1)
    end = _date(request.args.get("to")) or today
    if end < start or end - start > timedelta(days=3 * 366):
        start, end = today.replace(month=1, day=1), today
    rows = complaints.statistics(dbs(), current_actor(), start, end)
    totals = {k: sum(r[k] for r in rows) for k in ("received", "replied", "on_time")}
    return render_template("complaints/statistics.html", rows=rows, start=start, end=end, totals=totals)


@bp.route("/complaints/new", methods=["GET", "POST"])
@login_required
@require_roles("complaint_clerk")
def new() -> Any:
    actor = current_actor()
    fields = ("channel", "kind", "target_name", "entity_id", "facts", "request", "reply_channel", "name", "phone",
              "email", "address")
    values = {k: request.form.get(k, "") for k in fields}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        identity = {k: values[k] for k in ("name", "phone", "email", "address") if values[k].strip()}
        files = [f for f in request.files.getlist("attachments") if f and f.filename]
        # picked from the directory (the name typed matches a suggestion): the entity itself, so the
        # inbox, the case and the entity's file (一户一档) know it; else free text (an individual, a
        # business not registered)
        entity = dbs().get(Entity, values["entity_id"][:18]) if values["entity_id"] else None
        try:
            if values["entity_id"] and entity is None:
                raise ValidationError({"target_name": ["名录中没有所选单位，请重新选择，或者只填写名称"]})
            complaint, code = complaints.register_by_clerk(
                dbs(), actor, channel=values["channel"], facts=values["facts"], target_name=values["target_name"],
                entity_id=entity.credit_code if entity else None, entity_name=entity.name if entity else None,
                request=values["request"], kind=values["kind"] or None, identity=identity or None,
                reply_channel=values["reply_channel"] or None,
                attachments=[complaints.Attachment(f.filename or "file", f.read()) for f in files])
        except ValidationError as exc:
            dbs().rollback()
            messages = exc.messages if isinstance(exc.messages, dict) else {"_": exc.messages}
            errors = {k: [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in messages.items()}
        else:
            dbs().commit()
            dispatch_after_commit(dbs())
            flash(_("Registered as %(number)s. Query code for the complainant: %(code)s (tell it now; it is not shown "
                    "again).", number=complaint.tracking_no, code=code), "success")
            return redirect(url_for("complaints.show", complaint_id=complaint.id))
    return render_template("complaints/new.html", values=values, errors=errors, channels=CLERK_CHANNELS,
                           kinds=KINDS), 422 if errors else 200


@bp.get("/complaints/<complaint_id>")
@login_required
@require_roles(*ROLES)
def show(complaint_id: str) -> str:
    actor = current_actor()
    complaint = _get_visible(actor, complaint_id)
    events = list(dbs().scalars(select(ComplaintEvent).where(ComplaintEvent.complaint_id == complaint.id)
                                .order_by(ComplaintEvent.id)))
    return render_template("complaints/show.html", panel=Panel("_complaint_panel.html", _panel_for(actor, complaint)),
                           complaint=complaint, events=events, revealed=None,
                           event_labels=EVENT_LABELS)


@bp.post("/complaints/<complaint_id>/complainant")
@login_required
@require_roles(*ROLES)
def reveal(complaint_id: str) -> Any:
    """The identity, for the clerk and handlers only, each look on the audit chain."""
    actor = current_actor()
    complaint = _get_visible(actor, complaint_id)
    try:
        identity = identity_for(dbs(), actor, complaint, request.form.get("purpose", "") or "handling")
    except PermissionDenied:
        dbs().commit()  # the refused look is recorded too
        abort(403)
    dbs().commit()
    events = list(dbs().scalars(select(ComplaintEvent).where(ComplaintEvent.complaint_id == complaint.id)
                                .order_by(ComplaintEvent.id)))
    response = render_template("complaints/show.html",
                               panel=Panel("_complaint_panel.html", _panel_for(actor, complaint)),
                               complaint=complaint, events=events, revealed=identity,
                               event_labels=EVENT_LABELS)
    return response, 200, {"Cache-Control": "no-store"}


def _get_visible(actor: Actor, complaint_id: str) -> Complaint:
    try:
        complaint = get_complaint(dbs(), complaint_id)
    except Exception:
        abort(404)
    if not _visible(actor, complaint):
        abort(404)
    return complaint


def _int(value: str | None, default: int) -> int:
    try:
        return int(value or "")
    except ValueError:
        return default


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        return None


WEB_PACKAGE = WebPackage(
    name="complaints",
    blueprints=(bp, public_bp, admin_bp),
    task_panel=task_panel,
    case_panel=case_panel,
    entity_panel=entity_panel,
    related_panel=related_panel,
    api_case_body=api_case_body,
    api_case_description="for complaints: tracking number, status, type, channel, target, dates (complainant redacted)",
    nav=(NavLink("complaints.index", _l("Complaints"), element_id="nav-complaints", roles=ROLES),
         NavLink("complaints.new", _l("Register a complaint"), element_id="nav-new-complaint",
                 roles=frozenset({"complaint_clerk"}))),
    admin_links=(NavLink("admin_complaint_rules.rules", _l("Complaint rules"), roles=frozenset({"admin"})),),
)

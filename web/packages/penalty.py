"""Administrative penalty cases (行政处罚) in the web: the penalty package's ``WEB_PACKAGE`` (panels on
the task and case pages, the API's ``penalty`` member, the evidence-file reader, nav and admin
links) and its pages: the case register, documents and evidence, recusal and extension requests,
new leads and on-the-spot decisions, and the case-card export.

Penalty task forms are submitted by the generic task page and API through the package's submit
hook (``processes.penalty.submit_task``: schema, legal checks, engine, register in one call; see
``web.packages.submit_form``); a refusal comes back as Chinese messages per field, the
transaction is rolled back and the form comes back (422). The messages stay Chinese here; pages
and the API show them in the UI language (``web.i18n.domain_text``).
Evidence files are kept in the upload store (so a correction need not upload again) and stored
as penalty blobs (same SHA-256) right before the submission that references them
(``store_evidence``, the package's ``prepare_submission``).
The signing passphrase (``SECRET_FIELDS``) is never echoed, logged, stored or put in task data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from marshmallow import ValidationError
from sqlalchemy import select
from werkzeug.wrappers import Response

import signing
from engine import Actor, NotFound
from engine import permissions as perm
from engine.models import HumanTask, ProcessInstance
from forms import RegisteredForm, UploadRejected
from forms.registry import _flatten
from forms.uploads import KINDS, safe_filename
from integrations.celery_app import dispatch_after_commit
from processes import penalty
from processes.directory.files import grant_upload, may_reference
from processes.directory.models import Unit
from processes.directory.services import display_names, search_entities
from processes.penalty.forms_endings import ENDING_KINDS
from processes.penalty.models import Blob, CaseArchive, CaseDocument, CaseRecord, DeadlineNotice, PenaltyCase
from processes.penalty.seal import document_seals
from web.casework import schema_specs, upload_store, visible_instance
from web.extensions import dbs
from web.i18n import domain_text
from web.security import current_actor, require_roles

from . import NavLink, Panel, WebPackage
from .penalty_admin import bp as admin_bp
from .penalty_api import api_bp
from .penalty_api import blp as api_admin_bp
from .penalty_reports import bp as reports_bp

bp = Blueprint("penalty", __name__)
PREFIX = "penalty."
SIGN_FORM = "penalty.deliberation_sign"
# Tasks decided on the deliberation record: it is shown above their form, as on the signing task.
RECORD_FORMS = frozenset({SIGN_FORM, "penalty.legal_review", "penalty.collective_discussion",
                          "penalty.decision_approval"})
SECRET_FIELDS = frozenset({"passphrase"})
EVIDENCE_KINDS = tuple(KINDS)
Errors = dict[str, list[str]]

STATUS_LABELS = {"lead": "案源登记", "filed": "已立案", "deliberated": "已合议", "notified": "已事先告知",
                 "decided": "已作出处罚决定", "served": "已送达", "returned": "退回补正", "summary": "简易程序",
                 "closed": "已结案", "archived": "已归档", "not_filed": "不予立案", "transfer_decided": "已批准移送",
                 "transferred": "已移送", "withdrawn": "已撤销立案", "terminated": "已终止调查"}
PROCEDURE_LABELS = {"ordinary": "一般程序", "summary": "简易程序"}


def is_penalty_form(form_key: str | None) -> bool:
    return bool(form_key) and str(form_key).startswith(PREFIX)


# -- reading and submitting a form ---------------------------------------------------------

def read_files(name: str, max_bytes: int) -> tuple[list[dict[str, str]], list[str]]:
    """The evidence files of a ``files`` field: kept ones (hidden inputs) plus new uploads."""
    items: list[dict[str, str]] = []
    errors: list[str] = []
    for sha, filename in zip(request.form.getlist(f"{name}__sha256"), request.form.getlist(f"{name}__filename"),
                             strict=False):
        if sha:
            items.append({"title": filename, "file_name": filename, "sha256": sha})
    store = upload_store()
    granted = False
    for upload in request.files.getlist(name):
        if not upload or not upload.filename:
            continue
        try:
            stored = store.save(upload.stream, upload.filename, EVIDENCE_KINDS, max_bytes)
        except UploadRejected as exc:
            errors.append(str(exc))
            continue
        grant_upload(dbs(), stored.sha256, current_actor().user_id)
        granted = True
        if all(i["sha256"] != stored.sha256 for i in items):
            items.append({"title": stored.filename, "file_name": stored.filename, "sha256": stored.sha256})
    if granted:
        dbs().commit()  # the file is on disk whatever the form's fate: so is the right to name it again
    return items, errors


def _file_lists(form: RegisteredForm) -> list[str]:
    return [spec.name for spec in schema_specs(form.schema).values() if spec.widget == "files"]


def store_evidence(actor: Actor, task: HumanTask, form: RegisteredForm | None, data: Mapping[str, Any]) -> Errors:
    """Copy every referenced upload into the penalty blob store (same SHA-256).

    Only files the officer uploaded, or that are already evidence of this case, may be named:
    a hash of another unit's file is refused as if it did not exist."""
    fields = _file_lists(form) if form is not None else []
    if not fields:
        return {}  # a form without file lists names no upload: nothing to look up
    store = upload_store()
    errors: Errors = {}
    case = penalty_case(task.instance_id)
    known = frozenset(item["sha256"] for item in evidence_files(case)) if case is not None else frozenset()
    for name in fields:
        value = data.get(name)
        for item in value if isinstance(value, list) else []:
            sha = str(item.get("sha256") or "") if isinstance(item, Mapping) else ""
            if sha and not may_reference(dbs(), sha, actor.user_id, task.instance_id, known):
                errors.setdefault(name, []).append(_("The file “%(name)s” is lost; please upload it again.",
                                                     name=item.get("file_name") or sha[:12]))
                continue
            if not sha or dbs().get(Blob, sha) is not None:
                continue
            info = store.info(sha)
            if info is None:
                errors.setdefault(name, []).append(_("The file “%(name)s” is lost; please upload it again.",
                                                     name=item.get("file_name") or sha[:12]))
                continue
            penalty.store_blob(dbs(), store.path(sha).read_bytes(), info.content_type)
    return errors


def public_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """What may be sent back to the browser: never the passphrase."""
    return {k: v for k, v in values.items() if k not in SECRET_FIELDS}


# -- the case register on the page -----------------------------------------------------------

@dataclass
class Deliberation:
    record_id: str
    html: str = ""
    report: signing.RecordVerification | None = None
    problem: str = ""


@dataclass
class PenaltyView:
    case: PenaltyCase
    status_label: str
    procedure_label: str
    documents: list[CaseDocument]
    evidence: list[dict[str, Any]]
    reminders: list[DeadlineNotice]
    deliberation: Deliberation | None
    can_request: bool = False
    people: dict[str, str] = field(default_factory=dict)
    seals: dict[int, signing.PdfSealReport] = field(default_factory=dict)  # document id -> seal check
    ending_kinds: dict[str, str] = field(default_factory=lambda: dict(ENDING_KINDS))  # the request form's choices


def penalty_case(instance_id: str) -> PenaltyCase | None:
    return dbs().scalar(select(PenaltyCase).where(PenaltyCase.instance_id == instance_id))


def deliberation(case: PenaltyCase, with_html: bool = True) -> Deliberation | None:
    if not case.deliberation_record_id:
        return None
    result = Deliberation(case.deliberation_record_id)
    try:
        result.report = signing.verify_record(dbs(), case.deliberation_record_id)
        if with_html:
            record = signing.get_record(dbs(), case.deliberation_record_id)
            result.html = signing.render_html(record.record_xml, result.report)
    except signing.SigningError as exc:
        result.problem = str(exc)
    if result.report is not None and result.report.record_problem:
        result.problem = result.report.record_problem
    return result


def evidence_files(case: PenaltyCase) -> list[dict[str, Any]]:
    files: list[dict[str, Any]] = []
    seen: set[str] = set()
    for record in dbs().scalars(select(CaseRecord).where(CaseRecord.case_id == case.id).order_by(CaseRecord.id)):
        for item in (record.content or {}).get("files") or []:
            if isinstance(item, Mapping) and item.get("sha256") and item["sha256"] not in seen:
                seen.add(item["sha256"])
                files.append({"record": record.title, "file_name": item.get("file_name") or item.get("title"),
                              "sha256": item["sha256"]})
    return files


def penalty_view(actor: Actor, instance: ProcessInstance, with_html: bool = True) -> PenaltyView | None:
    case = penalty_case(instance.id)
    if case is None:
        return None
    reminders = list(dbs().scalars(select(DeadlineNotice).where(DeadlineNotice.case_id == case.id)
                                   .order_by(DeadlineNotice.created_at.desc(), DeadlineNotice.id.desc()).limit(50)))
    can_request = instance.status == "running" and case.procedure == "ordinary" and case.case_number is not None \
        and case.decided_on is None and perm.can_start(actor, case.unit_id)
    documents = penalty.documents_of(dbs(), case.id)
    found = deliberation(case, with_html)
    unsigned = found.report.unsigned_members if found and found.report else ()  # named, not by login
    return PenaltyView(case, STATUS_LABELS.get(case.status, case.status),
                       PROCEDURE_LABELS.get(case.procedure, case.procedure), documents,
                       evidence_files(case), reminders, found, can_request,
                       people=display_names(dbs(), unsigned), seals=document_seals(dbs(), documents))


def penalty_body(view: PenaltyView) -> dict[str, Any]:
    """The case register as JSON (the API's ``penalty`` member)."""
    c = view.case
    return {
        "case_id": c.id, "case_number": c.case_number, "procedure": c.procedure, "status": c.status,
        "status_label": domain_text(view.status_label), "filed_on": _iso(c.filed_on),
        "decision_due": _iso(c.decision_due),
        "extensions": c.extensions or [], "decided_on": _iso(c.decided_on), "payment_due": _iso(c.payment_due),
        "approved_penalty": c.approved_penalty, "overdue_decision": c.overdue_decision,
        "reminders": [{"kind": r.kind, "role": r.role, "message": r.message, "due": _iso(r.due)}
                      for r in view.reminders],
        "documents": [{"id": d.id, "doc_type": d.doc_type, "title": d.title, "number": d.number,
                       "file_name": d.file_name, "sha256": d.sha256,
                       "url": url_for("penalty.document", document_id=d.id),
                       "seal": view.seals[d.id].to_dict() if d.id in view.seals else None} for d in view.documents],
        "deliberation": view.deliberation.report.to_dict()
        if view.deliberation and view.deliberation.report else None,
    }


def task_panel(actor: Actor, instance: ProcessInstance, task: HumanTask) -> Panel | None:
    """The case number, status and decision due above a penalty task's form; the execution summary
    on payment tasks; the deliberation record (rendered) on the signing, legal review, collective
    discussion and approval tasks (a head approving saw an empty "合议记录" heading)."""
    if not is_penalty_form(task.form_key):
        return None
    view = penalty_view(actor, instance, with_html=task.form_key in RECORD_FORMS)
    return Panel("_penalty_task.html", view) if view is not None else None


def case_panel(actor: Actor, instance: ProcessInstance) -> Panel | None:
    view = penalty_view(actor, instance)
    return Panel("_penalty_case.html", view) if view is not None else None


def entity_panel(actor: Actor, entity: Any) -> Panel | None:
    """The entity's archived penalty case files (一户一档), each with its manifest's SHA-256."""
    archives = penalty.archives_for_entity(dbs(), credit_code=entity.credit_code)
    visible = [a for a in archives if perm.can_see_unit(actor, (dbs().get(PenaltyCase, a.case_id) or entity).unit_id)]
    return Panel("_penalty_archives.html", visible) if visible else None


def api_case_body(actor: Actor, instance: ProcessInstance) -> dict[str, Any] | None:
    view = penalty_view(actor, instance, with_html=False)
    return penalty_body(view) if view is not None else None


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def visible_case(actor: Actor, case_id: str) -> PenaltyCase:
    case = dbs().get(PenaltyCase, str(case_id))
    if case is None:
        raise NotFound("no such penalty case", case_id=str(case_id))
    visible_instance(actor, case.instance_id)
    return case


# -- routes ----------------------------------------------------------------------------------

def _blob_response(sha256: str, filename: str) -> Response:
    from io import BytesIO

    blob = dbs().get(Blob, sha256)
    if blob is None:
        abort(404)
    content = penalty.load_blob(dbs(), sha256)
    return send_file(BytesIO(content), mimetype=blob.media_type, as_attachment=True,
                     download_name=safe_filename(filename), etag=sha256)  # names stored before uploads were cleaned


@bp.get("/penalty/archives/<int:archive_id>")
@login_required
def archive(archive_id: int) -> Response:
    """A closed case's archive (ZIP: documents, evidence, audit trail, manifest), for its unit."""
    return _case_file(dbs().get(CaseArchive, archive_id))


@bp.get("/penalty/documents/<int:document_id>")
@login_required
def document(document_id: int) -> Response:
    return _case_file(dbs().get(CaseDocument, document_id))


def _case_file(row: CaseArchive | CaseDocument | None) -> Response:
    """A stored file of a case (a document or the archive), only for those who see the case."""
    if row is None:
        abort(404)
    visible_case(current_actor(), row.case_id)
    return _blob_response(row.sha256, row.file_name)


@bp.get("/penalty/cases/<case_id>/files/<sha256>")
@login_required
def evidence(case_id: str, sha256: str) -> Response:
    case = visible_case(current_actor(), case_id)
    for item in evidence_files(case):
        if item["sha256"] == sha256:
            return _blob_response(sha256, str(item["file_name"] or sha256))
    abort(404)


def export_cards(cards: list[dict[str, Any]], fmt: str, stem: str) -> Response:
    from io import BytesIO

    if fmt == "csv":
        content, mimetype = penalty.to_csv(cards), "text/csv; charset=utf-8"
    else:
        content = penalty.to_xlsx(cards)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return send_file(BytesIO(content), mimetype=mimetype, as_attachment=True, download_name=f"{stem}.{fmt}")


def joined_messages(exc: ValidationError) -> str:
    """A service's refusal as one flash line, in the UI language."""
    return _("; ").join(domain_text(m) for ms in _flatten(exc.messages).values() for m in ms)


def _back(case: PenaltyCase) -> Response:
    return redirect(url_for("cases.show", instance_id=case.instance_id))


@bp.post("/penalty/cases/<case_id>/recusal")
@login_required
def recusal(case_id: str) -> Response:
    actor = current_actor()
    case = visible_case(actor, case_id)
    try:
        penalty.apply_for_recusal(dbs(), actor, case.id, request.form.get("officer_id", ""),
                                  request.form.get("reason", "")[:2000],
                                  applicant=(request.form.get("applicant", "") or "当事人")[:100])
    except ValidationError as exc:
        dbs().rollback()
        flash(joined_messages(exc), "error")
        return _back(case)
    dbs().commit()
    dispatch_after_commit(dbs())
    flash(_("The recusal application is recorded; the head will decide."), "success")
    return _back(case)


@bp.post("/penalty/cases/<case_id>/extension")
@login_required
def extension(case_id: str) -> Response:
    actor = current_actor()
    case = visible_case(actor, case_id)
    try:
        penalty.request_extension(dbs(), actor, case.id, request.form.get("reason", "")[:2000])
    except ValidationError as exc:
        dbs().rollback()
        flash(joined_messages(exc), "error")
        return _back(case)
    dbs().commit()
    dispatch_after_commit(dbs())
    flash(_("The request for a longer case period went to the head for approval."), "success")
    return _back(case)


@bp.post("/penalty/cases/<case_id>/ending")
@login_required
def ending(case_id: str) -> Response:
    """Ask the head to transfer the case (police or competent agency), withdraw it or end it."""
    actor = current_actor()
    case = visible_case(actor, case_id)
    try:
        penalty.request_ending(dbs(), actor, case.id, request.form.get("kind", ""),
                               request.form.get("reason", "")[:2000], receiver=request.form.get("receiver", "")[:200])
    except ValidationError as exc:
        dbs().rollback()
        flash(joined_messages(exc), "error")
        return _back(case)
    dbs().commit()
    dispatch_after_commit(dbs())
    flash(_("The request went to the head for a decision."), "success")
    return _back(case)


@bp.route("/penalty/new", methods=["GET", "POST"])
@login_required
@require_roles("officer", "head")
def new_case() -> str | Response | tuple[str, int]:
    """新建案源 (ordinary procedure) or 当场处罚 (summary procedure)."""
    actor = current_actor()
    procedure = request.values.get("procedure", "ordinary")
    if procedure not in penalty.PROCESS_KEYS:
        procedure = "ordinary"
    units = list(dbs().scalars(select(Unit).where(Unit.id.in_(sorted(actor.unit_ids))).order_by(Unit.path)))
    entities = search_entities(dbs(), actor, "", limit=300)
    values = {"unit": request.form.get("unit", ""), "entity": request.form.get("entity", "")}
    errors: dict[str, str] = {}
    if request.method == "POST":
        unit = next((u for u in units if u.id == (values["unit"] or (units[0].id if units else ""))), None)
        if unit is None or not perm.can_start(actor, unit.id):
            errors["unit"] = _("Choose one of your units.")
        entity = next((e for e in entities if e.credit_code == values["entity"]), None)
        if values["entity"] and entity is None:
            errors["entity"] = _("No such supervised entity in your jurisdiction.")
        if not errors and unit is not None:
            prefill = {"entity_id": entity.credit_code, "entity_name": entity.name,
                       "credit_code": entity.credit_code} if entity else {}
            try:
                case = penalty.start_case(dbs(), actor, unit_id=unit.id, unit_name=unit.name,
                                          unit_short_name=unit.short_name or unit.name[:2],
                                          procedure=procedure, prefill=prefill)
            except ValidationError as exc:
                dbs().rollback()
                errors["_"] = joined_messages(exc)
            else:
                dbs().commit()
                dispatch_after_commit(dbs())
                task = dbs().scalar(select(HumanTask).where(HumanTask.instance_id == case.instance_id,
                                                            HumanTask.status == "ready"))
                flash(_("The lead is registered; please fill in the lead form.") if procedure == "ordinary"
                      else _("Please fill in the on-the-spot penalty decision."), "success")
                if task is not None:
                    return redirect(url_for("tasks.show", task_id=task.id))
                return redirect(url_for("cases.show", instance_id=case.instance_id))
    title = _("New lead") if procedure == "ordinary" else _("On-the-spot penalty (summary procedure)")
    return render_template("penalty_new.html", title=title, procedure=procedure, units=units, entities=entities,
                           values=values, errors=errors), 422 if errors else 200


@bp.get("/reports/casecards")
@login_required
@require_roles("head", "legal_reviewer", "officer")
def casecards() -> str | Response | tuple[str, int]:
    """一案一卡: the cards of the cases decided, served (first report) or closed (second report) in a
    date range, as CSV or XLSX; the report deadlines are at ``card_reports.due``."""
    actor = current_actor()
    error = ""
    date_from = request.args.get("from", "")
    date_to = request.args.get("to", "")
    fmt = request.args.get("format", "")
    selection = request.args.get("report", "decided")
    if selection not in penalty.CARD_SELECTIONS:
        error, fmt = _("Choose which cases to export."), ""
    if fmt:
        try:
            start, end = date.fromisoformat(date_from), date.fromisoformat(date_to)
        except ValueError:
            error = _("Enter both dates as YYYY-MM-DD.")
        else:
            if end < start:
                error = _("The end date cannot be before the start date.")
            elif fmt not in ("csv", "xlsx"):
                error = _("The format must be CSV or XLSX.")
            else:
                cards = penalty.case_cards(dbs(), date_from=start, date_to=end, report=selection,
                                           unit_ids=None if actor.is_admin else actor.unit_ids)
                return export_cards(cards, fmt, f"一案一卡-{start:%Y%m%d}-{end:%Y%m%d}")
    return render_template("casecards.html", date_from=date_from, date_to=date_to, error=error,
                           selection=selection, selections=penalty.CARD_SELECTIONS), 422 if error else 200


START_ROLES = frozenset({"officer", "head"})

from .penalty_filing import bp as filing_bp  # noqa: E402 - it uses this module's helpers defined above

WEB_PACKAGE = WebPackage(
    name="penalty",
    blueprints=(bp, reports_bp, admin_bp, filing_bp),
    api_blueprints=(api_bp, api_admin_bp),
    task_panel=task_panel,
    case_panel=case_panel,
    entity_panel=entity_panel,
    api_case_body=api_case_body,
    api_case_description="for penalty cases: case number, status, deadlines, reminders, documents, deliberation",
    file_readers={"files": read_files},
    prepare_submission=store_evidence,
    public_values=public_values,
    nav=(NavLink("penalty.new_case", _l("New lead"), element_id="nav-new-lead", roles=START_ROLES),
         NavLink("penalty.new_case", _l("On-the-spot penalty"), {"procedure": "summary"}, "nav-summary",
                 START_ROLES),
         NavLink("penalty.casecards", _l("Case cards"), roles=START_ROLES)),
    admin_links=(NavLink("admin_rules.rules", _l("Penalty rules"), roles=frozenset({"admin"})),
                 NavLink("admin_rules.tables", _l("Decision tables"), roles=frozenset({"admin"}))),
)

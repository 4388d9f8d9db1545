"""Service-task operators of the penalty processes (BPMN ``serviceTaskOperator`` ids).

They run asynchronously through the engine's outbox, in the job's transaction, and return a
JSON result that the engine stores in task data and in the audit event
``service_task_completed`` (so each document's SHA-256 is in the hash-chained audit trail).
Operators do not see the engine clock: the BPMN passes ``as_of`` (``today()`` when the task
was reached), which keeps them deterministic under frozen time and on retries.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import asdict
from datetime import date
from typing import Any

from sqlalchemy import select

import signing
from engine import OperatorContext
from engine import operator as engine_operator
from engine.models import OutboxJob
from engine.scripting import load_calendar
from processes.registry import EntityEvent, entity_event

from . import archive, deliberation, documents, reporting
from .execution import execution_state, fen
from .law import Penalty
from .models import DeadlineNotice, ExecutionEvent, PenaltyCase
from .numbering import allocate_case_number
from .rule_overrides import rules_for_case
from .storage import store_blob

Operator = Callable[[dict[str, Any], OperatorContext], dict[str, Any]]


def operator(name: str, description: str) -> Callable[[Operator], Operator]:
    """``engine.operator``, running the operator once per service task even if it was queued twice.

    Why: the engine queues two outbox jobs for a service task inside a call activity (its task
    list counts subprocess tasks twice); the engine skips the resume of whichever job comes
    second, but would still run its operator. The case row is locked first (jobs of one case run
    one at a time), then a job whose task another job already completed does nothing.
    """

    def decorate(func: Operator) -> Operator:
        @functools.wraps(func)
        def once(params: dict[str, Any], ctx: OperatorContext) -> dict[str, Any]:
            _case(ctx, params)
            job = ctx.session.get(OutboxJob, ctx.job_id)
            if job is not None:
                done = ctx.session.scalar(select(OutboxJob.id).where(
                    OutboxJob.task_id == job.task_id, OutboxJob.id != job.id, OutboxJob.status == "done").limit(1))
                if done is not None:
                    return {"duplicate_of": done}
            return func(params, ctx)

        engine_operator(name, description)(once)
        return func

    return decorate


def _case(ctx: OperatorContext, params: dict[str, Any]) -> PenaltyCase:
    case = ctx.session.get(PenaltyCase, params["case_id"], with_for_update=True)
    if case is None:
        raise LookupError(f"no penalty case {params['case_id']}")
    return case


def _as_of(params: dict[str, Any]) -> date:
    return date.fromisoformat(str(params["as_of"]))


@operator("penalty.allocate_case_number", "分配案件编号：按单位、类别、年度连续编号（立案/当场决定）")
def allocate_number(params: dict[str, Any], ctx: OperatorContext) -> dict[str, Any]:
    case = _case(ctx, params)
    number = allocate_case_number(ctx.session, case, rules_for_case(ctx.session, case.id), int(params["year"]))
    ctx.set_business_key(number)
    return {"case_number": number, "year": case.number_year, "seq": case.number_seq}


@operator("penalty.close_lead", "不予立案：记录状态与理由（超过追责时效或负责人不批准）")
def close_lead(params: dict[str, Any], ctx: OperatorContext) -> dict[str, Any]:
    case = _case(ctx, params)
    case.status, case.status_reason = str(params["status"]), str(params.get("reason") or "")
    return {"status": case.status, "reason": case.status_reason}


@operator("penalty.sync_deadline", "登记立案日期与办案期限（含延期）")
def sync_deadline(params: dict[str, Any], ctx: OperatorContext) -> dict[str, Any]:
    case = _case(ctx, params)
    if params.get("filed_on"):
        case.filed_on = date.fromisoformat(params["filed_on"])
        case.status = "filed"
    case.decision_due = date.fromisoformat(params["decision_due"])
    case.extensions = list(params.get("extensions") or [])
    return {"decision_due": case.decision_due.isoformat(), "extensions": len(case.extensions)}


@operator("penalty.record_approval", "登记负责人批准的处罚（决定书须与之一致，第五十七条）")
def record_approval(params: dict[str, Any], ctx: OperatorContext) -> dict[str, Any]:
    case = _case(ctx, params)
    case.approved_penalty = Penalty.of(params.get("penalty")).as_data()
    case.status_reason = None
    return {"approved_penalty": case.approved_penalty}


NOTICES = {
    "filing_overdue": ("head", "立案审批已超过期限（{due}），请尽快决定是否立案。"),
    "preservation_reminder": ("officer", "先行登记保存的证据须在{due}前作出处理决定（第五十六条）。"),
    "preservation_overdue": ("head", "先行登记保存的证据已超过处理期限（{due}），请督办。"),
    "decision_first_reminder": ("officer", "本案应在{due}前作出处罚决定（立案之日起九十日，第六十条）。"),
    "decision_final_reminder": ("head", "本案办案期限将于{due}届满，请督促承办人作出决定或者报批延期。"),
    "decision_overdue": ("head", "本案已超过办案期限（{due}）仍未作出决定，请督办。"),
}


@operator("penalty.deadline_notice", "期限提醒/超期督办：写入提醒记录，由收件箱展示")
def deadline_notice(params: dict[str, Any], ctx: OperatorContext) -> dict[str, Any]:
    kind = str(params["kind"])
    role, text = NOTICES[kind]
    due = date.fromisoformat(str(params["due"])[:10]) if params.get("due") else None
    case = ctx.session.get(PenaltyCase, params["case_id"])
    if kind == "filing_overdue" and case is not None and case.filing_extension:  # extended in time: not late
        return {"notice_id": None, "kind": kind, "role": role, "skipped": "filing_extended"}
    row = DeadlineNotice(case_id=params["case_id"], kind=kind, role=role,
                         message=text.format(due=documents.cn_date(due)), due=due)
    ctx.session.add(row)
    ctx.session.flush()
    return {"notice_id": row.id, "kind": kind, "role": role}


@operator("penalty.generate_document", "生成执法文书（PDF），按SHA-256存储")
def generate_document(params: dict[str, Any], ctx: OperatorContext) -> dict[str, Any]:
    case = _case(ctx, params)
    rules = rules_for_case(ctx.session, case.id)
    doc_type, data = str(params["doc_type"]), dict(params.get("data") or {})
    periods = params.get("periods") or {}
    if doc_type == "prior_notice":
        case.notified_penalty = data.get("penalty")
        case.hearing_right = bool(data.get("hearing_right"))
    elif doc_type == "urge_notice":  # 催告书: the amounts owed on the day it is made, the case's own periods
        from .checks_execution import execution_state_of

        state = execution_state_of(ctx.session, case, _as_of(params))
        data = state.as_data() if state is not None else data
        periods = asdict(rules.periods)
    document = documents.generate(ctx.session, case, rules, doc_type, data, periods,
                                  _as_of(params), job_id=ctx.job_id)
    if doc_type in ("decision", "summary_decision"):  # the decision is made: its disclosure step starts now
        _tell_decided(ctx, case)
    return {"document_id": document.id, "doc_type": doc_type, "title": document.title, "number": document.number,
            "file_name": document.file_name, "sha256": document.sha256}


@operator("penalty.prepare_deliberation_record", "统计合议意见；形成多数意见的，生成待签名的合议记录")
def prepare_deliberation_record(params: dict[str, Any], ctx: OperatorContext) -> dict[str, Any]:
    case = _case(ctx, params)
    rules = rules_for_case(ctx.session, case.id)
    members, opinions = list(params["members"]), list(params["opinions"])
    result = deliberation.tally(members, opinions)
    answer: dict[str, Any] = {"majority": result.majority, "votes": result.counts, "conclusion": result.conclusion}
    if not result.majority:
        return answer
    record_id = deliberation.build_record(ctx.session, case, members, opinions, dict(params.get("report") or {}),
                                         result, _as_of(params), rules.staffing.min_deliberation_members)
    penalty = (result.penalty or Penalty(())).as_data()
    case.deliberation_record_id = record_id
    case.proposed_penalty = penalty if result.outcome == "penalty" else None
    case.status = "deliberated"
    return {**answer, "outcome": result.outcome, "penalty": penalty, "record_id": record_id}


@operator("penalty.finalize_deliberation", "验证全部合议人员签名，生成合议记录PDF")
def finalize_deliberation(params: dict[str, Any], ctx: OperatorContext) -> dict[str, Any]:
    case = _case(ctx, params)
    record_id = str(params["record_id"])
    verification = signing.verify_record(ctx.session, record_id)
    if not verification.complete:
        raise RuntimeError(f"deliberation record {record_id} is not completely signed: "
                           f"unsigned {verification.unsigned_members}")
    record = signing.get_record(ctx.session, record_id)
    if documents.pdf_enabled():
        content, media = signing.render_pdf(record.record_xml, verification), "application/pdf"
    else:
        content, media = signing.render_html(record.record_xml, verification).encode(), "text/html; charset=utf-8"
    document = documents.store_document(ctx.session, case, "deliberation_record", content, media, number=None,
                                        job_id=ctx.job_id)
    for xml in signing.signature_documents(ctx.session, record_id).values():
        store_blob(ctx.session, xml, "application/xml")
    return {"record_id": record_id, "record_sha256": record.record_sha256, "document_sha256": document.sha256,
            "signatures": len(verification.signatures)}


@operator("penalty.execution_state", "计算执行状态：缴款期限、加处罚款、复议诉讼、强制执行时点")
def compute_execution_state(params: dict[str, Any], ctx: OperatorContext) -> dict[str, Any]:
    case = _case(ctx, params)
    events = list(ctx.session.scalars(select(ExecutionEvent).where(ExecutionEvent.case_id == case.id)))
    decided = Penalty.of(case.decided_penalty)
    state = execution_state(rules_for_case(ctx.session, case.id), decided.fine, decided.confiscation,
                            date.fromisoformat(params["payment_due"]), date.fromisoformat(params["served_on"]),
                            events, _as_of(params))
    if state.revoked or state.settled or state.status != case.execution_status:
        case.execution_status = state.status
    case.payment_due = state.payment_due
    case.surcharge_fen = fen(state.surcharge)  # so far (final once settled)
    if state.fine != decided.fine:  # changed by reconsideration or a judgment
        case.fine_fen = fen(state.fine)
    _tell_decided(ctx, case)
    return state.as_data()


def _tell_decided(ctx: OperatorContext, case: PenaltyCase) -> None:
    """Every decided case is told (an individual's with credit code ""): a registered entity's goes
    into the inspections' risk ledger, and every decision gets its disclosure step 公示行政处罚决定
    (once per case: the handlers ignore a case they already recorded; a revoked one is withdrawn).
    A 不予行政处罚 decision (``no_penalty_ground``) is no penalty: no risk entry, nothing to disclose."""
    if case.decided_on is not None and "no_penalty_ground" not in (case.decided_penalty or {}):
        label = case.case_number or str(case.id)
        entity_event(ctx.session, EntityEvent("penalty_decided", case.credit_code or case.entity_id or "",
                                              f"penalty:{case.id}", f"作出行政处罚决定（{label}）", case.decided_on))


ENDED_STATUSES = frozenset({"transferred", "withdrawn", "terminated"})
"""Cases closed by an ending (``checks_endings.ENDED_STATUS``): archived like the others, status kept."""


@operator("penalty.archive_case", "结案归档：案卷（文书、证据、签名、审计记录）打包为ZIP并生成SHA-256清单")
def archive_case(params: dict[str, Any], ctx: OperatorContext) -> dict[str, Any]:
    case = _case(ctx, params)
    row = archive.build_archive(ctx.session, case, _as_of(params), job_id=ctx.job_id)
    _tell_decided(ctx, case)
    ended = case.status in ENDED_STATUSES  # transferred/withdrawn/terminated: keep how and when it ended
    if not ended or case.closed_on is None:
        case.closed_on = _as_of(params)
    if not ended:
        case.status = "closed"
    if case.decided_on is not None or ended:  # 一案一卡: the second report is due after closing
        case.card_second_due = reporting.second_report_due(load_calendar(ctx.session),
                                                           rules_for_case(ctx.session, case.id), case.closed_on)
    return {"sha256": row.sha256, "manifest_sha256": row.manifest_sha256, "file_name": row.file_name}


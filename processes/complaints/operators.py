"""Service-task operators of the complaint processes (BPMN ``serviceTaskOperator`` ids).

They run through the engine's outbox in the job's transaction; their JSON result lands in the
task data and in the audit event ``service_task_completed``. Like penalty's, they never read
the engine clock: the BPMN passes ``as_of`` (``today()`` when the task was reached). Every
deadline comes from ``deadlines`` with the complaint's own rules, and the register row is the
authority for a due date (a paused period moves it; a timer that wakes early finds nothing due).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import func, select

from engine import OperatorContext
from engine import operator as engine_operator
from engine.clock import china_today
from engine.scripting import load_calendar
from processes.registry import EntityEvent, entity_event

from . import deadlines, feedback
from .archive import build_archive
from .models import Complaint, UrgingRecord
from .records import KINDS, OTHER_CHANNELS, REFUSAL_GROUNDS, get_complaint, log, unit_info
from .rule_store import rules_of

Operator = Callable[[dict[str, Any], OperatorContext], dict[str, Any]]


def operator(name: str, description: str) -> Callable[[Operator], Operator]:
    def decorate(func: Operator) -> Operator:
        engine_operator(name, description)(func)
        return func

    return decorate


def _load(ctx: OperatorContext, params: dict[str, Any]) -> Complaint:
    return get_complaint(ctx.session, str(params["complaint_id"]), lock=True)


def _day(params: dict[str, Any], name: str = "as_of") -> date:
    return date.fromisoformat(str(params[name])[:10])


def _finish(complaint: Complaint, status: str, day: date) -> None:
    complaint.status, complaint.finished_on, complaint.outcome = status, day, status


@operator("complaints.close", "结束登记：不属于受理范围、合并办理或者告知向有权部门提出")
def close(params: dict[str, Any], ctx: OperatorContext) -> dict[str, Any]:
    complaint, outcome, detail = _load(ctx, params), str(params["outcome"]), str(params.get("detail") or "")
    day = _day(params)
    _finish(complaint, outcome, day)
    values = {"channel": OTHER_CHANNELS.get(detail, detail), "department": detail or "有权部门"}
    if outcome == "merged":
        target = ctx.session.scalar(select(Complaint).where(Complaint.tracking_no == detail))
        complaint.merged_into_id = target.id if target else None
        if target is not None:
            log(ctx.session, target, "merged", public=False, data={"merged": complaint.tracking_no}, now=ctx.now)
    log(ctx.session, complaint, outcome, values=values, data={"detail": detail}, now=ctx.now)
    return {"status": outcome, "detail": detail}


@operator("complaints.mark_forwarded", "登记转办：记录转办单位")
def mark_forwarded(params: dict[str, Any], ctx: OperatorContext) -> dict[str, Any]:
    complaint = _load(ctx, params)
    complaint.status = "forwarding"
    log(ctx.session, complaint, "forwarded", data={"to_unit": params["to_unit"], "from_unit": complaint.unit_id},
        now=ctx.now)
    return {"to_unit": params["to_unit"], "on": _day(params).isoformat()}


@operator("complaints.take_over", "接收转办件：承办单位接管，受理期限自接收之日起计算")
def take_over(params: dict[str, Any], ctx: OperatorContext) -> dict[str, Any]:
    complaint = _load(ctx, params)
    complaint.unit_id, complaint.instance_id, complaint.status = str(params["unit_id"]), ctx.instance_id, "accepting"
    complaint.instance_ids = [*complaint.instance_ids, ctx.instance_id]
    log(ctx.session, complaint, "taken_over", data={"unit_id": complaint.unit_id}, now=ctx.now)
    return {"clock_start": _day(params).isoformat(), "unit_id": complaint.unit_id}


@operator("complaints.transfer", "移送其他部门：生成移送函")
def transfer(params: dict[str, Any], ctx: OperatorContext) -> dict[str, Any]:
    complaint, day = _load(ctx, params), _day(params)
    department = str(params.get("department") or "有权部门")
    what = KINDS.get(complaint.kind or "", "投诉举报")
    text = (f"{department}：\n本机关收到的{what}（登记编号{complaint.tracking_no}），"
            f"反映对象：{complaint.target_name}。经审查不属于本机关职责范围，现移送你单位处理。\n事项：{complaint.facts}")
    content, media = feedback.letter(complaint, "transfer", text, day)
    digest = feedback.store_blob(ctx.session, content, media)
    _finish(complaint, "transferred", day)
    log(ctx.session, complaint, "transferred", values={"department": department},
        data={"letter_sha256": digest}, now=ctx.now)
    feedback.queue(ctx.session, complaint, "transfer", f"您的事项已移送{department}处理。", day)
    return {"department": department, "letter_sha256": digest}


@operator("complaints.open_acceptance", "计算受理期限（投诉举报：工作日；信访：日）")
def open_acceptance(params: dict[str, Any], ctx: OperatorContext) -> dict[str, Any]:
    complaint = _load(ctx, params)
    rules, calendar = rules_of(complaint.rules, ctx.session), load_calendar(ctx.session)
    start = _day(params, "clock_start")
    due = deadlines.acceptance_due(calendar, rules, str(params["kind"]), start)
    complaint.accept_due, complaint.status = due, "accepting"
    return {"accept_due": due.isoformat(), **deadlines.window(calendar, rules, due, start)}


@operator("complaints.record_acceptance", "登记受理，计算办理期限和会办期限")
def record_acceptance(params: dict[str, Any], ctx: OperatorContext) -> dict[str, Any]:
    complaint, day = _load(ctx, params), _day(params)
    rules, calendar = rules_of(complaint.rules, ctx.session), load_calendar(ctx.session)
    due = deadlines.handling_due(calendar, rules, str(params["kind"]), day)
    complaint.accepted_on, complaint.handling_due, complaint.status = day, due, "accepted"
    cohandlers = []
    for item in params.get("cohandlers") or []:
        workdays = int(item.get("workdays") or rules.number("cohandling", "default_workdays"))
        cohandlers.append({"name": str(item["name"]), "due": calendar.add_workdays(day, workdays).due.isoformat()})
    log(ctx.session, complaint, "accepted", data={"handling_due": due.isoformat(), "cohandlers": cohandlers},
        now=ctx.now)
    return {"handling_due": due.isoformat(), **deadlines.window(calendar, rules, due, day), "cohandlers": cohandlers}


@operator("complaints.refuse", "不予受理：记录法定情形，生成告知书")
def refuse(params: dict[str, Any], ctx: OperatorContext) -> dict[str, Any]:
    complaint, day = _load(ctx, params), _day(params)
    ground = str(params["ground"])
    _finish(complaint, "refused", day)
    complaint.refusal_ground = ground
    complaint.reply_text = f"经审查，您反映的事项{REFUSAL_GROUNDS[ground]}，决定不予受理。"
    complaint.replied_on = day
    log(ctx.session, complaint, "refused", values={"ground": REFUSAL_GROUNDS[ground]}, now=ctx.now)
    feedback.queue(ctx.session, complaint, "refusal", complaint.reply_text, day)
    return {"ground": ground}


@operator("complaints.deliver", "送达：通过电子邮件、短信或者邮寄发出待发送的文书（失败重试）")
def deliver(params: dict[str, Any], ctx: OperatorContext) -> dict[str, Any]:
    return feedback.send_pending(ctx.session, _load(ctx, params), ctx.now)


@operator("complaints.urge", "期限提醒与督办：提醒承办人；逾期向承办单位负责人发督办单，多次未果报上级单位")
def urge(params: dict[str, Any], ctx: OperatorContext) -> dict[str, Any]:
    complaint, day = _load(ctx, params), _day(params)
    kind, element = str(params["kind"]), str(params["element"])
    due = complaint.accept_due if element == "accept" else complaint.handling_due
    due = due or _day(params, "due")
    if complaint.status in ("paused", "closed", "refused") or (kind == "overdue" and day <= due):
        return {"skipped": "paused or not yet due", "due": due.isoformat()}
    rules, calendar = rules_of(complaint.rules, ctx.session), load_calendar(ctx.session)
    if kind == "reminder":
        row = UrgingRecord(complaint_id=complaint.id, kind="reminder", element_id=element, unit_id=complaint.unit_id,
                           due=due, created_at=ctx.now)
    else:
        rounds = ctx.session.scalar(select(func.count()).select_from(UrgingRecord).where(
            UrgingRecord.complaint_id == complaint.id, UrgingRecord.element_id == element,
            UrgingRecord.kind == "urge")) or 0
        if rounds < rules.number("urging", "max_rounds"):
            row = UrgingRecord(complaint_id=complaint.id, kind="urge", round=rounds + 1, element_id=element,
                               unit_id=complaint.unit_id, due=due, created_at=ctx.now,
                               reply_due=calendar.add_workdays(day, rules.number("urging", "reply_workdays")).due)
        else:
            parent = unit_info(ctx.session, complaint.unit_id)[2] or complaint.unit_id
            row = UrgingRecord(complaint_id=complaint.id, kind="escalation", round=rounds + 1, element_id=element,
                               unit_id=parent, due=due, created_at=ctx.now)
    ctx.session.add(row)
    ctx.session.flush()
    log(ctx.session, complaint, f"urging_{row.kind}", public=False,
        data={"urging": row.id, "round": row.round, "unit_id": row.unit_id, "element": element}, now=ctx.now)
    return {"urging_id": row.id, "kind": row.kind, "round": row.round, "unit_id": row.unit_id}


@operator("complaints.terminate_mediation", "调解期限届满未达成协议：终止调解")
def terminate_mediation(params: dict[str, Any], ctx: OperatorContext) -> dict[str, Any]:
    complaint = _load(ctx, params)
    complaint.outcome = "mediation_terminated"
    log(ctx.session, complaint, "mediation_terminated", public=False, now=ctx.now)
    return {"result": "termination", "draft_reply": "自受理之日起规定期限内未能达成调解协议，终止调解。"}


def _window(ctx: OperatorContext, complaint: Complaint, due: date, day: date) -> dict[str, Any]:
    rules, calendar = rules_of(complaint.rules, ctx.session), load_calendar(ctx.session)
    return {"handling_due": due.isoformat(), **deadlines.window(calendar, rules, due, day), "cohandlers": []}


@operator("complaints.to_report", "投诉转为举报核查：重新计算核查期限")
def to_report(params: dict[str, Any], ctx: OperatorContext) -> dict[str, Any]:
    complaint, day = _load(ctx, params), _day(params)
    rules, calendar = rules_of(complaint.rules, ctx.session), load_calendar(ctx.session)
    complaint.kind = "report"
    complaint.handling_due = deadlines.handling_due(calendar, rules, "report", day)
    log(ctx.session, complaint, "converted_to_report", public=False, now=ctx.now)
    return _window(ctx, complaint, complaint.handling_due, day)


@operator("complaints.extend", "经负责人批准延长办理期限")
def extend(params: dict[str, Any], ctx: OperatorContext) -> dict[str, Any]:
    complaint, day = _load(ctx, params), _day(params)
    rules, calendar = rules_of(complaint.rules, ctx.session), load_calendar(ctx.session)
    assert complaint.handling_due is not None
    complaint.handling_due = deadlines.extended_due(calendar, rules, complaint.kind or "report", complaint.handling_due)
    log(ctx.session, complaint, "extended", data={"handling_due": complaint.handling_due.isoformat()}, now=ctx.now)
    return _window(ctx, complaint, complaint.handling_due, day)


@operator("complaints.open_penalty_lead", "核查发现违法行为：登记行政处罚案源并相互关联")
def open_penalty_lead(params: dict[str, Any], ctx: OperatorContext) -> dict[str, Any]:
    from engine import SYSTEM
    from processes.penalty.service import start_case  # the penalty package's own door for a new lead

    complaint = _load(ctx, params)
    if complaint.penalty_case_id:
        return {"case_id": complaint.penalty_case_id, "instance_id": complaint.penalty_instance_id}
    name, short, _parent = unit_info(ctx.session, complaint.unit_id)
    prefill = {"source": "complaint", "complaint_id": complaint.id, "complaint_no": complaint.tracking_no,
               "entity_id": complaint.entity_id or "", "entity_name": complaint.target_name,
               "violation": complaint.facts[:2000],
               # the verification found the violation today: the penalty filing period counts from it
               "discovered_on": _day(params).isoformat()}
    case = start_case(ctx.session, SYSTEM, unit_id=complaint.unit_id, unit_name=name, unit_short_name=short,
                      prefill=prefill, now=ctx.now)
    case.source = "complaint"
    complaint.penalty_case_id, complaint.penalty_instance_id = case.id, case.instance_id
    log(ctx.session, complaint, "penalty_lead", data={"case_id": case.id}, now=ctx.now)
    if complaint.entity_id:  # a registered entity: the inspections' risk ledger takes note
        entity_event(ctx.session, EntityEvent("complaint_violation", complaint.entity_id, complaint.tracking_no,
                                              f"投诉举报核查发现违法行为（{complaint.tracking_no}）",
                                              china_today(ctx.now)))
    return {"case_id": case.id, "instance_id": case.instance_id}


@operator("complaints.notify_filing", "告知实名举报人立案情况")
def notify_filing(params: dict[str, Any], ctx: OperatorContext) -> dict[str, Any]:
    complaint, day = _load(ctx, params), _day(params)
    text = "您举报的事项经核查发现涉嫌违法行为，已依法登记为行政处罚案源并进入立案程序。"
    row = feedback.queue(ctx.session, complaint, "filing_notice", text, day)
    log(ctx.session, complaint, "filing_notice", public=False, now=ctx.now)
    return {"delivery": row.id if row else None, "on": day.isoformat()}


@operator("complaints.reply", "书面答复：写明复查权利，按答复方式送达（匿名不送达）")
def reply(params: dict[str, Any], ctx: OperatorContext) -> dict[str, Any]:
    complaint, day = _load(ctx, params), _day(params)
    rules, calendar = rules_of(complaint.rules, ctx.session), load_calendar(ctx.session)
    request_days = rules.number("review", "request_days")
    complaint.reply_text = f"{str(params.get('draft') or '').strip()}\n{feedback.review_right(request_days)}".strip()
    complaint.replied_on = complaint.finished_on = day
    complaint.on_time = complaint.handling_due is None or day <= complaint.handling_due
    complaint.status = "replied"
    log(ctx.session, complaint, "replied", now=ctx.now)
    feedback.queue(ctx.session, complaint, "reply", complaint.reply_text, day)
    return {"review_request_due": calendar.add_days(day, request_days).due.isoformat(), "level": 0}


@operator("complaints.recheck_reply", "复查或者复核意见书面答复")
def recheck_reply(params: dict[str, Any], ctx: OperatorContext) -> dict[str, Any]:
    complaint, day, level = _load(ctx, params), _day(params), int(params["level"])
    rules, calendar = rules_of(complaint.rules, ctx.session), load_calendar(ctx.session)
    name = "复查" if level == 1 else "复核"
    complaint.review_level, complaint.status = level, "replied"
    text = f"{name}意见：{str(params.get('opinion') or '').strip()}"
    if level == 1:
        text += f"\n如对复查意见不服，可以自收到之日起{rules.number('review', 'recheck_request_days')}日内请求复核。"
    else:
        text += "\n复核意见为终结意见，以同一事实和理由再次提出的，不再受理。"
    complaint.reply_text = f"{complaint.reply_text or ''}\n{text}".strip()
    log(ctx.session, complaint, "rechecked", values={"level": name}, now=ctx.now)
    feedback.queue(ctx.session, complaint, "recheck", text, day)
    days = rules.number("review", "recheck_request_days")
    return {"review_request_due": calendar.add_days(day, days).due.isoformat(), "level": level}


@operator("complaints.archive", "归档：文书、附件与审计记录打包，生成SHA-256清单")
def archive(params: dict[str, Any], ctx: OperatorContext) -> dict[str, Any]:
    complaint, day = _load(ctx, params), _day(params)
    row = build_archive(ctx.session, complaint, day)
    complaint.status = "closed"
    complaint.finished_on = complaint.finished_on or day
    log(ctx.session, complaint, "archived", now=ctx.now)
    return {"sha256": row.sha256, "manifest_sha256": row.manifest_sha256, "file_name": row.file_name}

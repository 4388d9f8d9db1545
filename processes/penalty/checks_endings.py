"""Legal checks of the endings other than a penalty decision (see ``forms_endings``): no penalty
(Art. 33) with its service and the correction follow-up; transfer, withdrawal and termination."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from engine.clock import china_today
from engine.models import HumanTask

from . import law, reporting
from .checks import Result, Submission, actor_name, fail, handles, jsonable, overdue_decision
from .forms_endings import ENDING_KINDS, NO_PENALTY_GROUNDS, TRANSFER_KINDS
from .models import DeadlineNotice

NO_PENALTY_TEXT = "不予行政处罚"


@handles("penalty.no_penalty_decision")
def no_penalty_decision(sub: Submission) -> Result:
    f, case = sub.form, sub.case
    decided_on: date = f["decided_on"]
    if decided_on > sub.today:
        fail("decided_on", "决定日期不能晚于今天")
    if case.filed_on and decided_on < case.filed_on:
        fail("decided_on", "决定日期不能早于立案日期")
    overdue, reason = overdue_decision(sub, decided_on)  # Art. 60, as for a penalty decision
    ground = NO_PENALTY_GROUNDS[f["ground"]]
    outcome = {"kinds": [], "fine": 0.0, "confiscation": 0.0, "text": f"{NO_PENALTY_TEXT}（{ground}）",
               "no_penalty_ground": f["ground"]}

    def project() -> None:
        case.decided_on, case.decided_penalty = decided_on, outcome
        case.fine_fen = case.confiscation_fen = 0
        case.status = "decided"
        case.status_reason = f"{NO_PENALTY_TEXT}：{ground}"
        if overdue:
            assert case.decision_due is not None
            case.overdue_decision = {"due": case.decision_due.isoformat(), "decided_on": decided_on.isoformat(),
                                     "reason": reason, "recorded_by": sub.actor.user_id}
            sub.session.add(DeadlineNotice(
                case_id=case.id, kind="decision_made_overdue", role="head", due=case.decision_due,
                message=f"本案超过办案期限（{law.cn(case.decision_due)}）于{law.cn(decided_on)}作出不予行政处罚"
                        f"决定，逾期原因：{reason}"))
    return Result({**jsonable(f), "ground_text": ground, "decision_number": case.case_number,
                   "penalty": outcome, "overdue": overdue}, project=project)


@handles("penalty.no_penalty_service")
def no_penalty_service(sub: Submission) -> Result:
    f, case = sub.form, sub.case
    served_on: date = f["served_on"]
    decided = case.decided_on or sub.today
    if served_on < decided:
        fail("served_on", "送达日期不能早于决定日期")
    if served_on > sub.today:
        fail("served_on", "送达日期不能晚于今天")
    due = law.service_due(sub.calendar, sub.rules, decided)
    late = served_on > due
    if late and not (f.get("late_reason") or "").strip():
        fail("late_reason", f"应当在{law.cn(due)}前送达（决定之日起{sub.rules.periods.service_workdays}个"
                            f"工作日内，第六十一条），已逾期，请说明原因")
    effective = law.effective_service_date(sub.calendar, sub.rules, f["method"], served_on)

    def project() -> None:
        case.served_on, case.service_method, case.effective_served_on = served_on, f["method"], effective
        case.card_first_due = reporting.first_report_due(sub.calendar, sub.rules, effective)
        case.status, case.execution_status = "served", "not_applicable"
    return Result({**jsonable(f), "service_due": due.isoformat(), "late": late,
                   "effective_served_on": effective.isoformat()}, project=project)


@handles("penalty.correction_check")
def correction_check(sub: Submission) -> Result:
    if sub.form["checked_on"] > sub.today:
        fail("checked_on", "复查日期不能晚于今天")
    return Result(jsonable(sub.form))


# -- transfer, withdrawal, termination ---------------------------------------------------------

ENDED_STATUS = {"police": "transferred", "agency": "transferred", "withdraw": "withdrawn", "terminate": "terminated"}

CHIEF_HEAD_ROLE = "chief_head"
"""The directory role of the agency's chief head, or the head in charge of its work (正职负责人或者主持工作的
负责人), held with ``head``: only they decide a transfer to the police (国务院令第310号第五条)."""

PENALTY_PATH_FORMS = frozenset({
    "penalty.collective_discussion", "penalty.discussion_confirmation", "penalty.decision_approval",
    "penalty.decision", "penalty.no_penalty_decision", "penalty.service", "penalty.no_penalty_service",
    "penalty.execution", "penalty.payment_arrangement", "penalty.urge_payment", "penalty.enforcement_reminder",
    "penalty.enforcement", "penalty.closing_report"})
"""The forms that decide, serve or carry out a penalty (or no penalty): refused while an ending is
pending or approved (``refuse_penalty_during_ending``)."""


def refuse_penalty_during_ending(sub: Submission, form_key: str) -> None:
    """No penalty path while the head decides on a transfer, withdrawal or termination, nor after
    one was approved: 国务院令第310号第十一条 forbids a penalty in place of a transfer, and a pending
    request may not be overtaken by a decision the head could no longer undo."""
    if form_key not in PENALTY_PATH_FORMS:
        return
    case = sub.case
    if case.pending_ending:
        label = ENDING_KINDS.get(case.pending_ending.get("kind", ""), "")
        fail("_schema", f"本案已申请{label}，负责人尚未作出决定：决定前不能继续处罚程序；负责人不批准的，"
                        f"处罚程序继续（不得以行政处罚代替移送，国务院令第310号第十一条）")
    elif case.ending:
        label = ENDING_KINDS.get(case.ending.get("kind", ""), "")
        fail("_schema", f"负责人已批准{label}，本案的处罚程序已经结束，不能再作出、送达或者执行行政处罚"
                        f"（国务院令第310号第十一条）")


@handles("penalty.ending_approval")
def ending_approval(sub: Submission) -> Result:
    case, request = sub.case, dict(sub.case.pending_ending or {})
    kind = request.get("kind", "")
    if kind == "police" and CHIEF_HEAD_ROLE not in sub.actor.roles:
        fail("approved", f"是否移送公安机关，由本机关正职负责人或者主持工作的负责人决定（国务院令第310号第五条）；"
                         f"{actor_name(sub)}不是正职负责人，请由正职负责人审批")
    if sub.form["approved"] and case.decided_on is not None:
        fail("approved", f"本案已于{law.cn(case.decided_on)}作出决定，不能再批准{ENDING_KINDS.get(kind, kind)}，"
                         f"请不批准本申请；涉嫌犯罪的仍应另行移送公安机关，已作出的处罚决定不停止执行，罚款依法折抵"
                         f"罚金（国务院令第310号第十一条第二款，行政处罚法第三十五条）")

    def project() -> None:
        case.pending_ending = None
        if not sub.form["approved"]:
            return
        label = ENDING_KINDS.get(kind, kind)
        case.ending = {**request, "approved_by": sub.actor.user_id, "decided_on": sub.today.isoformat(),
                       "opinion": sub.form["opinion"]}
        case.status_reason = f"{label}：{request.get('reason', '')}（负责人意见：{sub.form['opinion']}）"
        if kind in TRANSFER_KINDS:
            case.status = "transfer_decided"  # closed as transferred once the receipt is recorded
        else:
            case.status, case.closed_on = ENDED_STATUS[kind], sub.today
    return Result({**jsonable(sub.form), "kind": kind, "decided_on": sub.today.isoformat()}, project=project)


@handles("penalty.transfer_letter")
def transfer_letter(sub: Submission) -> Result:
    return Result(jsonable(sub.form))


def _transfer_decided_on(sub: Submission) -> date:
    """The day the head approved the transfer (the approval task's completion, China time)."""
    query = (select(HumanTask.completed_at).where(HumanTask.instance_id == sub.case.instance_id,
                                                  HumanTask.task_name == "approve_ending",
                                                  HumanTask.status == "completed")
             .order_by(HumanTask.completed_at.desc()).limit(1))
    moment = sub.session.scalar(query)
    return china_today(moment) if moment is not None else sub.today


@handles("penalty.transfer_receipt")
def transfer_receipt(sub: Submission) -> Result:
    f, case = sub.form, sub.case
    decided_on = _transfer_decided_on(sub)
    handed_over: date = f["handed_over_on"]
    if handed_over > sub.today:
        fail("handed_over_on", "移送日期不能晚于今天")
    if handed_over < decided_on:
        fail("handed_over_on", "移送日期不能早于批准移送的日期")
    police = (case.ending or {}).get("kind") == "police"
    hours = sub.rules.periods.transfer_hours
    if police and handed_over > decided_on + timedelta(days=max(1, -(-hours // 24))):
        fail("handed_over_on", f"应当在批准移送后{hours}小时内移送（国务院令第310号第八条）："
                               f"{law.cn(decided_on)}批准的，最迟{law.cn(decided_on + timedelta(days=1))}移送")

    def project() -> None:
        case.status, case.closed_on = "transferred", handed_over
    return Result({**jsonable(f), "transfer_decided_on": decided_on.isoformat()}, project=project)

"""Legal checks of the endings other than a penalty decision (see ``forms_endings``): no penalty
(Art. 33) with its service and the correction follow-up; transfer, withdrawal and termination."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from engine.calendar import CHINA_TZ
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
    if f.get("correction_ordered") and f.get("correction_deadline"):
        outcome["correction_deadline"] = f["correction_deadline"].isoformat()  # what 整改复查 checks against

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
    """整改复查. Not corrected by the deadline (Art. 28), the violation goes on: the no-penalty decision
    stands (its case closes as decided) and the continuing violation is a new matter, so a new case
    lead (案源) is opened for it, linked both ways, with the check day as its discovery day (the filing
    period counts from it), the party carried over, for the officers to file and investigate
    (立案查处). Uncorrected can only be found after the deadline has passed."""
    f, case = sub.form, sub.case
    checked_on: date = f["checked_on"]
    if checked_on > sub.today:
        fail("checked_on", "复查日期不能晚于今天")
    deadline_text = (case.decided_penalty or {}).get("correction_deadline")
    deadline = date.fromisoformat(deadline_text) if deadline_text else None
    if not f["corrected"] and deadline is not None and checked_on <= deadline:
        fail("corrected", f"改正期限{law.cn(deadline)}届满前，不能认定逾期未改正；请在期满后复查")
    payload = jsonable(f)
    if f["corrected"]:
        return Result(payload)

    def project() -> None:
        from .service import start_case  # service imports the checks: the new lead is opened here, late

        origin = case.case_number or case.id
        lead = start_case(sub.session, sub.actor, unit_id=case.unit_id, unit_name=case.unit_name,
                          unit_short_name=case.unit_short_name, prefill={
                              "source": "inspection", "origin_case_id": case.id,
                              "origin_case_number": case.case_number or "",
                              "entity_id": case.entity_id or "", "entity_name": case.entity_name or "",
                              "discovered_on": checked_on.isoformat(),
                              "suspected_violation": f"责令改正逾期未改正（原案{origin}）：{f['findings']}"})
        case.status_reason = (f"{case.status_reason or ''}；{law.cn(checked_on)}整改复查：逾期未改正，已登记新的案源"
                              f"（案源-{lead.id[:8]}，与本案关联）依法查处").lstrip("；")
    return Result(payload, project=project)


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


def _transfer_decided_at(sub: Submission) -> datetime:
    """When the head approved the transfer (the approval task's completion, China time)."""
    query = (select(HumanTask.completed_at).where(HumanTask.instance_id == sub.case.instance_id,
                                                  HumanTask.task_name == "approve_ending",
                                                  HumanTask.status == "completed")
             .order_by(HumanTask.completed_at.desc()).limit(1))
    moment = sub.session.scalar(query)
    if moment is None:
        return datetime.combine(sub.today, time(0, 0), CHINA_TZ)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(CHINA_TZ)


@handles("penalty.transfer_receipt")
def transfer_receipt(sub: Submission) -> Result:
    """The hand-over moment against the approval moment plus ``transfer_hours`` (国务院令第310号第八条).

    A hand-over on the approval day needs no time (it is within 24 hours whatever the hour); on a
    later day the time is required. Later than the limit, the transfer is still recorded, because the
    case must still go to the police (第十一条, no penalty in its place), but only with the reason, which
    is kept in the task data and reported to the heads (notice ``transferred_late``)."""
    f, case = sub.form, sub.case
    police = (case.ending or {}).get("kind") == "police"
    receiver = "公安机关" if police else "接收机关"
    if not (f.get("received_by") or "").strip():
        fail("received_by", f"请填写{receiver}的接收人")
    if not (f.get("receipt_no") or "").strip():
        fail("receipt_no", f"请填写移送回执的编号（{receiver}出具的回执）")
    decided_at = _transfer_decided_at(sub)
    decided_on = decided_at.date()
    handed_over: date = f["handed_over_on"]
    if handed_over > sub.today:
        fail("handed_over_on", "移送日期不能晚于今天")
    if handed_over < decided_on:
        fail("handed_over_on", "移送日期不能早于批准移送的日期")
    clock = (f.get("handed_over_time") or "").strip()
    if handed_over > decided_on and not clock:
        fail("handed_over_time", "不在批准移送当日移送的，请填写移送时间（时:分），以核对是否在规定时限内移送")
    handed_at = datetime.combine(handed_over, time.fromisoformat(clock) if clock else time(0, 0), CHINA_TZ)
    if clock and handed_at < decided_at:
        fail("handed_over_time", f"移送时间不能早于批准移送的时间（{_moment(decided_at)}）")
    payload: dict[str, Any] = {**jsonable(f), "transfer_decided_on": decided_on.isoformat(),
                               "transfer_decided_at": decided_at.isoformat(timespec="minutes")}
    hours = sub.rules.periods.transfer_hours
    latest = decided_at + timedelta(hours=hours)
    reason = (f.get("overdue_reason") or "").strip()
    late = police and handed_at > latest
    if late and not reason:
        fail("overdue_reason", f"应当在批准移送后{hours}小时内移送（国务院令第310号第八条）："
                               f"{_moment(decided_at)}批准的，最迟应于{_moment(latest)}移送；"
                               f"已超过的，仍应移送，请写明逾期移送的原因，将记录在案并报告负责人")
    if late:
        payload["transfer_overdue"] = {"latest": latest.isoformat(timespec="minutes"), "reason": reason}

    def project() -> None:
        case.status, case.closed_on = "transferred", handed_over
        if late:
            sub.session.add(DeadlineNotice(
                case_id=case.id, kind="transferred_late", role="head", due=latest.date(),
                message=f"本案批准移送公安机关后超过{hours}小时（最迟{_moment(latest)}）方于{_moment(handed_at)}移送，"
                        f"逾期移送的原因：{reason}"))
    return Result(payload, project=project)


def _moment(instant: datetime) -> str:
    return f"{law.cn(instant.date())}{instant:%H:%M}"

"""Legal checks from the prior notice to closing, and the summary procedure (see ``checks``);
execution (payments, arrangements, appeals) is in ``checks_execution``."""

from __future__ import annotations

from datetime import date

from marshmallow import ValidationError

from . import checks_endings as _checks_endings  # noqa: F401 - registers no penalty, transfer, withdrawal
from . import checks_enforcement as _checks_enforcement  # noqa: F401 - registers 催告 and the court application
from . import checks_execution as _checks_execution  # noqa: F401 - registers the execution handlers
from . import checks_summary as _checks_summary  # noqa: F401 - registers the summary payment (当场收缴)
from . import law, reporting
from .checks import (
    Result,
    Submission,
    actor_name,
    add_investigators,
    check_team,
    fail,
    handles,
    jsonable,
    not_heavier,
    overdue_decision,
    penalty_of,
    project_party,
    refuse_recused,
)
from .checks_discussion import check_participants
from .execution import fen
from .forms_hearing import TERMINATION_REASONS, hearing_outcome
from .law import Penalty
from .models import DeadlineNotice

# -- prior notice, defence, hearing -------------------------------------------------------------

@handles("penalty.prior_notice_service")
def prior_notice_service(sub: Submission) -> Result:
    """Served by public notice, the notice counts as received when the notice period ends, so the
    reply window (the BPMN's ``notice['served_on']``, ``case.notice_served_on``) starts then; the
    publication day is kept as ``published_on``."""
    f = sub.form
    if f["served_on"] > sub.today:
        fail("served_on", "送达日期不能晚于今天")
    effective = law.effective_service_date(sub.calendar, sub.rules, f["method"], f["served_on"])
    payload = jsonable(f)
    if f["method"] == "public_notice":
        payload |= {"published_on": f["served_on"].isoformat(), "served_on": effective.isoformat()}

    def project() -> None:
        sub.case.notice_served_on = effective
        sub.case.status = "notified"
    return Result(payload, project=project)


@handles("penalty.party_reply")
def party_reply(sub: Submission) -> Result:
    """Statement and hearing request are independent, each with its own period (Arts. 44, 45, 64(1))."""
    f, case = sub.form, sub.case
    if case.notice_served_on is None:
        fail("kind", "事先告知书尚未送达")
    assert case.notice_served_on is not None
    if f["received_on"] < case.notice_served_on:
        fail("received_on", "收到日期不能早于告知书送达日期")
    if f["received_on"] > sub.today:
        fail("received_on", "收到日期不能晚于今天")
    periods = sub.rules.periods
    statement_due = law.statement_due(sub.calendar, sub.rules, case.notice_served_on)
    hearing_due = law.hearing_request_due(sub.calendar, sub.rules, case.notice_served_on)
    if f["kind"] == "hearing_request":
        if not case.hearing_right:
            fail("kind", "拟作出的处罚不属于应当告知听证的情形（第六十三条），当事人可以陈述申辩")
        if f["received_on"] > hearing_due:
            fail("received_on", f"听证申请应在{law.cn(hearing_due)}前提出（告知后{periods.hearing_request_workdays}"
                                f"个工作日内，第六十四条第一项），已逾期的视为放弃听证")
    elif f["kind"] == "statement" and f["received_on"] > statement_due:
        fail("received_on", f"陈述、申辩应在{law.cn(statement_due)}前提出（收到告知书之日起"
                            f"{periods.statement_workdays}个工作日内），已逾期的视为放弃")
    elif f["kind"] == "waive" and f["received_on"] > max(statement_due, hearing_due if case.hearing_right
                                                          else statement_due):
        fail("received_on", "告知期限已届满，无需再放弃")
    return Result(jsonable(f))


@handles("penalty.statement_review")
def statement_review(sub: Submission) -> Result:
    penalty = penalty_of(sub.form)
    not_heavier(sub, penalty, "penalty_kinds", "不得因当事人陈述、申辩而给予更重的处罚（行政处罚法第四十五条）")
    return Result({**jsonable(sub.form), "penalty": penalty.as_data()})


@handles("penalty.hearing_schedule")
def hearing_schedule(sub: Submission) -> Result:
    f, case = sub.form, sub.case
    refuse_recused(sub, f["chair_id"], f["chair_name"], "听证主持人", "chair_id")
    if f["chair_id"] in set(case.investigators or []):
        fail("chair_id", f"{f['chair_name']}参与了本案调查，不能主持听证（第六十四条）")
    earliest = law.earliest_hearing_date(sub.calendar, sub.rules, f["notice_sent_on"])
    if f["hearing_date"] < earliest:
        fail("hearing_date", f"应当在举行听证的{sub.rules.periods.hearing_notice_workdays}个工作日前通知当事人"
                             f"（第六十四条）：{law.cn(f['notice_sent_on'])}通知的，听证最早于"
                             f"{law.cn(earliest)}举行")
    if case.notice_served_on and f["notice_sent_on"] < case.notice_served_on:
        fail("notice_sent_on", "听证通知不能早于事先告知书送达日期")
    return Result(jsonable(f))


@handles("penalty.hearing_record")
def hearing_record(sub: Submission) -> Result:
    """Held, waived, rescheduled for a good reason (a new date noticed as Art. 64(2) asks) or
    terminated with its reason, which goes to the case's status reason (``forms_hearing``)."""
    f = sub.form
    refuse_recused(sub, sub.actor.user_id, actor_name(sub), "听证主持人", "attended")
    if f["held_on"] > sub.today:
        fail("held_on", "听证日期不能晚于今天")
    outcome = hearing_outcome(f)
    if outcome == "held":
        penalty = penalty_of(f)
        not_heavier(sub, penalty, "penalty_kinds", "不得因当事人申辩而给予更重的处罚（行政处罚法第四十五条）")
    else:
        penalty = Penalty.of(sub.case.notified_penalty)
    if outcome == "rescheduled":
        sent, day = f["new_notice_sent_on"], f["new_hearing_date"]
        if sent > sub.today:
            fail("new_notice_sent_on", "通知送达日期不能晚于今天")
        earliest = law.earliest_hearing_date(sub.calendar, sub.rules, sent)
        if day < earliest:
            fail("new_hearing_date", f"应当在举行听证的{sub.rules.periods.hearing_notice_workdays}个工作日前通知当事人"
                                     f"（第六十四条）：{law.cn(sent)}通知的，听证最早于{law.cn(earliest)}举行")
    reason = ""
    if outcome == "terminated":
        note = (f.get("termination_note") or "").strip()
        reason = f"终止听证：{TERMINATION_REASONS[f['termination_reason']]}" + (f"（{note}）" if note else "")

    def project() -> None:
        sub.case.hearing_held = outcome == "held"
        if reason:
            sub.case.status_reason = reason
    # who actually chaired: a replacement after a recusal, not the chair the schedule first named
    chair = {"chair_id": sub.actor.user_id, "chair_name": actor_name(sub)}
    return Result({**jsonable(f), "outcome": outcome, "penalty": penalty.as_data(), **chair}, project=project)


@handles("penalty.legal_review")
def legal_review(sub: Submission) -> Result:
    refuse_recused(sub, sub.actor.user_id, actor_name(sub), "法制审核人员", "passed")
    if sub.actor.user_id in set(sub.case.investigators or []):
        fail("passed", "本案承办人不能担任法制审核人员")

    def project() -> None:
        if not sub.form["passed"]:
            sub.case.status = "returned"
            sub.case.status_reason = f"法制审核未通过：{sub.form['reasons']}"
    return Result(jsonable(sub.form), project=project)


@handles("penalty.decision_approval")
def head_decision(sub: Submission) -> Result:
    if sub.form["conclusion"] == "penalty" and sub.case.notice_served_on is None:
        fail("conclusion",
             "未经事先告知，不能作出处罚决定（第四十四条）；拟给予处罚的，请选择补充调查，重新合议并告知当事人")
    return Result(jsonable(sub.form))


@handles("penalty.collective_discussion")
def collective_discussion(sub: Submission) -> Result:
    """The head's decision, taken by the heads together: the participants are the directory's heads
    (``checks_discussion``); each then confirms the record on a task of their own."""
    participants = check_participants(sub)
    discussed_on: date = sub.form["discussed_on"]
    if discussed_on > sub.today:
        fail("discussed_on", "讨论日期不能晚于今天")
    if sub.case.filed_on and discussed_on < sub.case.filed_on:
        fail("discussed_on", "讨论日期不能早于立案日期")
    overdue, _reason = overdue_decision(sub, discussed_on)
    result = head_decision(sub)
    result.payload.update(participants=participants, overdue=overdue)
    return result


# -- decision, service, execution, closing ------------------------------------------------------

@handles("penalty.decision")
def decision(sub: Submission) -> Result:
    """The decision document. After the period (Art. 60) it is still made, with the reason for the
    delay recorded and reported to the head; a penalty that differs from the one the head approved
    (Art. 57) is not decided here but goes back to the head (``penalty_changed``)."""
    f, case = sub.form, sub.case
    decided_on: date = f["decided_on"]
    if decided_on > sub.today:
        fail("decided_on", "决定日期不能晚于今天")
    if case.filed_on and decided_on < case.filed_on:
        fail("decided_on", "决定日期不能早于立案日期")
    overdue, reason = overdue_decision(sub, decided_on)
    penalty = penalty_of(f)
    not_heavier(sub, penalty, "penalty_kinds",
                "处罚决定不得重于事先告知的处罚；拟加重的，应当重新告知（第四十四、四十五条）")
    changed = case.approved_penalty is not None and penalty != Penalty.of(case.approved_penalty)
    payload = {**jsonable(f), "penalty": penalty.as_data(), "decision_number": case.case_number,
               "penalty_changed": changed, "overdue": overdue}
    if changed:
        approved = Penalty.of(case.approved_penalty).describe()

        def back_to_head() -> None:
            case.status_reason = (f"决定书的处罚（{penalty.describe()}）与负责人批准的（{approved}）不一致，"
                                  f"已退回负责人审批（第五十七条）")
        return Result(payload, project=back_to_head)

    def project() -> None:
        case.decided_on, case.decided_penalty = decided_on, penalty.as_data()
        case.fine_fen, case.confiscation_fen = fen(penalty.fine), fen(penalty.confiscation)
        case.status, case.status_reason = "decided", None
        if overdue:
            assert case.decision_due is not None
            case.overdue_decision = {"due": case.decision_due.isoformat(), "decided_on": decided_on.isoformat(),
                                     "reason": reason, "recorded_by": sub.actor.user_id}
            sub.session.add(DeadlineNotice(
                case_id=case.id, kind="decision_made_overdue", role="head", due=case.decision_due,
                message=f"本案超过办案期限（{law.cn(case.decision_due)}）于{law.cn(decided_on)}作出处罚决定，"
                        f"逾期原因：{reason}"))
    return Result(payload, project=project)


@handles("penalty.service")
def service(sub: Submission) -> Result:
    f, case = sub.form, sub.case
    served_on: date = f["served_on"]
    decided = case.decided_on or sub.today
    if served_on < decided:
        fail("served_on", "送达日期不能早于决定日期")
    if served_on > sub.today:
        fail("served_on", "送达日期不能晚于今天")
    if f["method"] == "on_spot" and served_on != decided:
        fail("served_on", "当场交付的，送达日期应为决定当日")
    due = law.service_due(sub.calendar, sub.rules, decided)
    late = served_on > due
    if late and not (f.get("late_reason") or "").strip():
        fail("late_reason", f"应当在{law.cn(due)}前送达（决定之日起{sub.rules.periods.service_workdays}个"
                            f"工作日内，第六十一条），已逾期，请说明原因")
    effective = law.effective_service_date(sub.calendar, sub.rules, f["method"], served_on)

    def project() -> None:
        case.served_on, case.service_method, case.effective_served_on = served_on, f["method"], effective
        case.payment_due = law.payment_due(sub.calendar, sub.rules, effective)
        case.card_first_due = reporting.first_report_due(sub.calendar, sub.rules, effective)
        case.status = "served"
        case.execution_status = "unpaid" if case.fine_fen or case.confiscation_fen else "not_applicable"
    return Result({**jsonable(f), "service_due": due.isoformat(), "late": late}, project=project)


@handles("penalty.closing_report")
def closing_report(sub: Submission) -> Result:
    f, case = sub.form, sub.case
    if f["reason"] == "executed" and (case.fine_fen or case.confiscation_fen) and case.execution_status != "paid":
        fail("reason", "罚没款尚未缴清，不能以“执行完毕”结案")
    return Result(jsonable(f))


@handles("penalty.extension_approval")
def extension(sub: Submission) -> Result:
    """An extension is approved before the period in force expires, at most ``max_extensions`` times;
    from the ``collective_extension_from``-th on, by the heads' collective discussion."""
    periods, case = sub.rules.periods, sub.case
    if sub.form["approved"]:
        done = len(case.extensions or [])
        if done >= periods.max_extensions:
            fail("approved", f"办案期限最多延长{periods.max_extensions}次")
        if case.decision_due and sub.today > case.decision_due:
            fail("approved", f"办案期限已于{law.cn(case.decision_due)}届满，不能再批准延长；"
                             f"请作出决定（写明逾期原因）或者撤销立案、终止调查、移送")
        if done + 1 >= periods.collective_extension_from and not sub.form["collective_discussed"]:
            fail("collective_discussed", f"第{done + 1}次延长办案期限应当经负责人集体讨论决定")
    return Result(jsonable(sub.form))


@handles("penalty.summary_decision")
def summary_decision(sub: Submission) -> Result:
    f = sub.form
    check_team(sub, f["officers"])
    penalty = penalty_of(f)
    problems = law.summary_problems(sub.rules, f["party_type"], penalty)
    if problems:
        raise ValidationError({name: [message for n, message in problems if n == name] for name, _ in problems})
    limitation = law.limitation_status(sub.rules, f["violation_date"], f["decided_on"],  # Art. 36, as for a lead
                                       ended_on=f.get("violation_ended_on"),
                                       public_health_harm=bool(f.get("public_health_harm")))
    if limitation.expired:
        fail("violation_date", limitation.reason)
    if f["decided_on"] > sub.today:
        fail("decided_on", "决定日期不能晚于今天")

    def project() -> None:
        c = sub.case
        project_party(c, f)
        c.category, c.violation, c.violation_date, c.legal_basis = (f["category"], f["violation"],
                                                                   f["violation_date"], f["legal_basis"])
        c.officers, c.source = f["officers"], "inspection"
        add_investigators(c, (o["user_id"] for o in f["officers"]))
        c.decided_on = c.served_on = c.effective_served_on = f["decided_on"]
        c.decided_penalty, c.fine_fen, c.status = penalty.as_data(), fen(penalty.fine), "decided"
        c.service_method = "on_spot"
        c.payment_due = law.payment_due(sub.calendar, sub.rules, f["decided_on"])
        c.card_first_due = reporting.first_report_due(sub.calendar, sub.rules, f["decided_on"])
        c.execution_status = "unpaid" if penalty.fine else "not_applicable"
    return Result({**jsonable(f), "penalty": penalty.as_data()}, project=project)

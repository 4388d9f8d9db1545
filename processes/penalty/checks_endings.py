"""Legal checks of the endings other than a penalty decision (see ``forms_endings``): no penalty
(Art. 33) with its service and the correction follow-up; transfer, withdrawal and termination."""

from __future__ import annotations

from datetime import date

from . import law, reporting
from .checks import Result, Submission, fail, handles, jsonable
from .forms_endings import NO_PENALTY_GROUNDS

NO_PENALTY_TEXT = "不予行政处罚"


@handles("penalty.no_penalty_decision")
def no_penalty_decision(sub: Submission) -> Result:
    f, case = sub.form, sub.case
    decided_on: date = f["decided_on"]
    if decided_on > sub.today:
        fail("decided_on", "决定日期不能晚于今天")
    if case.filed_on and decided_on < case.filed_on:
        fail("decided_on", "决定日期不能早于立案日期")
    ground = NO_PENALTY_GROUNDS[f["ground"]]
    outcome = {"kinds": [], "fine": 0.0, "confiscation": 0.0, "text": f"{NO_PENALTY_TEXT}（{ground}）",
               "no_penalty_ground": f["ground"]}

    def project() -> None:
        case.decided_on, case.decided_penalty = decided_on, outcome
        case.fine_fen = case.confiscation_fen = 0
        case.status = "decided"
        case.status_reason = f"{NO_PENALTY_TEXT}：{ground}"
    return Result({**jsonable(f), "ground_text": ground, "decision_number": case.case_number,
                   "penalty": outcome}, project=project)


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

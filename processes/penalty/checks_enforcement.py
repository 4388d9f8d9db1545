"""Legal checks of the step from an unpaid fine to the court (see ``forms_enforcement``).

行政强制法 Art. 53: the agency applies to the court within 3 months after the party's remedy windows
closed (``execution.remedy_windows_close``: reconsideration 60 days / litigation 6 months from
knowing the decision, or 15 days after receiving a reconsideration decision). Art. 54: before that
application a 催告书 is served; only after its 10-day period may the agency apply. The 催告's service
is an execution event (``reminder_served``) on the register, so the application is checked against
what was recorded, not against a date typed again into the application form.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from .checks import Result, Submission, fail, handles, jsonable
from .checks_execution import events_of, execution, execution_state_of
from .execution import earliest_enforcement_application
from .law import cn
from .models import ExecutionEvent

REMINDER_SERVED = "reminder_served"


def reminder_served_on(events: list[ExecutionEvent]) -> date | None:
    """The service date of the latest 催告书, if one was served."""
    served = [e.occurred_on for e in events if e.kind == REMINDER_SERVED]
    return served[-1] if served else None


@handles("penalty.enforcement_reminder")
def enforcement_reminder(sub: Submission) -> Result:
    f, case = sub.form, sub.case
    served_on: date = f["served_on"]
    if served_on > sub.today:
        fail("served_on", "催告书送达日期不能晚于今天")
    if case.effective_served_on and served_on < case.effective_served_on:
        fail("served_on", f"催告书送达日期不能早于处罚决定书送达日期{cn(case.effective_served_on)}")
    apply_from = earliest_enforcement_application(sub.rules, served_on)
    payload: dict[str, Any] = {**jsonable(f), "apply_from": apply_from.isoformat(),
                               "period_ends": (apply_from - timedelta(days=1)).isoformat(),
                               "apply_at": f"{apply_from.isoformat()}T00:00:00+08:00",
                               "reminder_days": sub.rules.periods.enforcement_reminder_days}
    event = ExecutionEvent(case_id=case.id, kind=REMINDER_SERVED, occurred_on=served_on,
                           note=f.get("statement") or None, recorded_by=sub.actor.user_id)

    def project() -> None:
        sub.session.add(event)
    return Result(payload, project=project)


@handles("penalty.urge_payment")
def urge_payment(sub: Submission) -> Result:
    """A payment while the 催告书's period runs, checked and recorded like any payment (nothing above
    what is owed that day, the surcharge so far). The diagram then recomputes the execution state: a
    settled case goes to closing instead of the court (Art. 54 asks the court only if the party
    "仍未履行"); a partial payment keeps the 催告 waiting."""
    return execution(sub)


@handles("penalty.enforcement")
def enforcement(sub: Submission) -> Result:
    f, case = sub.form, sub.case
    applied_on: date = f["applied_on"]
    if applied_on > sub.today:
        fail("applied_on", "申请日期不能晚于今天")
    served = reminder_served_on(events_of(sub.session, case.id))
    if served is None:
        fail("applied_on", "申请人民法院强制执行前，应当书面催告当事人履行义务（行政强制法第五十四条），"
                           "本案尚未送达催告书")
    assert served is not None
    apply_from = earliest_enforcement_application(sub.rules, served)
    if applied_on < apply_from:
        fail("applied_on", f"催告书于{cn(served)}送达，送达{sub.rules.periods.enforcement_reminder_days}日后"
                           f"当事人仍未履行的方可申请人民法院强制执行（行政强制法第五十四条），"
                           f"最早可于{cn(apply_from)}申请")
    state = execution_state_of(sub.session, case, applied_on)
    if state is not None and applied_on < state.enforcement_from:
        fail("applied_on", f"当事人申请行政复议、提起行政诉讼的期限尚未届满，自{cn(state.enforcement_from)}起方可"
                           f"申请人民法院强制执行（行政强制法第五十三条）")
    payload = {**jsonable(f), "reminder_served_on": served.isoformat(),
               "enforcement_due": state.enforcement_due.isoformat() if state else None}

    def project() -> None:
        case.execution_status = "enforcement_applied"
    return Result(payload, project=project)

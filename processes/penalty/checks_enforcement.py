"""Legal checks of the step from an unpaid fine to the court (see ``forms_enforcement``).

行政强制法 Art. 53: the agency applies to the court within 3 months after the party's remedy windows
closed (``execution.remedy_windows_close``: reconsideration 60 days / litigation 6 months from
knowing the decision, or 15 days after receiving a reconsideration decision). Art. 54: before that
application a 催告书 is served; only after its 10-day period may the agency apply. The 催告's service
is an execution event (``reminder_served``) on the register, so the application is checked against
what was recorded, not against a date typed again into the application form.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from . import law
from .checks import Result, Submission, fail, handles, jsonable
from .checks_execution import events_of, execution, state_on
from .execution import ExecutionState, earliest_enforcement_application, fen
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
    """The court application, or a payment made since the 催告书 (Art. 54: the court is asked only if
    the party "仍未履行"). A payment is checked and recorded like any payment (``execution``: nothing
    above what is owed that day, the surcharge up to that day). Paid in full: nothing is applied for,
    ``settled`` sends the case to closing (``gw_enforcement_paid``). Paid in part: the application
    is still required and goes ahead for what is owed on its day."""
    f, case = sub.form, sub.case
    events = events_of(sub.session, case.id)
    served = reminder_served_on(events)
    if served is None:
        fail("applied_on", "申请人民法院强制执行前，应当书面催告当事人履行义务（行政强制法第五十四条），"
                           "本案尚未送达催告书")
        return Result(jsonable(f))
    payment = _payment_before_application(sub, served) if f.get("paid_on") else None
    settled = bool(payment and payment.payload.get("settled"))
    applied_on: date | None = f.get("applied_on")
    payload: dict[str, Any] = {**jsonable(f), "reminder_served_on": served.isoformat(), "settled": settled}
    if payment is not None:
        payload["payment"] = payment.payload
    rest: ExecutionState | None = None
    if settled and applied_on is not None:
        fail("applied_on", "当事人已缴清罚没款和加处罚款，不再申请人民法院强制执行（行政强制法第五十四条），"
                           "请删除申请日期")
    elif not settled and applied_on is None and payment is not None:
        fail("applied_on", f"当事人缴纳{law.money(f['amount']):,.2f}元后尚欠"
                           f"{payment.payload.get('outstanding', 0):,.2f}元，仍应就未缴部分申请人民法院强制执行"
                           f"（行政强制法第五十三条、第五十四条），请填写申请日期和受理法院")
    elif not settled and applied_on is not None:
        paid = [_payment_event(sub)] if payment is not None else []
        rest = _application(sub, served, applied_on, [*events, *paid])
        payload.update(enforcement_due=rest.enforcement_due.isoformat() if rest else None,
                       outstanding=float(rest.outstanding) if rest else None)

    def project() -> None:
        if payment is not None and payment.project is not None:
            payment.project()
        if settled:
            return
        case.execution_status = "enforcement_applied"
        if rest is not None:
            case.surcharge_fen = fen(rest.surcharge)
    return Result(payload, project=project)


def _payment_event(sub: Submission) -> ExecutionEvent:
    """The payment as the execution state reads it (not stored: ``execution`` stores its own)."""
    return ExecutionEvent(case_id=sub.case.id, kind="payment", occurred_on=sub.form["paid_on"],
                          amount_fen=fen(law.money(sub.form["amount"])))


def _payment_before_application(sub: Submission, served: date) -> Result:
    """The payment made since the 催告书, checked and recorded by ``execution`` with its receipt number."""
    f = sub.form
    if f["paid_on"] < served:
        fail("paid_on", f"缴款日期不能早于催告书送达日期{cn(served)}，此前的缴款在“执行登记”中登记")
    if f.get("applied_on") and f["paid_on"] > f["applied_on"]:
        fail("paid_on", "缴款日期不能晚于申请强制执行日期")
    note = f"申请人民法院强制执行前缴款，缴款凭证号码：{f['receipt_no'].strip()}"
    return execution(replace(sub, form={"kind": "payment", "paid_on": f["paid_on"], "amount": f["amount"],
                                        "note": note}))


def _application(sub: Submission, served: date, applied_on: date,
                 events: list[ExecutionEvent]) -> ExecutionState | None:
    """Art. 53/54: not before the 催告's period ended nor before the remedy windows closed; the state
    on the application day (what is applied for)."""
    if applied_on > sub.today:
        fail("applied_on", "申请日期不能晚于今天")
    apply_from = earliest_enforcement_application(sub.rules, served)
    if applied_on < apply_from:
        fail("applied_on", f"催告书于{cn(served)}送达，送达{sub.rules.periods.enforcement_reminder_days}日后"
                           f"当事人仍未履行的方可申请人民法院强制执行（行政强制法第五十四条），"
                           f"最早可于{cn(apply_from)}申请")
    state = state_on(sub, events, applied_on)
    if state is not None and applied_on < state.enforcement_from:
        fail("applied_on", f"当事人申请行政复议、提起行政诉讼的期限尚未届满，自{cn(state.enforcement_from)}起方可"
                           f"申请人民法院强制执行（行政强制法第五十三条）")
    return state

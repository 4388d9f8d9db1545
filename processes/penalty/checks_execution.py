"""Legal checks of execution (执行): payments, deferral and instalment applications and the head's
decision on them, and the outcome of reconsideration or litigation (see ``checks``).

Every payment is checked against the execution state of its day (``execution.execution_state``):
nobody records more than is owed, and the register keeps the surcharge so far and the status the
payments give (partly paid, paid). An instalment plan is held against the fine in force and the
``[execution]`` limits of the case's rules (``instalments.plan_problems``) when the party applies
and again when the head approves it; the decision records who decided, when and why.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import now as engine_now
from engine.scripting import load_calendar

from . import law
from .checks import Result, Submission, fail, handles, jsonable
from .execution import ARRANGEMENTS, ExecutionState, execution_state, fen, plan_instalments
from .instalments import plan_problems, plan_text, stored_plan
from .law import Penalty
from .models import ExecutionEvent, PenaltyCase
from .rule_overrides import rules_for_case


def events_of(session: Session, case_id: str) -> list[ExecutionEvent]:
    return list(session.scalars(select(ExecutionEvent).where(ExecutionEvent.case_id == case_id)
                                .order_by(ExecutionEvent.id)))


def statutory_due(sub: Submission) -> date | None:
    """Art. 67: 15 days after (effective) service — the date plans and deferrals are counted from."""
    served = sub.case.effective_served_on
    return law.payment_due(sub.calendar, sub.rules, served) if served else None


def state_on(sub: Submission, events: list[ExecutionEvent], on: date) -> ExecutionState | None:
    case, due = sub.case, statutory_due(sub)
    if due is None or case.effective_served_on is None:
        return None
    decided = Penalty.of(case.decided_penalty)
    return execution_state(sub.rules, decided.fine, decided.confiscation, due, case.effective_served_on, events, on)


def execution_state_of(session: Session, case: PenaltyCase, today: date) -> ExecutionState | None:
    """The case's execution state on ``today`` for pages (remaining amount, surcharge so far,
    instalments); None before the decision is served or when there is nothing to pay."""
    if case.effective_served_on is None or not (case.fine_fen or case.confiscation_fen):
        return None
    rules = rules_for_case(session, case.id)
    due = law.payment_due(load_calendar(session), rules, case.effective_served_on)
    decided = Penalty.of(case.decided_penalty)
    return execution_state(rules, decided.fine, decided.confiscation, due, case.effective_served_on,
                           events_of(session, case.id), today)


def pending_arrangement(session: Session, case: PenaltyCase) -> dict[str, Any] | None:
    """The deferral or instalment application awaiting the head, as the approval page shows it."""
    pending = _pending(events_of(session, case.id))
    if pending is None:
        return None
    plan = [{"due_on": i.due_on, "amount": i.amount} for i in plan_instalments(pending.plan)]
    return {"kind": pending.kind, "applied_on": pending.occurred_on, "until": pending.until,
            "plan_text": plan_text(plan) if plan else "", "note": pending.note or ""}


def _money_fen(value: Any) -> int:
    return fen(law.money(value))


def _pending(events: list[ExecutionEvent]) -> ExecutionEvent | None:
    return next((e for e in reversed(events) if e.kind in ARRANGEMENTS and e.approved is None), None)


def _check_plan(sub: Submission, plan: list[dict[str, Any]], applied_on: date, state: ExecutionState | None,
                field_name: str) -> None:
    due = statutory_due(sub)
    if state is None or due is None:
        fail(field_name, "处罚决定尚未送达，不能申请分期缴纳")
    assert state is not None
    assert due is not None
    problems = plan_problems(sub.rules, plan, fine=state.fine, original_due=due, applied_on=applied_on)
    if problems:
        raise ValidationError({field_name: problems})


@handles("penalty.execution")
def execution(sub: Submission) -> Result:
    f, case = sub.form, sub.case
    kind = f.get("kind", "payment")
    date_field = "occurred_on" if "occurred_on" in f else "paid_on"
    on: date = f[date_field]
    if on > sub.today:
        fail(date_field, "日期不能晚于今天")
    events = events_of(sub.session, case.id)
    if kind in ARRANGEMENTS and _pending(events) is not None:
        fail("kind", "已有待负责人审批的延期或分期缴纳申请")
    if kind == "deferral" and case.payment_due and f["until"] <= case.payment_due:
        fail("until", f"延期缴纳的截止日期应晚于原缴款期限{law.cn(case.payment_due)}")
    payload: dict[str, Any] = {**jsonable({k: v for k, v in f.items() if k != "plan"}), "kind": kind}
    plan = None
    until = f.get("until")
    if kind == "instalments":
        _check_plan(sub, f["plan"], on, state_on(sub, events, on), "plan")
        plan, until = stored_plan(f["plan"]), f["plan"][-1]["due_on"]
        payload.update(plan=[{**p, "amount": p["amount_fen"] / 100} for p in plan], until=until.isoformat(),
                       plan_text=plan_text(plan))
    event = ExecutionEvent(case_id=case.id, kind=kind, occurred_on=on, until=until, plan=plan,
                           amount_fen=_money_fen(f.get("amount")), note=f.get("note"), recorded_by=sub.actor.user_id)
    state = None
    if kind == "payment":
        before = state_on(sub, events, on)
        if before is not None and law.money(f["amount"]) > before.outstanding:
            fail("amount", f"缴款金额超过{law.cn(on)}应缴的{before.outstanding:,.2f}元（罚没款"
                           f"{before.fine + before.confiscation:,.2f}元、加处罚款{before.surcharge:,.2f}元、"
                           f"已缴{before.paid:,.2f}元）")
        state = state_on(sub, [*events, event], on)
        if state is not None:
            payload.update(surcharge=float(state.surcharge), surcharge_days=state.surcharge_days,
                           settled=state.settled, outstanding=float(state.outstanding))

    def project() -> None:
        sub.session.add(event)
        if kind != "payment":
            return
        case.paid_fen = (case.paid_fen or 0) + event.amount_fen
        if state is not None:
            case.surcharge_fen = fen(state.surcharge)
            case.execution_status = state.status
        else:
            owed = (case.fine_fen or 0) + (case.confiscation_fen or 0)
            case.execution_status = "paid" if case.paid_fen >= owed else "partially_paid"
    return Result(payload, project=project)


@handles("penalty.payment_arrangement")
def payment_arrangement(sub: Submission) -> Result:
    """The head approves or refuses the pending deferral/instalment application (recorded on it)."""
    f = sub.form
    events = events_of(sub.session, sub.case.id)
    pending = _pending(events)
    if pending is None:
        fail("approved", "没有待审批的延期或分期缴纳申请")
    assert pending is not None
    payload: dict[str, Any] = {**jsonable(f), "kind": pending.kind,
                               "until": pending.until.isoformat() if pending.until else None}
    if pending.kind == "instalments":
        plan = [{"due_on": i.due_on, "amount": i.amount} for i in plan_instalments(pending.plan)]
        if f["approved"]:
            _check_plan(sub, plan, pending.occurred_on, state_on(sub, events, sub.today), "approved")
        payload["plan_text"] = plan_text(plan)

    def project() -> None:
        pending.approved = bool(f["approved"])
        pending.decided_by = sub.actor.user_id
        pending.decided_at = engine_now()
        pending.decision_note = f.get("opinion") or None
    return Result(payload, project=project)


@handles("penalty.appeal_result")
def appeal_result(sub: Submission) -> Result:
    f, case = sub.form, sub.case
    if f["concluded_on"] > sub.today:
        fail("concluded_on", "结果日期不能晚于今天")
    event = ExecutionEvent(case_id=case.id, kind=f"appeal_{f['result']}", occurred_on=f["concluded_on"],
                           amount_fen=_money_fen(f.get("new_fine")), note=f.get("note"), recorded_by=sub.actor.user_id)

    def project() -> None:
        sub.session.add(event)
        if f["result"] == "revoked":
            case.execution_status = "revoked"
    return Result(jsonable(f), project=project)

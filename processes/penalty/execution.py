"""执行: where a decided fine stands — paid, partly paid, paid in instalments, overdue with
surcharge, paused by an appeal, or due for a court enforcement application — computed from the
recorded execution events.

One function (``execution_state``) so the BPMN loop (``penalty.execution_state`` operator), the
payment form, the closing checks, the case page and the case card all read the same answer.

The schedule. Without an arrangement the whole fine is due on the statutory payment date
(Art. 67: 15 days after service). An approved deferral (延期) moves that date. An approved
instalment plan (分期, Art. 66) replaces the schedule by its instalments, each due on its own
date; the latest approved arrangement wins. If reconsideration or a judgment later changes the
fine, the instalments are taken in order up to the new fine and the last one absorbs any rest.

The surcharge (加处罚款, Art. 72; 行政强制法 Art. 45), day by day over the payment history:

* a day counts from the day after a due date up to and including the day of the computation
  (a payment made on day D is late for D: the existing rule "paid 10 days late = 10 days");
* the base of a day is the fine amount that had fallen due before that day minus everything
  paid before that day (payments go to the fine first, earliest instalment first; confiscated
  amounts carry no surcharge), never below zero;
* each day charges ``daily_rate`` (3%) of its base; days while reconsideration or litigation
  is pending (from the day it was lodged to the day it was concluded, inclusive) charge nothing;
* the day charges are summed exactly (Decimal), rounded once, half up, to the fen, and capped
  at ``cap_ratio`` x the fine (the fine in force, in fen).

Worked example: fine 5,000 due 2025-10-15, 2,000 paid on 10-20, the rest on 10-25. Days 10-16..10-20
charge 3% of 5,000 = 150 each (750), days 10-21..10-25 3% of 3,000 = 90 each (450): 1,200.00.
With no partial payment it is 10 x 150 = 1,500.00, as before. The whole case is settled when
the payments reach fine + confiscation + surcharge; the surcharge stops growing once the fine
itself is paid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .law import add_months, appeal_deadlines
from .models import ExecutionEvent
from .rules import Rules

APPEAL_STARTS = ("reconsideration", "litigation")
APPEAL_ENDS = ("appeal_upheld", "appeal_changed", "appeal_revoked")
ARRANGEMENTS = ("deferral", "instalments")
FEN = Decimal("0.01")


def fen(amount: Decimal) -> int:
    return int((amount / FEN).to_integral_value(rounding=ROUND_HALF_UP))


def yuan_of(fen_value: int) -> Decimal:
    return (Decimal(fen_value) * FEN).quantize(FEN)


@dataclass(frozen=True)
class Instalment:
    """One amount of the fine due on one day (the whole fine is one instalment without a plan)."""

    due_on: date
    amount: Decimal
    paid: Decimal = Decimal(0)

    def as_data(self) -> dict[str, Any]:
        return {"due_on": self.due_on.isoformat(), "amount": float(self.amount), "paid": float(self.paid),
                "remaining": float(self.amount - self.paid)}


@dataclass(frozen=True)
class ExecutionState:
    fine: Decimal
    confiscation: Decimal
    paid: Decimal
    surcharge: Decimal
    surcharge_days: int
    payment_due: date
    settled: bool
    revoked: bool
    appeal_pending: bool
    enforcement_from: date
    enforcement_due: date
    status: str
    schedule: tuple[Instalment, ...] = ()
    in_instalments: bool = False

    @property
    def outstanding(self) -> Decimal:
        return max(Decimal(0), self.fine + self.confiscation + self.surcharge - self.paid)

    @property
    def unpaid_fine(self) -> Decimal:
        return max(Decimal(0), self.fine - self.paid)

    @property
    def next_due(self) -> date:
        """Due date of the first instalment not yet covered by payments (else the final due date)."""
        return next((i.due_on for i in self.schedule if i.paid < i.amount), self.payment_due)

    def as_data(self) -> dict[str, Any]:
        """What the BPMN loop reads (JSON types)."""
        return {
            "fine": float(self.fine), "confiscation": float(self.confiscation), "paid": float(self.paid),
            "surcharge": float(self.surcharge),
            "surcharge_days": self.surcharge_days, "outstanding": float(self.outstanding),
            "payment_due": self.payment_due.isoformat(), "next_due": self.next_due.isoformat(),
            "settled": self.settled, "revoked": self.revoked,
            "appeal_pending": self.appeal_pending, "enforcement_from": self.enforcement_from.isoformat(),
            "enforcement_at": f"{self.enforcement_from.isoformat()}T00:00:00+08:00",
            "enforcement_due": self.enforcement_due.isoformat(), "status": self.status,
            "in_instalments": self.in_instalments, "instalments": [i.as_data() for i in self.schedule],
        }


def remedy_windows_close(rules: Rules, served_on: date, events: Sequence[ExecutionEvent]) -> date:
    """The last day the party may still apply for reconsideration or sue (行政强制法 Art. 53 counts
    the 3 months for the court application from the day after it).

    Nothing lodged: the later of 60 days (行政复议法 Art. 20) and 6 months (行政诉讼法 Art. 46) from
    service (when the party learnt of the decision). Reconsideration decided (its decision received
    on the recorded conclusion day): 15 days from then to sue (行政诉讼法 Art. 45), replacing the
    6 months. A lawsuit concluded: its conclusion day. While one is pending the case waits anyway.
    """
    reconsider_until, sue_until = appeal_deadlines(rules, served_on)
    close = max(reconsider_until, sue_until)
    lodged: str | None = None
    for event in sorted(events, key=lambda e: (e.occurred_on, e.id or 0)):
        if event.kind in APPEAL_STARTS:
            lodged = event.kind
        elif event.kind in APPEAL_ENDS and lodged is not None:
            if lodged == "reconsideration":
                close = event.occurred_on + timedelta(days=rules.periods.litigation_after_reconsideration_days)
            else:
                close = event.occurred_on
            lodged = None
    return close


def pauses_of(events: Sequence[ExecutionEvent]) -> list[tuple[date, date | None]]:
    """Reconsideration/litigation periods as (start, end or None while pending)."""
    pauses: list[tuple[date, date | None]] = []
    for event in events:
        if event.kind in APPEAL_STARTS:
            pauses.append((event.occurred_on, None))
        elif event.kind in APPEAL_ENDS and pauses and pauses[-1][1] is None:
            pauses[-1] = (pauses[-1][0], event.occurred_on)
    return pauses


def plan_instalments(plan: Sequence[dict[str, Any]] | None) -> list[Instalment]:
    """An event's stored plan (``due_on`` ISO date, ``amount_fen``) as instalments in date order."""
    items = [Instalment(date.fromisoformat(str(p["due_on"])), yuan_of(int(p["amount_fen"]))) for p in plan or ()]
    return sorted(items, key=lambda i: i.due_on)


def schedule_for(fine: Decimal, base_due: date, arrangement: ExecutionEvent | None) -> list[Instalment]:
    """The fine's instalments under the approved ``arrangement`` (None: all on ``base_due``)."""
    if arrangement is None or (arrangement.kind == "deferral" and arrangement.until is None):
        return [Instalment(base_due, fine)]
    if arrangement.kind == "deferral":
        assert arrangement.until is not None
        return [Instalment(max(base_due, arrangement.until), fine)]
    planned = plan_instalments(arrangement.plan)
    if not planned:
        return [Instalment(arrangement.until or base_due, fine)]
    schedule: list[Instalment] = []
    left = fine
    for index, item in enumerate(planned):
        amount = left if index == len(planned) - 1 else min(item.amount, left)
        schedule.append(Instalment(item.due_on, amount))
        left -= amount
    return schedule


def _paused(day: date, pauses: Sequence[tuple[date, date | None]]) -> bool:
    return any(start <= day and (end is None or day <= end) for start, end in pauses)


def surcharge_over_history(rules: Rules, fine: Decimal, schedule: Sequence[Instalment],
                           payments: Sequence[tuple[date, Decimal]], on: date,
                           pauses: Sequence[tuple[date, date | None]] = ()) -> tuple[Decimal, int]:
    """(surcharge, days charged) owed on ``on``: the computation of the module docstring."""
    if fine <= 0 or not schedule:
        return Decimal(0).quantize(FEN), 0
    dues = sorted(schedule, key=lambda i: i.due_on)
    total, days = Decimal(0), 0
    day = dues[0].due_on + timedelta(days=1)
    while day <= on:
        if not _paused(day, pauses):
            fallen_due = sum((i.amount for i in dues if i.due_on < day), Decimal(0))
            paid_before = sum((amount for paid_on, amount in payments if paid_on < day), Decimal(0))
            base = fallen_due - paid_before
            if base > 0:
                total += base * rules.surcharge.daily_rate
                days += 1
        day += timedelta(days=1)
    cap = (fine * rules.surcharge.cap_ratio).quantize(FEN, rounding=ROUND_HALF_UP)
    return min(total.quantize(FEN, rounding=ROUND_HALF_UP), cap), days


def _with_payments(schedule: Sequence[Instalment], paid: Decimal) -> tuple[Instalment, ...]:
    """Each instalment with what the payments so far cover of it (earliest first)."""
    left = paid
    covered = []
    for item in schedule:
        share = min(item.amount, max(left, Decimal(0)))
        covered.append(Instalment(item.due_on, item.amount, share))
        left -= share
    return tuple(covered)


def current_arrangement(events: Sequence[ExecutionEvent]) -> ExecutionEvent | None:
    """The latest approved deferral or instalment plan, if any."""
    approved = [e for e in events if e.kind in ARRANGEMENTS and e.approved]
    return approved[-1] if approved else None


def execution_state(rules: Rules, fine: Decimal, confiscation: Decimal, base_due: date, served_on: date,
                    events: Sequence[ExecutionEvent], today: date) -> ExecutionState:
    """Where execution stands on ``today`` (``base_due``: the statutory payment date)."""
    events = sorted(events, key=lambda e: (e.occurred_on, e.id or 0))
    revoked = False
    for event in events:
        if event.kind == "appeal_changed":
            fine = yuan_of(event.amount_fen)
        elif event.kind == "appeal_revoked":
            revoked = True
    arrangement = current_arrangement(events)
    schedule = schedule_for(fine, base_due, arrangement)
    due = max([base_due, *(i.due_on for i in schedule)])
    payments = [(e.occurred_on, yuan_of(e.amount_fen)) for e in events if e.kind == "payment"]
    paid = sum((amount for _on, amount in payments), Decimal(0))
    pauses = pauses_of(events)
    appeal_pending = bool(pauses) and pauses[-1][1] is None
    extra, days = (Decimal(0).quantize(FEN), 0) if revoked else \
        surcharge_over_history(rules, fine, schedule, payments, today, pauses)
    settled = revoked or (bool(payments) and paid >= fine + confiscation + extra)
    opens = max(due, remedy_windows_close(rules, served_on, events)) + timedelta(days=1)
    if revoked:
        status = "revoked"
    elif settled:
        status = "paid"
    elif appeal_pending:
        status = "appeal_pending"
    elif paid > 0:
        status = "partially_paid"
    else:
        status = "overdue" if today > schedule[0].due_on else "unpaid"
    return ExecutionState(fine, confiscation, paid, extra, days, due, settled, revoked, appeal_pending, opens,
                          add_months(opens, rules.periods.enforcement_application_months), status,
                          _with_payments(schedule, paid), bool(arrangement and arrangement.kind == "instalments"))


def earliest_enforcement_application(rules: Rules, reminder_served_on: date) -> date:
    """行政强制法 Art. 54: the court application comes after the 催告书's period: the day of service is
    not counted (行政处罚法 Art. 85 / 民事诉讼法 Art. 85), the period's days follow, the application the
    day after its last day (never on the day of service)."""
    return reminder_served_on + timedelta(days=rules.periods.enforcement_reminder_days + 1)

"""执行: where a decided fine stands — paid, overdue with surcharge, paused by an appeal, or due
for a court enforcement application — computed from the recorded execution events.

One function so the BPMN loop (``penalty.execution_state`` operator), the closing checks and
the case card all read the same answer. Simplification, stated: the surcharge is computed on
the whole fine until the day it is settled (partial payments do not reduce its base).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from .law import add_months, appeal_deadlines, surcharge
from .models import ExecutionEvent
from .rules import Rules

APPEAL_STARTS = ("reconsideration", "litigation")
APPEAL_ENDS = ("appeal_upheld", "appeal_changed", "appeal_revoked")
FEN = Decimal("0.01")


def fen(amount: Decimal) -> int:
    return int((amount / FEN).to_integral_value())


def yuan_of(fen_value: int) -> Decimal:
    return (Decimal(fen_value) * FEN).quantize(FEN)


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

    @property
    def outstanding(self) -> Decimal:
        return max(Decimal(0), self.fine + self.confiscation + self.surcharge - self.paid)

    def as_data(self) -> dict[str, Any]:
        """What the BPMN loop reads (JSON types)."""
        return {
            "fine": float(self.fine), "confiscation": float(self.confiscation), "paid": float(self.paid),
            "surcharge": float(self.surcharge),
            "surcharge_days": self.surcharge_days, "outstanding": float(self.outstanding),
            "payment_due": self.payment_due.isoformat(), "settled": self.settled, "revoked": self.revoked,
            "appeal_pending": self.appeal_pending, "enforcement_from": self.enforcement_from.isoformat(),
            "enforcement_at": f"{self.enforcement_from.isoformat()}T00:00:00+08:00",
            "enforcement_due": self.enforcement_due.isoformat(), "status": self.status,
        }


def pauses_of(events: Sequence[ExecutionEvent]) -> list[tuple[date, date | None]]:
    """Reconsideration/litigation periods as (start, end or None while pending)."""
    pauses: list[tuple[date, date | None]] = []
    for event in events:
        if event.kind in APPEAL_STARTS:
            pauses.append((event.occurred_on, None))
        elif event.kind in APPEAL_ENDS and pauses and pauses[-1][1] is None:
            pauses[-1] = (pauses[-1][0], event.occurred_on)
    return pauses


def execution_state(rules: Rules, fine: Decimal, confiscation: Decimal, base_due: date, served_on: date,
                    events: Sequence[ExecutionEvent], today: date) -> ExecutionState:
    """Where execution stands on ``today``; the surcharge runs on the fine only (Art. 72)."""
    events = sorted(events, key=lambda e: (e.occurred_on, e.id or 0))
    due = base_due
    revoked = False
    concluded: date | None = None
    for event in events:
        if event.kind in ("deferral", "instalments") and event.approved and event.until and event.until > due:
            due = event.until
        elif event.kind == "appeal_changed":
            fine = yuan_of(event.amount_fen)
        elif event.kind == "appeal_revoked":
            revoked = True
        if event.kind in APPEAL_ENDS:
            concluded = event.occurred_on
    payments = [e for e in events if e.kind == "payment"]
    paid = sum((yuan_of(e.amount_fen) for e in payments), Decimal(0))
    pauses = pauses_of(events)
    appeal_pending = bool(pauses) and pauses[-1][1] is None
    last_paid = payments[-1].occurred_on if payments else None
    owed_at_last, _days = surcharge(rules, fine, due, last_paid, pauses) if last_paid else (Decimal(0), 0)
    settled = revoked or (bool(payments) and paid >= fine + confiscation + owed_at_last)
    on = last_paid if settled and last_paid else today
    extra, days = (Decimal(0), 0) if revoked else surcharge(rules, fine, due, on, pauses)
    _reconsider_until, sue_until = appeal_deadlines(rules, served_on)
    opens = max(d for d in (due, sue_until, concluded) if d is not None) + timedelta(days=1)
    if revoked:
        status = "revoked"
    elif settled:
        status = "paid"
    elif appeal_pending:
        status = "appeal_pending"
    elif paid > 0:
        status = "partially_paid"
    else:
        status = "overdue" if today > due else "unpaid"
    return ExecutionState(fine, confiscation, paid, extra, days, due, settled, revoked, appeal_pending, opens,
                          add_months(opens, rules.periods.enforcement_application_months), status)

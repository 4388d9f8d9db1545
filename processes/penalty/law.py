"""The legal rules of 行政处罚法 as pure functions: limitation, penalty severity, deadlines, surcharge.

No database, no clock: callers pass dates, the ``Rules`` in force and the working-day calendar
(``engine.calendar.WorkCalendar``, with the admins' overrides). The services validate task forms
with these, the operators compute execution state with them, and the unit tests pin them to
hand-counted dates.
"""

from __future__ import annotations

import calendar as _month_calendar
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from engine.calendar import WorkCalendar

from .rules import Rules

PENALTY_KINDS: dict[str, str] = {
    "warning": "警告",
    "criticism": "通报批评",
    "fine": "罚款",
    "confiscation": "没收违法所得、没收非法财物",
    "licence_suspension": "暂扣许可证件",
    "qualification_downgrade": "降低资质等级",
    "licence_revocation": "吊销许可证件",
    "business_restriction": "限制开展生产经营活动",
    "suspension": "责令停产停业",
    "closure": "责令关闭",
    "employment_restriction": "限制从业",
}
"""行政处罚法 Art. 9 kinds a health agency may impose (no detention), in order of severity."""

SUMMARY_KINDS = frozenset({"warning", "fine"})
FEN = Decimal("0.01")


def money(value: object) -> Decimal:
    """An amount in yuan as Decimal, rounded half up to fen (floats go through their repr)."""
    if value in (None, ""):
        return Decimal(0)
    exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    return exact.quantize(FEN, rounding=ROUND_HALF_UP)


def add_months(day: date, months: int) -> date:
    """Same day ``months`` later, clamped to the month's end (6 months after 08-31 is 02-28/29)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, _month_calendar.monthrange(year, month)[1]))


def cn(day: date) -> str:
    """2025年10月9日."""
    return f"{day.year}年{day.month}月{day.day}日"


def add_years(day: date, years: int) -> date:
    return add_months(day, 12 * years)


# -- Art. 36 limitation ---------------------------------------------------------------------------

@dataclass(frozen=True)
class LimitationStatus:
    years: int
    counted_from: date
    expires_on: date
    expired: bool
    reason: str

    def as_data(self) -> dict[str, Any]:
        return {"years": self.years, "counted_from": self.counted_from.isoformat(),
                "expires_on": self.expires_on.isoformat(), "expired": self.expired, "reason": self.reason}


def limitation_status(rules: Rules, violation_date: date, discovered_on: date, *,
                      ended_on: date | None = None, public_health_harm: bool = False) -> LimitationStatus:
    """Art. 36: not discovered within 2 years (5 with harm to life/health) -> no penalty.

    The period runs from the day of the violation, or from its end when it was continuing.
    """
    years = rules.limitation.years_public_health_harm if public_health_harm else rules.limitation.years
    start = ended_on if ended_on and ended_on > violation_date else violation_date
    expires = add_years(start, years)
    expired = discovered_on > expires
    basis = "涉及公民生命健康安全且有危害后果，" if public_health_harm else ""
    if expired:
        reason = (f"违法行为自{cn(start)}起计算，{basis}追责时效{years}年已于{cn(expires)}届满，"
                  f"至{cn(discovered_on)}发现时已超过时效，依照《中华人民共和国行政处罚法》第三十六条"
                  f"不再给予行政处罚，不予立案。")
    else:
        reason = f"{basis}追责时效{years}年，自{cn(start)}起计算，至{cn(expires)}届满，未超过时效。"
    return LimitationStatus(years, start, expires, expired, reason)


# -- penalties ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Penalty:
    """A penalty as proposed, notified or decided: its kinds and the amounts that can grow."""

    kinds: tuple[str, ...]
    fine: Decimal = Decimal(0)
    confiscation: Decimal = Decimal(0)

    @classmethod
    def of(cls, data: Mapping[str, Any] | None) -> Penalty:
        data = data or {}
        kinds = tuple(k for k in PENALTY_KINDS if k in set(data.get("kinds") or ()))
        return cls(kinds, money(data.get("fine")), money(data.get("confiscation")))

    def as_data(self) -> dict[str, Any]:
        return {"kinds": list(self.kinds), "fine": float(self.fine), "confiscation": float(self.confiscation),
                "text": self.describe()}

    def describe(self) -> str:
        parts = []
        for kind in self.kinds:
            if kind == "fine":
                parts.append(f"罚款人民币{self.fine:,.2f}元")
            elif kind == "confiscation":
                parts.append(f"没收违法所得（非法财物）人民币{self.confiscation:,.2f}元")
            else:
                parts.append(PENALTY_KINDS[kind])
        return "，".join(parts) if parts else "不予行政处罚"


def heavier(new: Penalty, old: Penalty) -> list[str]:
    """Why ``new`` is heavier than ``old`` (Art. 45: never because of the party's defence); empty if not."""
    reasons = [f"增加了处罚种类“{PENALTY_KINDS[k]}”" for k in new.kinds if k not in old.kinds]
    if new.fine > old.fine:
        reasons.append(f"罚款由{old.fine:,.2f}元提高到{new.fine:,.2f}元")
    if new.confiscation > old.confiscation:
        reasons.append(f"没收金额由{old.confiscation:,.2f}元提高到{new.confiscation:,.2f}元")
    return reasons


def summary_problems(rules: Rules, party_type: str, penalty: Penalty) -> list[tuple[str, str]]:
    """Art. 51: the summary procedure allows only a warning or a small fine; (field, why) pairs."""
    problems = []
    others = [PENALTY_KINDS[k] for k in penalty.kinds if k not in SUMMARY_KINDS]
    if not penalty.kinds:
        problems.append(("penalty_kinds", "简易程序须给予警告或者罚款"))
    if others:
        problems.append(("penalty_kinds", f"简易程序只能给予警告或者罚款，不能给予{'、'.join(others)}，请适用一般程序"))
    cap = rules.summary.max_fine(party_type)
    who = "公民" if party_type == "person" else "法人或者其他组织"
    if "fine" in penalty.kinds and penalty.fine > cap:
        problems.append(("fine", f"简易程序对{who}罚款不得超过{cap:,.0f}元（行政处罚法第五十一条），"
                                 f"拟罚款{penalty.fine:,.2f}元，请适用一般程序"))
    if penalty.confiscation > 0:
        problems.append(("confiscation", "简易程序不能没收违法所得或者非法财物"))
    return problems


# -- deadlines ------------------------------------------------------------------------------------

def filing_due(calendar: WorkCalendar, rules: Rules, discovered_on: date) -> date:
    """Decide whether to file within ``filing_workdays`` of discovering the clue (令第13号): counted from
    discovery, so a lead registered or accepted later does not push the deadline back."""
    return calendar.add_workdays(discovered_on, rules.periods.filing_workdays).due


def filing_extended_due(calendar: WorkCalendar, rules: Rules, due: date) -> date:
    """The filing period after the head's one extension (``filing_extension_workdays``)."""
    return calendar.add_workdays(due, rules.periods.filing_extension_workdays).due


def statement_due(calendar: WorkCalendar, rules: Rules, served_on: date) -> date:
    """Last day for a statement and defence after the prior notice (period of rules.toml, not statute)."""
    return calendar.add_workdays(served_on, rules.periods.statement_workdays).due


def hearing_request_due(calendar: WorkCalendar, rules: Rules, served_on: date) -> date:
    """Art. 64(1): the party asks for a hearing within 5 (working, Art. 85) days of being told."""
    return calendar.add_workdays(served_on, rules.periods.hearing_request_workdays).due


def earliest_hearing_date(calendar: WorkCalendar, rules: Rules, notice_sent_on: date) -> date:
    """Art. 64: the hearing notice goes out at least 7 working days before the hearing.

    The 7 working days are counted after the notice day (Art. 85) and include the hearing day.
    """
    return calendar.add_workdays(notice_sent_on, rules.periods.hearing_notice_workdays).due


def service_due(calendar: WorkCalendar, rules: Rules, decided_on: date) -> date:
    """Art. 61: serve within 7 working days of the decision (unless handed over on the spot)."""
    return calendar.add_workdays(decided_on, rules.periods.service_workdays).due


def effective_service_date(calendar: WorkCalendar, rules: Rules, method: str, served_on: date) -> date:
    """Service by public notice counts as done when the notice period ends."""
    if method == "public_notice":
        return calendar.add_days(served_on, rules.periods.public_notice_days).due
    return served_on


def payment_due(calendar: WorkCalendar, rules: Rules, served_on: date) -> date:
    """Art. 67: pay within 15 days of receiving the decision (calendar days, rolled)."""
    return calendar.add_days(served_on, rules.periods.payment_days).due


def appeal_deadlines(rules: Rules, served_on: date) -> tuple[date, date]:
    """(last day to apply for reconsideration, last day to sue) counted from service."""
    return (served_on + timedelta(days=rules.periods.reconsideration_days),
            add_months(served_on, rules.periods.litigation_months))


# -- Art. 72 surcharge ----------------------------------------------------------------------------

def _paused_days(after: date, until: date, pauses: Iterable[tuple[date, date | None]]) -> set[date]:
    days: set[date] = set()
    for start, end in pauses:
        day = max(start, after + timedelta(days=1))
        last = min(end or until, until)
        while day <= last:
            days.add(day)
            day += timedelta(days=1)
    return days


def surcharge(rules: Rules, fine: Decimal, due: date, on: date,
              pauses: Sequence[tuple[date, date | None]] = ()) -> tuple[Decimal, int]:
    """(surcharge, days counted) owed on ``on`` for a fine due on ``due``.

    Art. 72: 3% of the fine for every day after the due date, never more than the fine; days
    while reconsideration or litigation is pending (``pauses``: inclusive date ranges, an open
    end meaning "still pending") do not count.
    """
    if on <= due or fine <= 0:
        return Decimal(0).quantize(FEN), 0
    total = (on - due).days
    days = total - len(_paused_days(due, on, pauses))
    amount = (fine * rules.surcharge.daily_rate * days).quantize(FEN, rounding=ROUND_HALF_UP)
    cap = (fine * rules.surcharge.cap_ratio).quantize(FEN, rounding=ROUND_HALF_UP)
    return min(amount, cap), days

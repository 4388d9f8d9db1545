"""When a recurring plan is due, in Asia/Shanghai: cron-like rules that know working days.

Why not a bare cron expression: "the first working day of each quarter at 08:00" is what plans
say, and cron cannot express it (New Year's Day and the Spring Festival move it). A rule names
its period (year, quarter, month) and the day within it; ``cron <expr>`` takes any crontab line
through APScheduler's ``CronTrigger`` for what the calendar rules do not cover. Each occurrence
has a period key (``2026``, ``2026Q2``, ``2026-04``, ``cron:202604010800``): the scheduler's
exactly-once guard is unique per (schedule, period key).

Grammar: ``yearly|quarterly|monthly (first-workday | day <1-28>) HH:MM`` or ``cron <5 fields>``.
The first working day of a year whose holiday arrangement is not entered yet follows the weekday
rule (Monday to Friday); the period key stays the same when the arrangement is entered later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from apscheduler.triggers.cron import CronTrigger

from engine.calendar import CHINA_TZ, WorkCalendar

_RULE = re.compile(r"^(yearly|quarterly|monthly)\s+(first-workday|day\s+(\d{1,2}))\s+(\d{1,2}):(\d{2})$")
_MONTHS = {"yearly": 12, "quarterly": 3, "monthly": 1}
LOOKBACK = timedelta(days=400)


class RecurrenceError(ValueError):
    pass


@dataclass(frozen=True)
class Recurrence:
    spec: str
    every: str  # yearly | quarterly | monthly | cron
    day: int | None = None  # None: first working day
    at: time = time(8, 0)
    cron: str = ""

    # -- periods of the calendar rules -----------------------------------------------------------
    def _start(self, year: int, index: int) -> date:
        return date(year, 1 + index * _MONTHS[self.every], 1)

    def _key(self, year: int, index: int) -> str:
        keys = {"yearly": f"{year}", "quarterly": f"{year}Q{index + 1}", "monthly": f"{year}-{index + 1:02d}"}
        return keys[self.every]

    def _index(self, day: date) -> tuple[int, int]:
        return day.year, (day.month - 1) // _MONTHS[self.every]

    def _step(self, year: int, index: int, by: int) -> tuple[int, int]:
        per_year = 12 // _MONTHS[self.every]
        total = year * per_year + index + by
        return total // per_year, total % per_year

    def _occurrence(self, year: int, index: int, calendar: WorkCalendar) -> datetime:
        first = self._start(year, index)
        day = first.replace(day=self.day) if self.day else first
        if self.day is None:  # weekday rule for a year whose arrangement is not entered yet
            day = calendar.next_workday(first - timedelta(days=1)).due
        return datetime.combine(day, self.at, CHINA_TZ)

    # -- the scheduler's questions ---------------------------------------------------------------
    def period_of(self, moment: datetime, calendar: WorkCalendar) -> tuple[str, datetime]:
        """The period ``moment`` falls in and its occurrence (which may still be ahead)."""
        if self.every == "cron":
            upcoming = self.next_after(moment - timedelta(microseconds=1), calendar)
            latest = self.latest_due(moment, calendar)
            return latest if latest is not None else upcoming
        year, index = self._index(moment.astimezone(CHINA_TZ).date())
        return self._key(year, index), self._occurrence(year, index, calendar)

    def latest_due(self, now: datetime, calendar: WorkCalendar) -> tuple[str, datetime] | None:
        """The newest occurrence at or before ``now`` (None when there is none within 400 days)."""
        if self.every == "cron":
            trigger = CronTrigger.from_crontab(self.cron, timezone=CHINA_TZ)
            found, cursor = None, now - LOOKBACK
            for _ in range(100_000):
                fire = trigger.get_next_fire_time(None, cursor)
                if fire is None or fire > now:
                    break
                found, cursor = fire, fire + timedelta(seconds=1)
            return (f"cron:{found.astimezone(CHINA_TZ):%Y%m%d%H%M}", found) if found else None
        year, index = self._index(now.astimezone(CHINA_TZ).date())
        occurrence = self._occurrence(year, index, calendar)
        if occurrence > now:
            year, index = self._step(year, index, -1)
            occurrence = self._occurrence(year, index, calendar)
        return self._key(year, index), occurrence

    def next_after(self, now: datetime, calendar: WorkCalendar) -> tuple[str, datetime]:
        """The first occurrence after ``now``."""
        if self.every == "cron":
            fire = CronTrigger.from_crontab(self.cron, timezone=CHINA_TZ).get_next_fire_time(None, now +
                                                                                             timedelta(seconds=1))
            if fire is None:
                raise RecurrenceError(f"{self.spec}: no further occurrence")
            return f"cron:{fire.astimezone(CHINA_TZ):%Y%m%d%H%M}", fire
        year, index = self._index(now.astimezone(CHINA_TZ).date())
        for by in range(3):
            y, i = self._step(year, index, by)
            occurrence = self._occurrence(y, i, calendar)
            if occurrence > now:
                return self._key(y, i), occurrence
        raise RecurrenceError(f"{self.spec}: no further occurrence")


def parse(spec: str) -> Recurrence:
    text = " ".join((spec or "").split())
    if text.startswith("cron "):
        expression = text[5:]
        try:
            CronTrigger.from_crontab(expression, timezone=CHINA_TZ)
        except ValueError as exc:
            raise RecurrenceError(f"cron expression {expression!r}: {exc}") from exc
        return Recurrence(text, "cron", cron=expression)
    match = _RULE.match(text)
    if match is None:
        raise RecurrenceError(f"{spec!r}: expected e.g. 'quarterly first-workday 08:00' or 'cron 0 8 1 1,4,7,10 *'")
    every, _day, day, hour, minute = match.groups()
    if day is not None and not 1 <= int(day) <= 28:
        raise RecurrenceError(f"{spec!r}: the day must be 1 to 28 (every month has it)")
    if not (0 <= int(hour) <= 23 and 0 <= int(minute) <= 59):
        raise RecurrenceError(f"{spec!r}: no such time of day")
    return Recurrence(text, every, int(day) if day else None, time(int(hour), int(minute)))

"""Working-day calendar for legal deadlines (行政处罚法 Art. 85).

Art. 85 counts periods of 2/3/5/7 days in *working* days (statutory holidays excluded, the
调休 make-up Saturdays and Sundays count as working days) and 15/90-day periods in calendar days;
a period never counts its start day, and a calendar-day period ending on a non-working day
rolls to the next working day.

Where the data comes from, in order of precedence:

1. an admin override for that single date (``{date: is_workday}``): it wins even in a year
   ``chinese_calendar`` knows, so a wrong or amended library entry can be corrected;
2. ``chinese_calendar`` (2004-2026 in chinesecalendar 1.11), which knows every 调休;
3. the weekday rule (Mon-Fri work) for a year listed in ``complete_years``: admins entered
   that year's whole arrangement as overrides, so every date *not* overridden is ordinary;
4. otherwise the weekday rule as a **guess**: the State Council has not announced the year (or
   nobody entered it). We never present a guess as fact: every lenient computation returns
   ``certain=False`` with the years it had to guess, and each has a ``*_strict`` twin that
   raises ``CalendarUnknownYear`` instead.

``complete_years`` does not replace ``chinese_calendar`` in a year the library knows: marking
such a year complete cannot silently wipe its holidays; corrections there are single-date
overrides.

Dates and datetimes: a ``date`` in gives a ``date`` out. A ``datetime`` in gives a ``datetime``
out at the same wall-clock time, in the same tzinfo; the calendar day of an aware datetime is
its day in China (Asia/Shanghai), and a naive datetime is taken as China local time.

Pure: no database, no clock. The override table is read by the caller (``engine.scripting``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Generic, TypeVar, cast
from zoneinfo import ZoneInfo

import chinese_calendar

CHINA_TZ = ZoneInfo("Asia/Shanghai")
"""The zone every calendar day is counted in (China has one zone and no DST since 1991)."""

D = TypeVar("D", bound=date)
_ONE_DAY = timedelta(days=1)


class CalendarUnknownYear(LookupError):
    """A deadline needs a year for which no working-day arrangement is known."""

    def __init__(self, year: int) -> None:
        super().__init__(
            f"no working-day calendar for {year}: enter the State Council's holiday arrangement "
            f"for {year} in the calendar overrides")
        self.year = year


@dataclass(frozen=True)
class Deadline(Generic[D]):
    """A computed due date, and whether every day it depended on was known.

    ``certain`` is False when ``unknown_years`` is not empty: ``due`` was then computed with the
    weekday rule for those years and may move once their arrangement is entered.
    """

    due: D
    certain: bool
    unknown_years: tuple[int, ...]


@dataclass(frozen=True)
class WorkdayCount:
    """Working days from one day to another (negative when the second lies before the first)."""

    days: int
    certain: bool
    unknown_years: tuple[int, ...]


@functools.lru_cache(maxsize=256)
def library_knows_year(year: int) -> bool:
    """True when ``chinese_calendar`` has the State Council's arrangement for ``year``."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


@functools.lru_cache(maxsize=16384)
def _library_is_workday(day: date) -> bool:
    # chinese_calendar re-scans its whole table to validate the year on every call; a cache
    # keeps a 30-day inbox countdown cheap.
    return bool(chinese_calendar.is_workday(day))


def _local_day(moment: date) -> date:
    """The calendar day (in China) a date or datetime falls on."""
    if isinstance(moment, datetime):
        if moment.tzinfo is not None:
            moment = moment.astimezone(CHINA_TZ)
        return moment.date()
    return moment


def _like(start: D, day: date) -> D:
    """``day`` expressed like ``start``: a date, or a datetime at start's wall-clock time and tz."""
    if isinstance(start, datetime):
        if start.tzinfo is None:
            return cast(D, datetime.combine(day, start.time()))
        local = start.astimezone(CHINA_TZ)
        return cast(D, datetime.combine(day, local.time(), CHINA_TZ).astimezone(start.tzinfo))
    return cast(D, day)


def _require_days(n: int) -> None:
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"number of days must be an int, got {type(n).__name__}")
    if n < 0:
        raise ValueError(f"number of days must be >= 0, got {n}")


def _strict(unknown_years: tuple[int, ...]) -> None:
    if unknown_years:
        raise CalendarUnknownYear(unknown_years[0])


class WorkCalendar:
    """Which days are working days in mainland China, with admin overrides.

    ``overrides`` maps single dates to ``True`` (working day, e.g. a make-up Saturday) or
    ``False`` (day off, e.g. a holiday on a weekday). ``complete_years`` lists the years whose
    whole arrangement has been entered, making the weekday rule authoritative for the rest of
    them. Instances are immutable; build a new one when the override table changes.
    """

    def __init__(self, overrides: Mapping[date, bool] | None = None,
                 complete_years: Iterable[int] = ()) -> None:
        self._overrides: dict[date, bool] = {
            _local_day(day): bool(is_workday) for day, is_workday in (overrides or {}).items()}
        self._complete_years = frozenset(int(y) for y in complete_years)

    def __repr__(self) -> str:
        return (f"WorkCalendar({len(self._overrides)} overrides, "
                f"complete_years={sorted(self._complete_years)})")

    # -- the one primitive ------------------------------------------------------------------

    def _status(self, day: date) -> tuple[bool, bool]:
        """(is it a working day, is that known rather than guessed)."""
        override = self._overrides.get(day)
        if override is not None:
            return override, True
        if library_knows_year(day.year):
            return _library_is_workday(day), True
        return day.weekday() < 5, day.year in self._complete_years

    def knows_year(self, year: int) -> bool:
        """True when every date of ``year`` is known (library data or a complete admin entry).

        A year with only some overridden dates is not known: its other dates are guesses.
        """
        return library_knows_year(year) or year in self._complete_years

    # -- queries ----------------------------------------------------------------------------

    def is_workday(self, day: date) -> bool:
        """Whether ``day`` is a working day; raises ``CalendarUnknownYear`` rather than guess."""
        local = _local_day(day)
        is_work, certain = self._status(local)
        if not certain:
            raise CalendarUnknownYear(local.year)
        return is_work

    def add_workdays(self, start: D, n: int) -> Deadline[D]:
        """The n-th working day after ``start`` (start day not counted; n=0 gives ``start``).

        Example: served on Tue 2025-09-30, a 5-working-day period skips National Day
        (10-01..10-08), counts the make-up Saturday 10-11 and ends on Tue 2025-10-14.
        """
        _require_days(n)
        day = _local_day(start)
        unknown: set[int] = set()
        remaining = n
        while remaining > 0:
            day += _ONE_DAY
            is_work, certain = self._status(day)
            if not certain:
                unknown.add(day.year)
            if is_work:
                remaining -= 1
        return _deadline(_like(start, day), unknown)

    def add_days(self, start: D, n: int) -> Deadline[D]:
        """``start`` plus n calendar days, rolled forward to a working day if it is not one.

        Only the end day (and the days it rolls over) matter, so a period that merely passes
        through an unknown year is still certain.
        """
        _require_days(n)
        day = _local_day(start) + timedelta(days=n)
        unknown: set[int] = set()
        while True:
            is_work, certain = self._status(day)
            if not certain:
                unknown.add(day.year)
            if is_work:
                break
            day += _ONE_DAY
        return _deadline(_like(start, day), unknown)

    def next_workday(self, day: D) -> Deadline[D]:
        """The first working day strictly after ``day``."""
        return self.add_workdays(day, 1)

    def count_workdays(self, start: date, end: date) -> WorkdayCount:
        """Working days in (start, end], negated when ``end`` is before ``start``.

        So ``count_workdays(a, add_workdays(a, n).due).days == n``: "due today" is 0 left,
        "due on the next working day" is 1, and one working day overdue is -1. Time of day is
        ignored; only calendar days (in China) count.
        """
        first, last = _local_day(start), _local_day(end)
        sign = 1
        if last < first:
            first, last, sign = last, first, -1
        unknown: set[int] = set()
        count = 0
        day = first
        while day < last:
            day += _ONE_DAY
            is_work, certain = self._status(day)
            if not certain:
                unknown.add(day.year)
            if is_work:
                count += 1
        years = tuple(sorted(unknown))
        return WorkdayCount(sign * count, not years, years)

    def workdays_between(self, start: date, end: date) -> int:
        """Working days left from ``start`` until ``end`` (the inbox's "N 个工作日"); may guess.

        Use ``count_workdays`` to learn whether the number is certain, or the strict variant.
        """
        return self.count_workdays(start, end).days

    # -- strict variants: raise instead of guessing -----------------------------------------

    def add_workdays_strict(self, start: D, n: int) -> D:
        result = self.add_workdays(start, n)
        _strict(result.unknown_years)
        return result.due

    def add_days_strict(self, start: D, n: int) -> D:
        result = self.add_days(start, n)
        _strict(result.unknown_years)
        return result.due

    def next_workday_strict(self, day: D) -> D:
        result = self.next_workday(day)
        _strict(result.unknown_years)
        return result.due

    def workdays_between_strict(self, start: date, end: date) -> int:
        result = self.count_workdays(start, end)
        _strict(result.unknown_years)
        return result.days


def _deadline(due: D, unknown: set[int]) -> Deadline[D]:
    years = tuple(sorted(unknown))
    return Deadline(due, not years, years)


@functools.lru_cache(maxsize=1)
def default_calendar() -> WorkCalendar:
    """``chinese_calendar`` alone, no admin overrides (shared: instances are immutable)."""
    return WorkCalendar()

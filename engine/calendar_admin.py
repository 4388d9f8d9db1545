"""Entering the State Council's holiday arrangement for a year, and correcting single days.

Why: ``chinesecalendar`` knows the years up to its release (2004-2026 in 1.11); the State
Council announces the next year's holidays and make-up working days (调休) each November or
December. Until an administrator enters them, every deadline reaching that year is computed on
the weekday rule and flagged uncertain (``engine.calendar``). These verbs are how the
arrangement gets in: checked as a whole before anything is written, stored in the override
table the deadline helpers read, recorded in the system audit chain with what it replaced, and
effective in this process at once (other processes within ``scripting.CALENDAR_TTL_SECONDS``).

Messages are Chinese (what an administrator reads); the web's domain catalog has the English.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from . import audit
from .actor import Actor
from .calendar import CHINA_TZ, library_knows_year
from .errors import InvalidData, PermissionDenied
from .models import CalendarOverride, CalendarYear, HumanTask
from .scripting import invalidate_calendar

FIRST_YEAR, LAST_YEAR = 2004, 2200
NOTE_MAX = 200
MAX_YEARS_LISTED = 20  # of guessed deadlines' years, from the earliest

YearSource = Literal["library", "entered", "unknown"]


@dataclass(frozen=True)
class YearStatus:
    """One year as the admin page shows it: where its working days come from, what was entered
    (days off on weekdays and weekends alike, make-up working days), and how many open tasks
    carry a deadline computed without it."""

    year: int
    source: YearSource
    holidays: tuple[date, ...] = ()
    workdays: tuple[date, ...] = ()
    note: str | None = None
    entered_by: str | None = None
    entered_at: datetime | None = None
    uncertain_tasks: int = 0


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDenied("只有管理员可以录入或更正节假日安排")


def _note(text: str | None) -> str:
    note = (text or "").strip()
    if not note:
        raise InvalidData("请填写依据（如国务院办公厅通知的文号）", field="note")
    if len(note) > NOTE_MAX:
        raise InvalidData(f"依据不能超过{NOTE_MAX}个字", field="note")
    return note


def _is_day(value: object) -> bool:
    """A calendar date (a ``datetime`` is a moment, not a day)."""
    return isinstance(value, date) and not isinstance(value, datetime)


def _days(values: Iterable[date], year: int, field: str) -> tuple[date, ...]:
    days = []
    for value in values:
        if not _is_day(value):
            raise InvalidData(f"{value!r} 不是日期", field=field)
        if value.year != year:
            raise InvalidData(f"{value.isoformat()} 不在{year}年内", field=field)
        days.append(value)
    return tuple(sorted(set(days)))


def enter_year(session: Session, actor: Actor, year: int, holidays: Iterable[date], workdays: Iterable[date],
               note: str, *, now: datetime | None = None) -> YearStatus:
    """Store ``year``'s whole arrangement (replacing an earlier entry); the weekday rule holds for
    every other day of it, and its deadlines are no longer guesses. The caller commits."""
    _require_admin(actor)
    if isinstance(year, bool) or not isinstance(year, int) or not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidData(f"年份应在{FIRST_YEAR}至{LAST_YEAR}之间", field="year")
    if library_knows_year(year):
        raise InvalidData(f"{year}年的安排已由 chinesecalendar 提供，只能按日更正", field="year")
    text = _note(note)
    off, on = _days(holidays, year, "holidays"), _days(workdays, year, "workdays")
    if not off:
        raise InvalidData("请至少填写一个放假日期（如元旦）", field="holidays")
    both = sorted(set(off) & set(on))
    if both:
        raise InvalidData(f"{both[0].isoformat()} 不能既放假又上班", field="workdays")
    weekday = [d for d in on if d.weekday() < 5]
    if weekday:
        raise InvalidData(f"{weekday[0].isoformat()} 本是工作日，无需登记为调休上班", field="workdays")
    previous = year_status(session, year)
    session.execute(delete(CalendarOverride).where(CalendarOverride.day >= date(year, 1, 1),
                                                   CalendarOverride.day <= date(year, 12, 31)))
    session.add_all([CalendarOverride(day=d, is_workday=False, note=text) for d in off])
    session.add_all([CalendarOverride(day=d, is_workday=True, note=text) for d in on])
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    row = session.get(CalendarYear, year)
    if row is None:
        row = CalendarYear(year=year, entered_by=actor.user_id, entered_at=moment)
        session.add(row)
    else:
        row.entered_by, row.entered_at = actor.user_id, moment
    audit.append(session, actor.user_id, "calendar_year_entered", now=moment, data={
        "year": year, "holidays": [d.isoformat() for d in off], "workdays": [d.isoformat() for d in on],
        "note": text, "replaced": None if not (previous.holidays or previous.workdays) else {
            "holidays": [d.isoformat() for d in previous.holidays],
            "workdays": [d.isoformat() for d in previous.workdays]}})
    session.flush()
    invalidate_calendar()
    return year_status(session, year)


def correct_day(session: Session, actor: Actor, day: date, is_workday: bool | None, note: str,
                *, now: datetime | None = None) -> None:
    """Correct one date in any year (``None`` removes the correction): for a library entry that is
    wrong or a notice amended after it was entered. The caller commits."""
    _require_admin(actor)
    if not _is_day(day) or not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise InvalidData("请填写有效日期", field="day")
    text = _note(note)
    row = session.get(CalendarOverride, day)
    before = None if row is None else row.is_workday
    if is_workday is None:
        if row is None:
            raise InvalidData(f"{day.isoformat()} 没有更正记录", field="day")
        session.delete(row)
    elif row is None:
        session.add(CalendarOverride(day=day, is_workday=is_workday, note=text))
    else:
        row.is_workday, row.note = is_workday, text
    audit.append(session, actor.user_id, "calendar_day_corrected", now=now, data={
        "day": day.isoformat(), "is_workday": is_workday, "before": before, "note": text})
    session.flush()
    invalidate_calendar()


def year_status(session: Session, year: int) -> YearStatus:
    """Where ``year``'s working days come from, what was entered, and its uncertain deadlines."""
    rows = list(session.scalars(select(CalendarOverride).where(
        CalendarOverride.day >= date(year, 1, 1), CalendarOverride.day <= date(year, 12, 31))
        .order_by(CalendarOverride.day)))
    entered = session.get(CalendarYear, year)
    source: YearSource = "library" if library_knows_year(year) else "entered" if entered is not None else "unknown"
    return YearStatus(
        year=year, source=source,
        holidays=tuple(r.day for r in rows if not r.is_workday), workdays=tuple(r.day for r in rows if r.is_workday),
        note=_year_note(rows), entered_by=entered.entered_by if entered else None,
        entered_at=entered.entered_at if entered else None, uncertain_tasks=_uncertain_count(session, year))


def _year_note(rows: list[CalendarOverride]) -> str | None:
    """The source most of the year's days were entered with (a later single-day correction
    carries its own note and must not stand for the year)."""
    notes = Counter(r.note for r in rows if r.note)
    return notes.most_common(1)[0][0] if notes else None


def calendar_years(session: Session, today: date) -> list[YearStatus]:
    """Last year, this year, the next two, every year an admin entered, and every year an open
    task's guessed deadline falls in (however far ahead), in order."""
    years = set(range(today.year - 1, today.year + 3))
    years.update(session.scalars(select(CalendarYear.year)))
    first, last = session.execute(select(func.min(HumanTask.due_at), func.max(HumanTask.due_at)).where(
        HumanTask.status == "ready", HumanTask.due_uncertain.is_(True))).one()
    if first is not None and last is not None:
        low, high = first.astimezone(CHINA_TZ).year, last.astimezone(CHINA_TZ).year
        years.update(range(max(low, FIRST_YEAR), min(high, low + MAX_YEARS_LISTED, LAST_YEAR) + 1))
    return [year_status(session, y) for y in sorted(years)]


def _year_bounds(year: int) -> tuple[datetime, datetime]:
    start = datetime(year, 1, 1, tzinfo=CHINA_TZ).astimezone(UTC)
    return start, datetime(year + 1, 1, 1, tzinfo=CHINA_TZ).astimezone(UTC)


def _uncertain_count(session: Session, year: int) -> int:
    """Open tasks flagged uncertain whose deadline falls in ``year`` (a period that merely runs
    through the year ends after it; those show up under their own year)."""
    start, end = _year_bounds(year)
    return session.scalar(select(func.count()).select_from(HumanTask).where(
        HumanTask.status == "ready", HumanTask.due_uncertain.is_(True), HumanTask.due_at >= start,
        HumanTask.due_at < end)) or 0


def uncertain_tasks(session: Session, year: int | None = None, limit: int = 200) -> list[HumanTask]:
    """Open tasks whose deadline was computed without a year's arrangement, soonest first: the
    ones a head should check (and confirm or move with ``set_due``) once the year is entered."""
    query = select(HumanTask).where(HumanTask.status == "ready", HumanTask.due_uncertain.is_(True))
    if year is not None:
        start, end = _year_bounds(year)
        query = query.where(HumanTask.due_at >= start, HumanTask.due_at < end)
    return list(session.scalars(query.order_by(HumanTask.due_sort, HumanTask.id).limit(limit)))

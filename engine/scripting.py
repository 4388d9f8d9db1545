"""Wiring of the script sandbox and the working-day calendar into a command.

The calendar's admin overrides live in the database; they change a few times a year, so they
are cached per process for a short time (and dropped at once when edited through the engine).
"""

from __future__ import annotations

import threading
import time
from contextlib import AbstractContextManager
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import clock
from .calendar import WorkCalendar
from .models import CalendarOverride, CalendarYear
from .sandbox import SandboxedScriptEngine, use_calendar

CALENDAR_TTL_SECONDS = 60.0
_cache: tuple[float, WorkCalendar] | None = None
_lock = threading.Lock()


def make_script_engine() -> SandboxedScriptEngine:
    return SandboxedScriptEngine(clock=clock.now)


def load_calendar(session: Session) -> WorkCalendar:
    global _cache  # noqa: PLW0603 - process-wide cache of a small, rarely edited table
    cached = _cache
    if cached is not None and time.monotonic() - cached[0] < CALENDAR_TTL_SECONDS:
        return cached[1]
    overrides: dict[date, bool] = {o.day: o.is_workday for o in session.scalars(select(CalendarOverride))}
    years = [y.year for y in session.scalars(select(CalendarYear))]
    calendar = WorkCalendar(overrides=overrides, complete_years=years)
    with _lock:
        _cache = (time.monotonic(), calendar)
    return calendar


def invalidate_calendar() -> None:
    global _cache  # noqa: PLW0603
    with _lock:
        _cache = None


def work_calendar(session: Session) -> AbstractContextManager[object]:
    return use_calendar(load_calendar(session))

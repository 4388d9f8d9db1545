"""Wiring of the script sandbox and the working-day calendar into a command.

The calendar's admin overrides live in the database; they change a few times a year, so they
are cached per process and database for a short time (and dropped at once when edited through
``engine.calendar_admin``; other processes see an edit within ``CALENDAR_TTL_SECONDS``).
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
from .db import database_key
from .models import CalendarOverride, CalendarYear
from .sandbox import SandboxedScriptEngine, use_calendar

CALENDAR_TTL_SECONDS = 60.0
# Per database (the engine URL, as the spec cache keys it): one process may serve two.
_cache: dict[object, tuple[float, WorkCalendar]] = {}
_lock = threading.Lock()


def make_script_engine() -> SandboxedScriptEngine:
    return SandboxedScriptEngine(clock=clock.now)


def load_calendar(session: Session) -> WorkCalendar:
    key = database_key(session)
    cached = _cache.get(key)
    if cached is not None and time.monotonic() - cached[0] < CALENDAR_TTL_SECONDS:
        return cached[1]
    overrides: dict[date, bool] = {o.day: o.is_workday for o in session.scalars(select(CalendarOverride))}
    years = [y.year for y in session.scalars(select(CalendarYear))]
    calendar = WorkCalendar(overrides=overrides, complete_years=years)
    with _lock:
        _cache[key] = (time.monotonic(), calendar)
    return calendar


def invalidate_calendar() -> None:
    """Forget every cached calendar (after an edit through ``engine.calendar_admin``)."""
    with _lock:
        _cache.clear()


def work_calendar(session: Session) -> AbstractContextManager[object]:
    return use_calendar(load_calendar(session))

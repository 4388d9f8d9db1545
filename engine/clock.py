"""The engine's notion of "now", settable per command (timers fired at a given time, tests).

SpiffWorkflow's timer events call ``datetime.now(timezone.utc)`` on the ``datetime`` name of
their module. We rebind that one name to a subclass whose ``now`` reads a context variable,
so a command run ``at(now)`` sees the same instant in timers, scripts and deadlines. Nothing
else in SpiffWorkflow is changed.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, tzinfo

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _spiff_timer

from .calendar import CHINA_TZ

_NOW: contextvars.ContextVar[datetime | None] = contextvars.ContextVar("weijian_now", default=None)


def now() -> datetime:
    """Current instant (UTC, aware): the command's frozen time if one is set."""
    value = _NOW.get()
    return value if value is not None else datetime.now(UTC)


def china_today(instant: datetime | None = None) -> date:
    """The date in China at ``instant`` (default: the engine's now): what deadlines, notices and
    "today" on a page are counted in."""
    return (instant or now()).astimezone(CHINA_TZ).date()


@contextmanager
def at(instant: datetime) -> Iterator[datetime]:
    if instant.tzinfo is None:
        raise ValueError("engine clock needs a timezone-aware datetime")
    token = _NOW.set(instant.astimezone(UTC))
    try:
        yield instant
    finally:
        _NOW.reset(token)


class _ClockDatetime(datetime):
    @classmethod
    def now(cls, tz: tzinfo | None = None) -> _ClockDatetime:
        current = now()
        value = current.astimezone(tz) if tz is not None else current.astimezone().replace(tzinfo=None)
        return cls.combine(value.date(), value.timetz() if tz is not None else value.time())


_spiff_timer.datetime = _ClockDatetime

"""Timers beyond a horizon are refused, at deploy and at run time, instead of hanging the worker.

SpiffWorkflow turns a duration into days by walking it month by month
(``TimerEventDefinition.get_timedelta_from_start``): ``P999999999Y`` is twelve billion steps, a
worker (or a deploy, for a timer start event) that never comes back. Dates past year 9999 or
durations past ``timedelta``'s range end in ``OverflowError`` deep in SpiffWorkflow. No timer of
a supervision case is meant to wait a century, so every duration, cycle and date a timer
computes is checked first against ``WEIJIAN_TIMER_HORIZON_YEARS`` (default 100 years from now):

* at run time the checks sit in front of SpiffWorkflow's own parsing (``install`` wraps its
  static helpers), so an expression that gives such a value fails with ``TimerBeyondHorizon``
  (an ``InvalidTimer``): the command is rolled back, or the scheduler records it on the timer
  row as an incident, like any broken timer;
* at deploy ``check_literal_timers`` refuses a timer whose expression is a literal (``"P5D"``,
  ``"R3/PT1H"``) beyond the horizon with ``InvalidDefinition`` naming the element.
"""

from __future__ import annotations

import ast
import functools
import os
from datetime import UTC, datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimerEventDefinition,
)

from . import clock
from .errors import InvalidDefinition, InvalidTimer

DEFAULT_HORIZON_YEARS = 100
_DAYS_PER = {"years": 366.0, "months": 31.0, "weeks": 7.0, "days": 1.0, "hours": 1 / 24, "minutes": 1 / 1440,
             "seconds": 1 / 86400}  # generous: a duration is refused only when surely beyond


class TimerBeyondHorizon(InvalidTimer):
    code = "timer_beyond_horizon"


def horizon_years() -> int:
    """``WEIJIAN_TIMER_HORIZON_YEARS`` (read per call: tests and operators may change it)."""
    raw = os.environ.get("WEIJIAN_TIMER_HORIZON_YEARS", "")
    try:
        years = int(raw) if raw else DEFAULT_HORIZON_YEARS
    except ValueError as exc:
        raise ValueError(f"WEIJIAN_TIMER_HORIZON_YEARS must be a whole number of years, got {raw!r}") from exc
    return max(1, years)


def _beyond(what: str) -> TimerBeyondHorizon:
    return TimerBeyondHorizon(f"{what} lies beyond the timer horizon of {horizon_years()} years "
                              "(WEIJIAN_TIMER_HORIZON_YEARS)")


def check_duration(parsed: dict[str, Any]) -> None:
    """Refuse a parsed ISO 8601 duration (SpiffWorkflow's dict) longer than the horizon."""
    days = 0.0
    for unit, value in parsed.items():
        if isinstance(value, int | float):
            days += abs(value) * _DAYS_PER.get(unit, 1.0)
    if days > horizon_years() * 365.25:
        shown = ", ".join(f"{v} {k}" for k, v in parsed.items())
        raise _beyond(f"a duration of {shown}")


def check_instant(value: datetime) -> None:
    """Refuse an instant further ahead of the engine clock than the horizon."""
    now = clock.now()
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    if aware.year - now.year > horizon_years() or (aware - now) > timedelta(days=horizon_years() * 366):
        raise _beyond(f"the date {value.isoformat()}")


def _checked_duration(original: Any) -> Any:
    @functools.wraps(original)
    def wrapper(parsed_duration: dict[str, Any], *args: Any) -> Any:
        check_duration(parsed_duration)
        return original(parsed_duration, *args)

    wrapper.__weijian_horizon__ = True  # type: ignore[attr-defined]
    return staticmethod(wrapper)


def _checked_datetime(original: Any) -> Any:
    @functools.wraps(original)
    def wrapper(expression: Any) -> Any:
        value = original(expression)
        if isinstance(value, datetime):
            check_instant(value)
        return value

    wrapper.__weijian_horizon__ = True  # type: ignore[attr-defined]
    return staticmethod(wrapper)


def install() -> None:
    """Put the horizon checks in front of SpiffWorkflow's timer arithmetic (idempotent)."""
    for name, wrap in (("get_timedelta_from_start", _checked_duration), ("get_timedelta_from_end", _checked_duration),
                       ("get_datetime", _checked_datetime)):
        current = getattr(TimerEventDefinition, name)
        if not getattr(current, "__weijian_horizon__", False):
            setattr(TimerEventDefinition, name, wrap(current))


install()


def _literal(expression: str) -> str | None:
    try:
        value = ast.literal_eval(expression.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return value if isinstance(value, str) else None


def literal_timer_problem(definition: TimerEventDefinition) -> str | None:
    """Why a timer whose expression is a literal lies beyond the horizon, or None (also None for
    an expression computed at run time, or a literal SpiffWorkflow would refuse for its form:
    that is the run time's ``InvalidTimer``)."""
    value = _literal(definition.expression or "")
    if value is None:
        return None
    try:
        if isinstance(definition, CycleTimerEventDefinition):
            TimerEventDefinition.parse_iso_recurring_interval(value)
        elif isinstance(definition, DurationTimerEventDefinition):
            parsed = TimerEventDefinition.parse_iso_duration(value)
            TimerEventDefinition.get_timedelta_from_start(parsed, clock.now())
        else:
            TimerEventDefinition.get_datetime(value)
    except TimerBeyondHorizon as exc:
        return exc.message
    except Exception:  # a malformed literal fails at run time with its own InvalidTimer
        return None
    return None


def check_literal_timers(spec: BpmnProcessSpec, filename: str) -> None:
    """Refuse at deploy a timer whose literal duration, cycle or date lies beyond the horizon."""
    for task_spec in spec.task_specs.values():
        definition = getattr(task_spec, "start_timer", None) or getattr(task_spec, "event_definition", None)
        if not isinstance(definition, TimerEventDefinition):
            continue
        problem = literal_timer_problem(definition)
        if problem:
            element = getattr(task_spec, "bpmn_id", None) or task_spec.name
            name = getattr(task_spec, "bpmn_name", None)
            label = f"timer '{element}'" + (f" ({name})" if name else "")
            raise InvalidDefinition(filename, element, f"{label}: {definition.expression.strip()}: {problem}")

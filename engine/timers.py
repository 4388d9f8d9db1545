"""BPMN timers: due rows, firing what is due, and timer start events (periodic plans).

Timer events inside instances are SpiffWorkflow's own (intermediate, boundary interrupting and
non-interrupting, cycles); the engine stores each waiting timer's due time in ``engine_timer``
so the scheduler finds due work with one indexed query. Timer *start* events are kept in
``engine_start_timer``: each firing starts a new instance, as BPMN says.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, clock
from .actor import SYSTEM
from .errors import EngineError, InvalidTimer
from .models import ProcessDefinition, ProcessInstance, StartTimer, TimerRow
from .runtime import Command, advance, load, running, save
from .timer_horizon import TimerBeyondHorizon

MAX_TIMER_ATTEMPTS = 5


def _guard(method: Any) -> Any:
    """Turn any failure while evaluating a timer into InvalidTimer naming the element."""

    @functools.wraps(method)
    def wrapper(self: TimerEventDefinition, my_task: Any) -> Any:
        try:
            return method(self, my_task)
        except TimerBeyondHorizon as exc:
            spec = my_task.task_spec
            element, name = getattr(spec, "bpmn_id", None), getattr(spec, "bpmn_name", None)
            label = f"timer '{element}'" + (f" ({name})" if name else "")
            raise TimerBeyondHorizon(f"{label}: expression {self.expression.strip()}: {exc.message}",
                                     task_name=element) from exc
        except EngineError:
            raise
        except Exception as exc:
            element = getattr(my_task.task_spec, "bpmn_id", None)
            try:
                value = f" (it gave {my_task.workflow.script_engine.evaluate(my_task, self.expression)!r})"
            except Exception:
                value = ""
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InvalidTimer(f"timer '{element}': expression {self.expression!r}{value} is not a valid "
                               f"ISO 8601 date, duration or cycle: {reason}", task_name=element) from exc

    wrapper.__weijian_guarded__ = True  # type: ignore[attr-defined]
    return wrapper


for _cls, _name in ((TimeDateEventDefinition, "has_fired"), (DurationTimerEventDefinition, "has_fired"),
                    (CycleTimerEventDefinition, "cycle_complete")):
    if not getattr(getattr(_cls, _name), "__weijian_guarded__", False):
        setattr(_cls, _name, _guard(getattr(_cls, _name)))


@dataclass
class TimerReport:
    fired: list[str] = field(default_factory=list)
    started: list[str] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)


def fire_instance_timers(session: Session, instance_id: str, now: datetime) -> None:
    """Fire whatever is due in one instance (its timers are re-evaluated at ``now``)."""
    cmd = Command(session, SYSTEM, now=now)
    loaded = load(cmd, instance_id)
    if loaded.row.status != "running":
        return
    due = [t.element_id for t in session.scalars(select(TimerRow).where(
        TimerRow.instance_id == instance_id, TimerRow.due_at <= now))]
    with running(cmd, loaded):
        loaded.workflow.refresh_timers()
    cmd.record(loaded, "timer_fired", {"elements": sorted(set(due)), "at": now.isoformat()})
    advance(cmd, loaded)
    save(cmd)


def fire_due_timers(session: Session, now: datetime | None = None, limit: int = 200) -> TimerReport:
    """Fire due instance timers and due timer start events, each in its own savepoint.

    One broken instance does not stop the others: its failure is recorded on the timer row and
    in the report; after ``MAX_TIMER_ATTEMPTS`` it is left for an administrator.
    """
    now = now or clock.now()
    report = TimerReport()
    # A suspended case's due timers stay due: they fire on the first tick after its resume.
    instance_ids = list(dict.fromkeys(session.scalars(
        select(TimerRow.instance_id).join(ProcessInstance, ProcessInstance.id == TimerRow.instance_id)
        .where(TimerRow.due_at <= now, TimerRow.attempts < MAX_TIMER_ATTEMPTS,
               ProcessInstance.status != "suspended")
        .order_by(TimerRow.due_at).limit(limit))))
    for instance_id in instance_ids:
        savepoint = session.begin_nested()
        try:
            fire_instance_timers(session, instance_id, now)
            savepoint.commit()
            report.fired.append(instance_id)
        except EngineError as exc:
            savepoint.rollback()
            for row in session.scalars(select(TimerRow).where(TimerRow.instance_id == instance_id,
                                                              TimerRow.due_at <= now)):
                row.attempts += 1
                row.last_error = exc.message
            report.failures.append((instance_id, exc.message))
    for start_timer in session.scalars(select(StartTimer).where(StartTimer.next_due <= now)
                                       .order_by(StartTimer.next_due)).all():
        savepoint = session.begin_nested()
        try:
            report.started.append(fire_start_timer(session, start_timer, now))
            savepoint.commit()
        except EngineError as exc:
            savepoint.rollback()
            report.failures.append((start_timer.process_key, exc.message))
    return report


def fire_start_timer(session: Session, start_timer: StartTimer, now: datetime) -> str:
    from .instances import start_definition

    definition = session.get(ProcessDefinition, start_timer.definition_id)
    assert definition is not None
    business_key = f"{definition.process_key}-{start_timer.next_due:%Y%m%d%H%M}" if start_timer.next_due else None
    with clock.at(now):
        row = start_definition(session, definition, SYSTEM, {"scheduled_for": start_timer.next_due.isoformat()
                                                               if start_timer.next_due else None},
                               business_key, unit_id=None, now=now)
    _advance_start_timer(start_timer, now)
    audit.append(session, SYSTEM.user_id, "start_timer_fired", now=now,
                 data={"process_key": definition.process_key, "instance": row.id})
    return row.id


def _advance_start_timer(start_timer: StartTimer, now: datetime) -> None:
    if start_timer.interval_seconds and start_timer.cycles_left != 0 and start_timer.next_due is not None:
        step = timedelta(seconds=start_timer.interval_seconds)
        next_due = start_timer.next_due + step
        while next_due <= now:  # the scheduler was down: fire once, then resume the rhythm
            next_due += step
        start_timer.next_due = next_due
        if start_timer.cycles_left > 0:
            start_timer.cycles_left -= 1
            if start_timer.cycles_left == 0:
                start_timer.next_due = None
    else:
        start_timer.next_due = None


def evaluate_start_expression(expression: str, kind: str, now: datetime) -> tuple[datetime, float | None, int]:
    """(first due, interval seconds or None, cycles left: -1 unbounded) for a timer start event."""
    from .scripting import make_script_engine

    with clock.at(now):
        try:
            value = make_script_engine().environment.evaluate(expression, {})
            if kind == "CycleTimerEventDefinition":
                cycles, first, duration = TimerEventDefinition.parse_iso_recurring_interval(value)
                return first.astimezone(UTC), duration.total_seconds(), cycles
            if kind == "DurationTimerEventDefinition":
                parsed = TimerEventDefinition.parse_iso_duration(value)
                return now + TimerEventDefinition.get_timedelta_from_start(parsed, now), None, 1
            return TimerEventDefinition.get_datetime(value), None, 1
        except Exception as exc:
            raise InvalidTimer(f"timer start expression {expression!r} does not parse: {exc}") from exc


def schedule_start_timer(session: Session, definition: ProcessDefinition, existing: StartTimer | None) -> None:
    start = definition.summary["start"]
    first, interval, cycles = evaluate_start_expression(start["expression"], start["type"], clock.now())
    row = existing or StartTimer(process_key=definition.process_key)
    row.definition_id = definition.id
    row.element_id = start["element"]
    row.expression = start["expression"]
    row.next_due = first
    row.interval_seconds = interval
    row.cycles_left = cycles
    if existing is None:
        session.add(row)

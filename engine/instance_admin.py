"""Administrators' instance operations: suspend, resume, set a process variable.

Each is one engine command through the single path every change takes (``runtime.load`` locks
the instance row on PostgreSQL and checks its ``row_version`` at the write; ``runtime.save``
writes state, query tables and the audit event in the caller's transaction), and each records
the administrator's reason in the case's audit chain. Every refusal is a typed error raised
before anything is written. Cancelling is ``engine.cancel``; incidents are
``engine.retry_incident``/``resolve_incident``.

What "suspended" means (as in Camunda): the case keeps its place and its waiting rows, but
nothing moves it. Its tasks cannot be claimed or completed (``InstanceSuspended``), its due
timers stay due (``timers.fire_due_timers`` skips it), its outbox jobs stay pending
(``outbox.due_jobs``/``run_job`` skip it), and a message for it is refused to the sender
(``messages``); its unassigned tasks leave the claimable inbox lists (``HumanTask.suspended``)
while an assignee still sees theirs, marked. Resuming lets all of it run again: due timers fire
on the scheduler's next tick and pending jobs are queued after the commit.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from .actor import Actor
from .errors import InvalidData, PermissionDenied, TaskNotReady
from .models import HumanTask, OutboxJob, ProcessInstance
from .runtime import Command, Loaded, load, running, save

MAX_REASON_CHARS = 1000
MAX_VALUE_BYTES = 256 * 1024
# A variable can be changed while the case can still use it.
EDITABLE_STATUSES = ("running", "suspended", "stalled")


def _admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDenied("only an administrator may suspend, resume or change a case")


def _reason(reason: str | None) -> str:
    text = (reason or "").strip() if isinstance(reason, str | None) else ""
    if not text:
        raise InvalidData("a reason is required")
    if len(text) > MAX_REASON_CHARS:
        raise InvalidData(f"the reason is longer than {MAX_REASON_CHARS} characters")
    return text


def _command(session: Session, actor: Actor, now: datetime | None) -> Command:
    return Command(session, actor) if now is None else Command(session, actor, now=now)


def _mark_tasks(session: Session, row: ProcessInstance, suspended: bool) -> None:
    """Keep the inbox's copy of the suspension on each ready task of the case."""
    for task_id in row.ready_task_ids or []:
        human = session.get(HumanTask, task_id)
        if human is not None and human.status == "ready":
            human.suspended = suspended


def suspend(session: Session, actor: Actor, instance_id: str, reason: str,
            *, now: datetime | None = None) -> ProcessInstance:
    """Stop a running case where it stands until an administrator resumes it."""
    _admin(actor)
    text = _reason(reason)
    cmd = _command(session, actor, now)
    loaded = load(cmd, instance_id)
    row = loaded.row
    if row.status != "running":
        raise TaskNotReady(f"only a running case can be suspended; this one is {row.status}", status=row.status)
    row.status = "suspended"
    _mark_tasks(session, row, True)
    cmd.record(loaded, "instance_suspended", {"reason": text})
    save(cmd)
    return row


def resume(session: Session, actor: Actor, instance_id: str, reason: str,
           *, now: datetime | None = None) -> ProcessInstance:
    """Let a suspended case move again: its tasks, due timers, jobs and messages."""
    _admin(actor)
    text = _reason(reason)
    cmd = _command(session, actor, now)
    loaded = load(cmd, instance_id)
    row = loaded.row
    if row.status != "suspended":
        raise TaskNotReady(f"only a suspended case can be resumed; this one is {row.status}", status=row.status)
    row.status = "running"
    _mark_tasks(session, row, False)
    cmd.new_jobs.extend(session.scalars(select(OutboxJob.id).where(OutboxJob.instance_id == row.id,
                                                                   OutboxJob.status == "pending")))
    cmd.record(loaded, "instance_resumed", {"reason": text})
    save(cmd)
    return row


def _json_value(value_json: str) -> Any:
    """The value of a JSON text; NaN and infinities are refused (JSON has none)."""
    if not isinstance(value_json, str):
        raise InvalidData("the value must be given as JSON text")
    if len(value_json.encode()) > MAX_VALUE_BYTES:
        raise InvalidData(f"the value is over the {MAX_VALUE_BYTES}-byte limit")

    def refuse(constant: str) -> Any:
        raise InvalidData(f"{constant} is not a JSON value")

    try:
        value = json.loads(value_json, parse_constant=refuse)
    except json.JSONDecodeError as exc:
        raise InvalidData(f"the value is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from exc
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidData("the value is not a finite number")
    return value


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not name.isidentifier() or name.startswith("_") or len(name) > 200:
        raise InvalidData(f"variable name {name!r} is not allowed (identifiers only, no leading underscore)")
    return name


def _live_tasks(loaded: Loaded) -> list[Any]:
    """Every unfinished task of the case (its subprocesses' too): where its data lives now."""
    workflow = loaded.workflow
    return [task for wf in (workflow, *workflow.subprocesses.values()) for task in wf.tasks.values()
            if not task.has_state(TaskState.FINISHED_MASK)]


def current_variables(loaded: Loaded) -> dict[str, Any]:
    """The case's top-level data as the next task will see it (as ``engine.instance_data``)."""
    workflow = loaded.workflow
    live = [t for t in workflow.get_tasks() if not t.has_state(TaskState.FINISHED_MASK)]
    source = live[0] if live else (workflow.last_task or workflow.task_tree)
    data = dict(workflow.data)
    data.update(source.data)
    return data


def set_variable(session: Session, actor: Actor, instance_id: str, name: str, value_json: str, reason: str,
                 *, now: datetime | None = None) -> ProcessInstance:
    """Set one top-level process variable of an unfinished case to a JSON value.

    The value is written into the data of every unfinished task, so whatever runs next (a
    gateway's condition, a script, a form) sees it. The audit event keeps the old and new value.
    """
    _admin(actor)
    text = _reason(reason)
    key = _check_name(name)
    value = _json_value(value_json)
    cmd = _command(session, actor, now)
    loaded = load(cmd, instance_id)
    row = loaded.row
    if row.status not in EDITABLE_STATUSES:
        raise TaskNotReady(f"the case is {row.status}; its variables can no longer change", status=row.status)
    before = current_variables(loaded)
    with running(cmd, loaded):
        for task in _live_tasks(loaded):
            task.data[key] = value
        if key in loaded.workflow.data:
            loaded.workflow.data[key] = value
    cmd.record(loaded, "variable_set", {"name": key, "had_value": key in before, "old": before.get(key),
                                        "new": value, "reason": text})
    save(cmd)
    return row

"""Materialize what queries need from the live workflow: human tasks, timers, subscriptions, jobs.

Runs inside ``runtime.save`` for every instance a command touched; each table is diffed against
what is already stored for the instance, so a command writes only what changed.

Which ready tasks become what: a user task and a manual task (``bpmn:manualTask``: work done
outside the system, confirmed in the inbox; it has no form key, the task page offers "done")
become human-task rows; a service task becomes one outbox job. A plain ``bpmn:task`` never
waits (``engine.definitions`` makes it pass straight through, as in Camunda).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.manual_task import ManualTask
from SpiffWorkflow.bpmn.specs.mixins.service_task import ServiceTask
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete, select

from .errors import InvalidTimer, WorkflowFailed
from .models import HumanTask, MessageSubscription, OutboxJob, TimerRow
from .routing import RouteRequest, route

if TYPE_CHECKING:
    from SpiffWorkflow.task import Task

    from .runtime import Command, Loaded

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)


def all_tasks(loaded: Loaded, state: int) -> list[Task]:
    """Tasks in ``state`` in the workflow and its subprocesses, each once.

    Reads each workflow's task map rather than walking the tree with SpiffWorkflow's
    iterator: the same tasks, without the per-node look-ups that made the walks a tenth of a
    completion's cost.
    """
    workflow = loaded.workflow
    found = {t.id: t for t in workflow.tasks.values() if t.state & state}
    for sp in workflow.subprocesses.values():
        found.update((t.id, t) for t in sp.tasks.values() if t.state & state)
    return list(found.values())


def is_human_task(task_spec: object) -> bool:
    """Whether a ready task of this spec waits for a person in the inbox (user or manual task)."""
    return isinstance(task_spec, UserTask | ManualTask)


def task_properties(task: Task) -> dict[str, str]:
    return dict((getattr(task.task_spec, "extensions", None) or {}).get("properties", {}))


def to_due_datetime(value: Any, element: str) -> datetime | None:
    """A due expression may give a date (due by the end of that day, local time) or a datetime."""
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value) if "T" in value or " " in value else date.fromisoformat(value)
        except ValueError as exc:
            raise WorkflowFailed(f"due date of '{element}' is not an ISO date: {value!r}", task_name=element) from exc
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=LOCAL_TZ)).astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(23, 59, 59), LOCAL_TZ).astimezone(UTC)
    raise WorkflowFailed(f"due date of '{element}' must be a date, got {type(value).__name__}", task_name=element)


def effective_lane(task: Task) -> str | None:
    """A task without a lane of its own takes the lane of the (call) activity that runs it."""
    lane = getattr(task.task_spec, "lane", None)
    workflow = task.workflow
    while lane is None and workflow.parent_task_id is not None:
        parent = workflow.top_workflow.get_task_from_id(workflow.parent_task_id)
        lane = getattr(parent.task_spec, "lane", None)
        workflow = parent.workflow
    return lane


def _evaluate(task: Task, expression: str) -> Any:
    return task.workflow.script_engine.evaluate(task, expression)


def _new_human_task(cmd: Command, loaded: Loaded, task: Task) -> dict[str, Any]:
    """The human-task row (column -> value) of a user task that just became ready."""
    from .scripting import load_calendar

    spec = task.task_spec
    props = task_properties(task)
    row = loaded.row
    assignee = _evaluate(task, props["assignee"]) if props.get("assignee") else None
    due_at = to_due_datetime(_evaluate(task, props["dueDate"]), spec.bpmn_id) if props.get("dueDate") else None
    uncertain = False
    if due_at is not None:
        calendar = load_calendar(cmd.session)
        years = range(cmd.now.year, due_at.astimezone(LOCAL_TZ).year + 1)
        uncertain = any(not calendar.knows_year(y) for y in years)
    instructions = (getattr(spec, "extensions", None) or {}).get("instructionsForEndUser") or spec.documentation
    lane = effective_lane(task)
    values = {
        "id": str(task.id), "instance_id": row.id, "process_key": row.process_key, "task_name": spec.bpmn_id,
        "title": spec.bpmn_name or spec.bpmn_id, "lane": lane, "candidate_role": props.get("candidateRole") or lane,
        "unit_id": row.unit_id, "assignee": str(assignee) if assignee else None, "form_key": props.get("formKey"),
        "instructions": instructions, "business_key": row.business_key, "entity_id": row.entity_id,
        "entity_name": row.entity_name, "status": "ready", "created_at": cmd.now, "due_at": due_at,
        "due_sort": due_at or FAR_FUTURE, "due_uncertain": uncertain, "suspended": row.status == "suspended",
        "completed_by": None, "completed_at": None, "owner": None, "delegation": None}
    if values["assignee"]:
        _route_new(cmd, loaded, values, str(props.get("reassignable", "true")).strip().lower() != "false")
    return values


def _route_new(cmd: Command, loaded: Loaded, values: dict[str, Any], reassignable: bool) -> None:
    """A substitute stands in for an absent assignee (``engine.routing``): the row goes to them,
    owned by the absent one, and the case's chain says so."""
    request = RouteRequest(values["id"], values["instance_id"], values["task_name"], values["title"],
                           values["candidate_role"], values["unit_id"], values["assignee"], reassignable,
                           values["process_key"])
    answer = route(cmd.session, request, cmd.now)
    if answer is None:
        return
    if answer.refused:
        cmd.record(loaded, "task_substitute_refused", {"assignee": request.assignee, "substitute": answer.assignee,
                                                       "why": answer.refused, **answer.data},
                   values["id"], values["task_name"])
        return
    values["assignee"], values["owner"] = answer.assignee, answer.owner
    cmd.record(loaded, "task_substituted", {"from": request.assignee, "to": answer.assignee,
                                            "on_behalf_of": answer.owner, **answer.data},
               values["id"], values["task_name"])


@dataclass
class HumanTaskChanges:
    """What a command did to the instance's human tasks: rows that left ``ready``, rows to insert."""

    finished: list[HumanTask] = field(default_factory=list)
    new: list[dict[str, Any]] = field(default_factory=list)


def sync_human_tasks(cmd: Command, loaded: Loaded, ready_tasks: list[Task]) -> HumanTaskChanges:
    """Diff the ready user tasks against the stored rows; the caller writes the changes."""
    session = cmd.session
    changes = HumanTaskChanges()
    ready = {str(t.id): t for t in ready_tasks if is_human_task(t.task_spec)}
    known = list(loaded.row.ready_task_ids or [])
    held = loaded.humans
    existing = {task_id: row for task_id in known
                if (row := held.get(task_id) or session.get(HumanTask, task_id)) is not None}
    for task_id, row in existing.items():
        if task_id in ready or row.status != "ready":
            continue
        if task_id == loaded.completed_task_id:
            row.status, row.completed_by, row.completed_at = "completed", cmd.actor.user_id, cmd.now
        else:
            row.status, row.completed_at = "cancelled", cmd.now
        changes.finished.append(row)
    changes.new = [_new_human_task(cmd, loaded, task) for task_id, task in ready.items() if task_id not in existing]
    if sorted(ready) != sorted(known):
        loaded.row.ready_task_ids = sorted(ready)
    return changes


def _waiting_events(loaded: Loaded) -> list[Task]:
    return list(loaded.workflow.event_manager.tasks.values())


def _definitions(task: Task) -> list[Any]:
    """The event definitions a waiting task listens for (an event-based gateway has several)."""
    definition = task.task_spec.event_definition
    if isinstance(definition, MultipleEventDefinition):
        return list(definition.event_definitions)
    return [definition]


def _timer_due(task: Task) -> datetime | None:
    value = task.internal_data.get("event_value")
    if isinstance(value, dict):  # a cycle: its next firing
        value = value.get("next") if value.get("cycles") != 0 else None
    if value is None:
        return None
    try:  # read exactly as SpiffWorkflow reads it when it decides whether the timer fired
        due: datetime = TimerEventDefinition.get_datetime(value)
    except (TypeError, ValueError) as exc:
        raise InvalidTimer(f"timer '{task.task_spec.bpmn_id}' has an unusable time {value!r}",
                           task_name=task.task_spec.bpmn_id) from exc
    return due


def sync_timers(cmd: Command, loaded: Loaded) -> None:
    session = cmd.session
    wanted: dict[str, tuple[str, datetime]] = {}
    for task in _waiting_events(loaded):
        is_timer = any(isinstance(d, TimerEventDefinition) for d in _definitions(task))
        if is_timer and task.has_state(TaskState.WAITING):
            due = _timer_due(task)
            if due is not None:
                wanted[str(task.id)] = (task.task_spec.bpmn_id, due.astimezone(UTC))
    if not wanted and not loaded.row.timer_count:
        return
    existing = {} if loaded.new or not loaded.row.timer_count else {
        t.task_id: t for t in session.scalars(select(TimerRow).where(TimerRow.instance_id == loaded.row.id))}
    loaded.row.timer_count = len(wanted)
    for task_id, row in existing.items():
        if task_id not in wanted:
            session.delete(row)
        elif row.due_at != wanted[task_id][1]:
            row.due_at = wanted[task_id][1]
    for task_id, (element, due) in wanted.items():
        if task_id not in existing:
            session.add(TimerRow(instance_id=loaded.row.id, task_id=task_id, element_id=element, due_at=due))


def correlation_rows(definition: MessageEventDefinition, correlations: dict[str, Any]) -> set[tuple[str, str]]:
    keys = {k for prop in definition.correlation_properties for k in prop.correlation_keys}
    rows = {(k, canonical(correlations[k])) for k in sorted(keys) if correlations.get(k)}
    return rows or {("", "")}


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def sync_subscriptions(cmd: Command, loaded: Loaded) -> None:
    session = cmd.session
    wanted: set[tuple[str, str, str]] = set()
    for task in _waiting_events(loaded):
        for definition in _definitions(task):
            if isinstance(definition, MessageEventDefinition):
                for key, value in correlation_rows(definition, task.workflow.correlations):
                    wanted.add((definition.name, key, value))
    if not wanted and not loaded.row.subscription_count:
        return
    existing = {} if loaded.new or not loaded.row.subscription_count else {
        (s.message_name, s.correlation_key, s.correlation_value): s
        for s in session.scalars(select(MessageSubscription).where(MessageSubscription.instance_id == loaded.row.id))}
    for sub_key, row in existing.items():
        if sub_key not in wanted:
            session.delete(row)
    loaded.row.subscription_count = len(wanted)
    for name, ckey, cvalue in wanted - set(existing):
        session.add(MessageSubscription(instance_id=loaded.row.id, message_name=name,
                                        correlation_key=ckey, correlation_value=cvalue))


def sync_outbox(cmd: Command, loaded: Loaded, ready_tasks: list[Task]) -> None:
    """Each READY service task gets exactly one outbox row (its job), written with the state."""
    waiting = [t for t in ready_tasks if isinstance(t.task_spec, ServiceTask)]
    if not waiting:
        return
    session = cmd.session
    known = set() if loaded.new else set(session.scalars(select(OutboxJob.task_id).where(
        OutboxJob.instance_id == loaded.row.id, OutboxJob.status.in_(("pending", "incident")))))
    for task in waiting:
        if str(task.id) in known:
            continue
        spec = task.task_spec
        params = {name: value["value"] for name, value in spec.evaluate_params(task).items()}
        job = OutboxJob(id=str(uuid.uuid4()), instance_id=loaded.row.id, task_id=str(task.id),
                        element_id=spec.bpmn_id, operator=spec.operation_name, params=params,
                        status="pending", attempts=0, max_attempts=getattr(spec, "retries", None) or _job_max_retries(),
                        next_attempt_at=cmd.now, created_at=cmd.now)
        session.add(job)
        cmd.new_jobs.append(job.id)
        cmd.record(loaded, "service_task_queued", {"operator": spec.operation_name, "job": job.id},
                   str(task.id), spec.bpmn_id)


def clear_instance_rows(cmd: Command, instance_id: str) -> None:
    """A finished or cancelled instance waits for nothing."""
    session = cmd.session
    row = cmd.loaded[instance_id].row
    if row.timer_count:
        session.execute(delete(TimerRow).where(TimerRow.instance_id == instance_id))
    if row.subscription_count:
        session.execute(delete(MessageSubscription).where(MessageSubscription.instance_id == instance_id))
    row.timer_count = row.subscription_count = 0


def is_stalled(loaded: Loaded) -> bool:
    """A running workflow that nothing can move: no ready task (human or service, in the
    workflow or a subprocess), no waiting event (timer, message, signal). Only a bug or an
    edited definition gets an instance here; it must become an incident, never sit silently.

    The row's counters answer the common case without walking the tree."""
    row = loaded.row
    if row.ready_task_ids or row.timer_count or row.subscription_count or loaded.workflow.is_completed():
        return False
    if all_tasks(loaded, TaskState.READY):
        return False
    return not any(t.has_state(TaskState.WAITING) for t in _waiting_events(loaded))


def sync_query_tables(cmd: Command, loaded: Loaded) -> HumanTaskChanges:
    """Bring timers, subscriptions and jobs up to date (ORM); return the human-task changes to write."""
    ready = all_tasks(loaded, TaskState.READY)
    changes = sync_human_tasks(cmd, loaded, ready)
    # A suspended case keeps its timers, subscriptions and jobs: they wait for the resume.
    if loaded.row.status not in ("running", "suspended") or loaded.workflow.is_completed():
        if not loaded.new:
            clear_instance_rows(cmd, loaded.row.id)
        return changes
    sync_timers(cmd, loaded)
    sync_subscriptions(cmd, loaded)
    sync_outbox(cmd, loaded, ready)
    return changes


def _job_max_retries() -> int:
    """``WEIJIAN_JOB_MAX_RETRIES``: attempts of a service task without its own ``spiffworkflow:retry``."""
    from .settings import Settings

    return Settings.from_env().job_max_retries

"""Load, run and save one instance inside a command: the single path every change takes.

A ``Command`` is one engine call (start, complete, fire timers, deliver a message, resume a
service task). It loads instances under a lock, runs SpiffWorkflow until the workflow waits,
routes thrown messages to other instances, and writes everything (state, human-task rows,
timers, subscriptions, outbox rows, audit events) into the caller's transaction. The caller
commits once. Nothing is added to the session before the run has succeeded, so an error
leaves the session clean.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, TaskNotFoundException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, event, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from . import audit, clock, hotwrite
from .actor import Actor
from .definitions import spec_by_id
from .errors import ConflictError, EngineError, InvalidTimer, ScriptRejected, UnknownInstance, WorkflowFailed
from .models import HumanTask, ProcessInstance
from .scripting import make_script_engine, work_calendar
from .state import SERIALIZER_VERSION, WORKFLOW_CACHE, dump_state, load_state, prune_history

NEW_JOBS_KEY = "weijian_new_outbox_jobs"
CACHE_PUTS_KEY = "weijian_workflow_cache_puts"


@event.listens_for(Session, "after_commit")
def _cache_committed(session: Session) -> None:
    """Only committed states enter the workflow cache (a rolled-back one must never be reused)."""
    for instance_id, version, workflow in session.info.pop(CACHE_PUTS_KEY, []):
        WORKFLOW_CACHE.put(instance_id, version, workflow)


@event.listens_for(Session, "after_rollback")
def _forget_uncommitted(session: Session) -> None:
    session.info.pop(CACHE_PUTS_KEY, None)


@dataclass
class Loaded:
    row: ProcessInstance
    workflow: BpmnWorkflow
    new: bool = False
    completed_task_id: str | None = None
    # Human-task rows the command already read (the one being completed): no second look-up.
    humans: dict[str, HumanTask] = field(default_factory=dict)
    audit: list[tuple[str, dict[str, Any], str | None, str | None]] = field(default_factory=list)


@dataclass
class Command:
    session: Session
    actor: Actor
    now: datetime = field(default_factory=clock.now)
    loaded: dict[str, Loaded] = field(default_factory=dict)
    new_jobs: list[str] = field(default_factory=list)

    def record(self, loaded: Loaded, action: str, data: dict[str, Any] | None = None,
               task_id: str | None = None, task_name: str | None = None) -> None:
        loaded.audit.append((action, data or {}, task_id, task_name))


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


_LOAD = select(ProcessInstance).where(ProcessInstance.id == bindparam("instance_id")).execution_options(
    populate_existing=True)
_LOAD_FOR_UPDATE = _LOAD.with_for_update()


def load(cmd: Command, instance_id: str, row: ProcessInstance | None = None) -> Loaded:
    """Load (and lock) an instance once per command; ``row`` when the caller already read it
    (fresh, and locked on PostgreSQL) in the same transaction."""
    if instance_id in cmd.loaded:
        return cmd.loaded[instance_id]
    if row is None:
        query = _LOAD_FOR_UPDATE if is_postgres(cmd.session) else _LOAD
        row = cmd.session.execute(query, {"instance_id": instance_id}).scalar_one_or_none()
    if row is None:
        raise UnknownInstance(f"no process instance {instance_id}", instance_id=instance_id)
    workflow = WORKFLOW_CACHE.take(row.id, row.row_version)
    if workflow is None:
        spec = spec_by_id(cmd.session, row.definition_id)
        workflow = load_state(row.state, spec.spec, spec.subprocess_specs, row.serializer_version)
        workflow.script_engine = make_script_engine()
    loaded = Loaded(row, workflow)
    cmd.loaded[instance_id] = loaded
    return loaded


def find_task(workflow: BpmnWorkflow, task_id: str) -> Task | None:
    """The live task with this id, or None when it finished and was pruned, or never existed."""
    try:
        return workflow.get_task_from_id(UUID(task_id))
    except TaskNotFoundException:
        return None


def new_workflow(session: Session, definition_id: int) -> BpmnWorkflow:
    spec = spec_by_id(session, definition_id)
    return BpmnWorkflow(spec.spec, spec.subprocess_specs, script_engine=make_script_engine())


def advance(cmd: Command, loaded: Loaded, hops: int = 0, first: Callable[[], object] | None = None) -> None:
    """Run ``first`` (completing a task, say), then engine steps until the workflow waits; route
    the messages it throws. One ``running`` context for both: entering one costs as much as
    SpiffWorkflow's step of a simple task."""
    from .messages import route_thrown

    with running(cmd, loaded):
        if first is not None:
            first()
        loaded.workflow.do_engine_steps()
    for thrown in loaded.workflow.get_events():
        route_thrown(cmd, loaded, thrown, hops)


class running:  # noqa: N801 - used as a context manager, reads like a verb
    """Run SpiffWorkflow code at the command's time and calendar; map its errors to typed ones."""

    def __init__(self, cmd: Command, loaded: Loaded) -> None:
        self.cmd, self.loaded = cmd, loaded

    def __enter__(self) -> None:
        self._clock = clock.at(self.cmd.now)
        self._clock.__enter__()
        self._calendar = work_calendar(self.cmd.session)
        self._calendar.__enter__()

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        self._calendar.__exit__(exc_type, exc, tb)
        self._clock.__exit__(exc_type, exc, tb)
        if exc is None or isinstance(exc, EngineError):
            return
        raise translate_error(exc) from exc


def translate_error(exc: BaseException) -> EngineError:
    conflict = _as_conflict(exc)
    if conflict is not None:
        return conflict
    task = getattr(exc, "task", None)
    task_name = task.task_spec.bpmn_id if task is not None and hasattr(task.task_spec, "bpmn_id") else None
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, EngineError):
            if isinstance(cause, WorkflowFailed) and cause.task_name is None and task_name:
                cause.task_name = task_name
            return cause
        cause = cause.__cause__ or cause.__context__
    from .sandbox import SandboxError

    if isinstance(exc, SandboxError):
        return ScriptRejected(_at_element(task, str(exc)), task_name=task_name)
    if isinstance(exc, WorkflowTaskException | SpiffWorkflowException):
        inner = getattr(exc, "error_type", None)
        message = str(exc).splitlines()[0]
        if "Refused" in message or "refused" in message or inner == "ScriptRefused":
            return ScriptRejected(message, task_name=task_name)
        return WorkflowFailed(message, task_name=task_name)
    return WorkflowFailed(f"{type(exc).__name__}: {exc}", task_name=task_name)


def _at_element(task: Task | None, message: str) -> str:
    """``message`` prefixed with the element it concerns, by id and name (what a modeler shows)."""
    spec = getattr(task, "task_spec", None)
    element = getattr(spec, "bpmn_id", None)
    if not element:
        return message
    name = getattr(spec, "bpmn_name", None)
    return f"'{element}'" + (f" ({name})" if name else "") + f": {message}"


def save(cmd: Command) -> None:
    """Write every instance this command touched; raise ConflictError if someone else won.

    Instance, human-task and audit rows take the driver-level path of ``engine.hotwrite``: a
    new instance is inserted whole, an existing one updated with the version check. What else
    the command changed through the ORM (timers, subscriptions, jobs, operator effects) is
    flushed at the end, after the instance rows it refers to exist.
    """
    from .materialize import sync_query_tables

    session = cmd.session
    for loaded in cmd.loaded.values():
        workflow, row = loaded.workflow, loaded.row
        row.updated_at = cmd.now
        with running(cmd, loaded), session.no_autoflush:
            human = sync_query_tables(cmd, loaded)
            completed = set(row.completed_elements or [])
            _collect_completed(workflow.tasks.values(), completed)
            for sp in workflow.subprocesses.values():
                _collect_completed(sp.tasks.values(), completed)
            prune_history(workflow)
            row.state = dump_state(workflow)
        if row.serializer_version != SERIALIZER_VERSION:
            row.serializer_version = SERIALIZER_VERSION
        if sorted(completed) != sorted(row.completed_elements or []):
            row.completed_elements = sorted(completed)
        _settle_status(cmd, loaded)
        events = [audit.instance_event(row, cmd.actor.user_id, action, task_id=task_id, task_name=task_name,
                                       data=data, now=cmd.now)
                  for action, data, task_id, task_name in loaded.audit]
        loaded.audit.clear()
        try:
            with hotwrite.Writer(session) as writer:
                if loaded.new:
                    writer.insert_instance(row)
                    loaded.new = False
                else:
                    writer.update_instance(row)
                writer.finish_human_tasks(human.finished)
                writer.insert_rows(hotwrite.HUMAN, human.new)
                writer.insert_rows(hotwrite.AUDIT, events)
        except (IntegrityError, OperationalError) as exc:
            conflict = _as_conflict(exc)
            if conflict is None:
                raise
            raise conflict from exc
    flush(session)
    pending = session.info.setdefault(CACHE_PUTS_KEY, [])
    for loaded in cmd.loaded.values():
        if loaded.row.status == "running":
            pending.append((loaded.row.id, loaded.row.row_version, loaded.workflow))
    if cmd.new_jobs:
        session.info.setdefault(NEW_JOBS_KEY, []).extend(cmd.new_jobs)


def _settle_status(cmd: Command, loaded: Loaded) -> None:
    """A running instance that finished is completed; one that nothing can move is stalled (an
    incident the administrator sees, ``engine.stalls``), never left running in silence."""
    from .materialize import is_stalled

    row = loaded.row
    if row.status != "running":
        return
    if loaded.workflow.is_completed():
        row.status, row.ended_at = "completed", cmd.now
        cmd.record(loaded, "instance_completed")
    elif is_stalled(loaded):
        row.status = "stalled"
        cmd.record(loaded, "instance_stalled", {"live": stalled_summary(loaded.workflow)})


def stalled_summary(workflow: BpmnWorkflow) -> list[str]:
    """The unfinished elements of a stalled workflow (what an administrator looks at first)."""
    found: list[str] = []
    for wf in (workflow, *workflow.subprocesses.values()):
        for task in wf.tasks.values():
            if not task.has_state(TaskState.FINISHED_MASK):
                name = getattr(task.task_spec, "bpmn_id", None) or task.task_spec.name
                found.append(f"{name}:{TaskState.get_name(task.state)}")
    return sorted(set(found))


def _collect_completed(tasks: Iterable[Task], into: set[str]) -> None:
    for task in tasks:
        if task.state == TaskState.COMPLETED:
            bpmn_id = getattr(task.task_spec, "bpmn_id", None)
            if bpmn_id:
                into.add(bpmn_id)


def _as_conflict(exc: BaseException) -> ConflictError | None:
    if isinstance(exc, StaleDataError | IntegrityError):
        return ConflictError("this case was changed by someone else at the same time; reload and retry")
    if isinstance(exc, OperationalError):
        text = str(exc).lower()
        if "locked" in text or "could not serialize" in text or "deadlock" in text:
            return ConflictError("this case is being changed by someone else; reload and retry")
    return None


def flush(session: Session) -> None:
    """Flush, turning lost races into ConflictError (row version on SQLite, lock waits on PG)."""
    try:
        session.flush()
    except (StaleDataError, IntegrityError, OperationalError) as exc:
        conflict = _as_conflict(exc)
        if conflict is None:
            raise
        raise conflict from exc


__all__ = ["Command", "InvalidTimer", "Loaded", "advance", "load", "new_workflow", "save"]

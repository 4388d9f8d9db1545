"""Instance commands: start, complete a user task, cancel. One transaction each (caller commits)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.util.task import TaskState
from sqlalchemy.orm import Session

from . import hotread, permissions
from .actor import Actor
from .definitions import newest_version
from .errors import InstanceSuspended, InvalidData, PermissionDenied, TaskNotReady, UnknownTask
from .hotread import DefinitionRef
from .materialize import is_human_task
from .models import HumanTask, ProcessDefinition, ProcessInstance
from .runtime import Command, Loaded, advance, find_task, is_postgres, load, new_workflow, running, save
from .state import SERIALIZER_VERSION, WORKFLOW_CACHE

MAX_DATA_BYTES = 256 * 1024


def _check_data(data: Mapping[str, Any] | None) -> dict[str, Any]:
    """The submitted data as plain JSON values (a deep copy: the caller's dict is never kept).

    orjson does the round trip in a fifth of the json module's time; what it refuses (keys
    that are not strings, integers beyond 64 bits) takes the json module's way, which has the
    last word on what is allowed. Non-finite numbers are refused: JSON has none, and orjson
    would quietly write them as null (a ``null`` in the output is the only case checked twice).
    """
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise InvalidData("task data must be an object of field names to values")
    loads: Any = orjson.loads
    try:
        encoded = orjson.dumps(dict(data), default=_iso, option=_PASSTHROUGH)
    except TypeError:  # orjson.JSONEncodeError
        encoded, loads = _json_encoded(data), json.loads
    else:
        if b"null" in encoded:
            _json_encoded(data)
    if len(encoded) > MAX_DATA_BYTES:
        raise InvalidData(f"task data is {len(encoded)} bytes, over the {MAX_DATA_BYTES}-byte limit")
    for key in data:
        if not isinstance(key, str) or key.startswith("_") or not key.isidentifier():
            raise InvalidData(f"field name {key!r} is not allowed (identifiers only, no leading underscore)")
    decoded: dict[str, Any] = loads(encoded)
    return decoded


_PASSTHROUGH = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _json_encoded(data: Mapping[str, Any]) -> bytes:
    try:
        return json.dumps(dict(data), default=_iso, allow_nan=False, ensure_ascii=False).encode()
    except (TypeError, ValueError) as exc:
        raise InvalidData(f"task data is not JSON-serializable: {exc}") from exc


def _iso(value: object) -> str:
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    raise TypeError(f"{type(value).__name__} is not JSON-serializable")


def create_in_command(cmd: Command, definition: ProcessDefinition | DefinitionRef, payload: dict[str, Any],
                      business_key: str | None, unit_id: str | None, entity_id: str | None,
                      entity_name: str | None) -> Loaded:
    """A new instance inside a running command (its first run is the caller's to do)."""
    workflow = new_workflow(cmd.session, definition.id)
    row = ProcessInstance(
        id=str(uuid.uuid4()), definition_id=definition.id, process_key=definition.process_key,
        business_key=business_key, unit_id=unit_id, entity_id=entity_id, entity_name=entity_name,
        status="running", state=b"", serializer_version=SERIALIZER_VERSION, started_by=cmd.actor.user_id,
        started_at=cmd.now, updated_at=cmd.now, ended_at=None, cancel_reason=None, completed_elements=[],
        ready_task_ids=[], timer_count=0, subscription_count=0, audit_seq=0, audit_head="", row_version=1)
    loaded = Loaded(row, workflow, new=True)
    cmd.loaded[row.id] = loaded
    workflow.task_tree.data.update(payload)
    cmd.record(loaded, "instance_started", {"process_key": definition.process_key,
                                             "version": definition.version, "business_key": business_key,
                                             "data": payload})
    return loaded


def start_in_command(cmd: Command, definition: ProcessDefinition, event: BpmnEvent, source_id: str | None,
                     hops: int) -> str:
    """Start an instance on a message start event, inside the command that delivers the message."""
    payload = event.payload if isinstance(event.payload, dict) else {}
    loaded = create_in_command(
        cmd, definition, {}, _str_or_none(payload.get("business_key")), _str_or_none(payload.get("unit_id")),
        _str_or_none(payload.get("entity_id")), _str_or_none(payload.get("entity_name")))
    with running(cmd, loaded):
        loaded.workflow.do_engine_steps()
        loaded.workflow.catch(event)
    cmd.record(loaded, "message_received", {"message": event.event_definition.name, "from": source_id,
                                            "correlations": event.correlations, "payload": payload})
    advance(cmd, loaded, hops)
    return loaded.row.id


def _str_or_none(value: object) -> str | None:
    return None if value in (None, "") else str(value)


def start_definition(session: Session, definition: ProcessDefinition | DefinitionRef, actor: Actor,
                     data: Mapping[str, Any] | None, business_key: str | None, *, unit_id: str | None = None,
                     entity_id: str | None = None, entity_name: str | None = None,
                     now: datetime | None = None) -> ProcessInstance:
    payload = _check_data(data)
    unit = unit_id if unit_id is not None else actor.primary_unit
    if not permissions.can_start(actor, unit):
        raise PermissionDenied(f"you may not start cases in unit {unit}")
    cmd = Command(session, actor) if now is None else Command(session, actor, now=now)
    loaded = create_in_command(cmd, definition, payload, business_key, unit, entity_id, entity_name)
    advance(cmd, loaded)
    save(cmd)
    return loaded.row


def start(session: Session, process_key: str, actor: Actor, data: Mapping[str, Any] | None = None,
          business_key: str | None = None, *, unit_id: str | None = None, entity_id: str | None = None,
          entity_name: str | None = None, now: datetime | None = None) -> ProcessInstance:
    """Start the newest version of ``process_key`` and run it until it waits."""
    definition = newest_version(session, process_key)
    return start_definition(session, definition, actor, data, business_key, unit_id=unit_id,
                            entity_id=entity_id, entity_name=entity_name, now=now)


def _task_id(task_id: str) -> str:
    try:
        UUID(str(task_id))
    except ValueError as exc:
        raise UnknownTask(f"no task {task_id!r}", task_id=str(task_id)) from exc
    return str(task_id)


def get_ready_task(session: Session, task_id: str) -> HumanTask:
    task = session.get(HumanTask, _task_id(task_id), populate_existing=True)
    if task is None:
        raise UnknownTask(f"no task {task_id}", task_id=str(task_id))
    if task.status != "ready":
        raise TaskNotReady(f"task {task.title} is already {task.status}", task_id=task.id, status=task.status)
    return task


def complete_task(session: Session, task_id: str, actor: Actor, data: Mapping[str, Any] | None = None,
                  *, now: datetime | None = None) -> ProcessInstance:
    """Complete a ready user task with the submitted data and run the case until it waits."""
    payload = _check_data(data)
    # One read of the task and its instance, at the driver level (engine.hotread): the ORM took
    # a third of a completion here. PostgreSQL locks the instance row (and reads the task again
    # once it holds the lock); SQLite has no row lock, the row version decides at the write.
    found = hotread.task_and_instance(session, _task_id(task_id), lock=is_postgres(session))
    if found is None:
        raise UnknownTask(f"no task {task_id}", task_id=str(task_id))
    human, instance = found
    if human.status != "ready":
        raise TaskNotReady(f"task {human.title} is already {human.status}", task_id=human.id, status=human.status)
    if instance.status == "suspended":
        raise InstanceSuspended("this case is suspended by an administrator; its tasks wait until it is resumed",
                                task_id=human.id)
    if human.delegation == "pending":
        raise PermissionDenied("this task was delegated: its delegate hands it back to the owner, who completes it",
                               task_id=human.id)
    if not permissions.can_complete(actor, human):
        raise PermissionDenied("this task is not assigned to you or claimable by your roles in your units",
                               task_id=human.id)
    cmd = Command(session, actor) if now is None else Command(session, actor, now=now)
    loaded = load(cmd, human.instance_id, instance)
    task = find_task(loaded.workflow, human.id)
    if task is None or not task.has_state(TaskState.READY) or not is_human_task(task.task_spec):
        raise TaskNotReady(f"task {human.title} is no longer waiting", task_id=human.id)
    loaded.completed_task_id = human.id
    loaded.humans[human.id] = human
    cmd.record(loaded, "task_completed", {"data": payload, "form_key": human.form_key}, human.id, human.task_name)

    def run_task() -> None:
        task.data.update(payload)
        task.run()

    advance(cmd, loaded, first=run_task)
    save(cmd)
    return loaded.row


def cancel(session: Session, instance_id: str, actor: Actor, reason: str, *, now: datetime | None = None) -> None:
    """Cancel a running instance with a recorded reason (heads and administrators)."""
    if not reason or not reason.strip():
        raise InvalidData("a reason is required to cancel a case")
    cmd = Command(session, actor) if now is None else Command(session, actor, now=now)
    loaded = load(cmd, instance_id)
    row = loaded.row
    if not permissions.can_see_instance(actor, row):
        raise PermissionDenied("this case is not in your units")
    if not (actor.is_admin or permissions.HEAD_ROLE in actor.roles):
        raise PermissionDenied("only a head or an administrator may cancel a case")
    if row.status not in ("running", "stalled", "suspended"):
        raise TaskNotReady(f"the case is already {row.status}")
    with running(cmd, loaded):
        loaded.workflow.cancel()
    row.status, row.ended_at, row.cancel_reason = "cancelled", cmd.now, reason.strip()
    cmd.record(loaded, "instance_cancelled", {"reason": reason.strip()})
    save(cmd)



def instance_data(session: Session, instance_id: str, actor: Actor) -> dict[str, Any]:
    """The case's current process data (what the next task will see), for pages and services."""
    cmd = Command(session, actor)
    loaded = load(cmd, instance_id)
    if not permissions.can_see_instance(actor, loaded.row):
        raise PermissionDenied("this case is not in your units")
    workflow = loaded.workflow
    live = [t for t in workflow.get_tasks() if not t.has_state(TaskState.FINISHED_MASK)]
    source = live[0] if live else (workflow.last_task or workflow.task_tree)
    data = dict(workflow.data)
    data.update(source.data)
    cmd.loaded.clear()
    WORKFLOW_CACHE.put(loaded.row.id, loaded.row.row_version, workflow)  # only read: still the committed state
    decoded: dict[str, Any] = json.loads(json.dumps(data, default=_iso))
    return decoded


def set_business_key(session: Session, instance_id: str, actor: Actor, business_key: str,
                     *, now: datetime | None = None) -> ProcessInstance:
    """Give a case its official key (e.g. the case number once filed) on the case and its tasks."""
    key = (business_key or "").strip()
    if not key or len(key) > 200:
        raise InvalidData("a business key of 1 to 200 characters is required")
    cmd = Command(session, actor) if now is None else Command(session, actor, now=now)
    loaded = load(cmd, instance_id)
    previous = loaded.row.business_key
    loaded.row.business_key = key
    for task_id in loaded.row.ready_task_ids or []:
        human = session.get(HumanTask, task_id)
        if human is not None:
            human.business_key = key
    cmd.record(loaded, "business_key_set", {"from": previous, "to": key})
    save(cmd)
    return loaded.row

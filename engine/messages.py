"""BPMN messages between instances: delivery to a waiting instance, or a message start.

Waiting message catch events are materialized in ``engine_message_subscription`` (name plus
correlation key/value, see ``materialize.correlation_rows``) so routing is one indexed query;
SpiffWorkflow then makes the final correlation check when the instance catches the event.
A message thrown by one instance that nothing inside it catches is routed the same way, in the
same transaction (the complaint process forwards cases between units like this).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition as BpmnMessageDefinition
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .actor import SYSTEM, Actor
from .definitions import latest_definition
from .errors import InstanceSuspended, InvalidData, MessageNotDelivered
from .materialize import canonical
from .models import MessageSubscription, ProcessDefinition, ProcessInstance
from .runtime import Command, Loaded, advance, load, running, save

MAX_HOPS = 20


def _candidates(session: Session, name: str, correlations: Mapping[str, Any]) -> list[str]:
    pairs = [(k, canonical(v)) for k, v in correlations.items()]
    match = [MessageSubscription.correlation_key == ""]
    match += [(MessageSubscription.correlation_key == k) & (MessageSubscription.correlation_value == v)
              for k, v in pairs]
    rows = session.scalars(select(MessageSubscription.instance_id)
                           .where(MessageSubscription.message_name == name, or_(*match))
                           .order_by(MessageSubscription.id))
    return list(dict.fromkeys(rows))


def _suspended(cmd: Command, instance_ids: list[str]) -> set[str]:
    """Those of the candidates an administrator suspended (one query, only when there are any)."""
    if not instance_ids:
        return set()
    return set(cmd.session.scalars(select(ProcessInstance.id).where(ProcessInstance.id.in_(instance_ids),
                                                                    ProcessInstance.status == "suspended")))


def _start_definitions(session: Session, name: str) -> list[ProcessDefinition]:
    keys = {d.process_key for d in session.scalars(select(ProcessDefinition))
            if d.summary.get("start", {}).get("kind") == "message" and d.summary["start"].get("message") == name}
    return [latest_definition(session, key) for key in sorted(keys)]


def _deliver(cmd: Command, event: BpmnEvent, source_id: str | None, hops: int) -> list[str]:
    """Deliver to every waiting instance that catches it, else start one; return instance ids."""
    if hops > MAX_HOPS:
        raise MessageNotDelivered(f"message '{event.event_definition.name}' bounced more than {MAX_HOPS} times")
    name = event.event_definition.name
    reached: list[str] = []
    candidates = [i for i in _candidates(cmd.session, name, event.correlations) if i != source_id]
    suspended = _suspended(cmd, candidates)
    for instance_id in candidates:
        if instance_id in suspended:
            continue
        target = load(cmd, instance_id)
        with running(cmd, target):
            caught = target.workflow.event_manager.catch(event, internal=False)
        if caught:
            cmd.record(target, "message_received", {"message": name, "from": source_id,
                                                    "correlations": event.correlations, "payload": event.payload})
            advance(cmd, target, hops + 1)
            reached.append(instance_id)
            break
    if reached:
        return reached
    if suspended:
        # As Camunda: a message is not correlated to a suspended case, and the sender is told
        # (a start event does not stand in for the case that waits for it).
        raise InstanceSuspended(f"the case waiting for message '{name}' is suspended by an administrator; "
                                "send it again after the case is resumed", message_name=name,
                                instances=sorted(suspended))
    for definition in _start_definitions(cmd.session, name):
        from .instances import start_in_command

        started = start_in_command(cmd, definition, event, source_id, hops + 1)
        reached.append(started)
        break
    return reached


def route_thrown(cmd: Command, source: Loaded, event: BpmnEvent, hops: int = 0) -> None:
    if not isinstance(event.event_definition, BpmnMessageDefinition):
        return  # signals/errors that escaped the process stay where SpiffWorkflow left them
    name = event.event_definition.name
    reached = _deliver(cmd, event, source.row.id, hops)
    if not reached:
        raise MessageNotDelivered(f"no case is waiting for message '{name}' with correlation "
                                  f"{event.correlations or '{}'}, and no process starts on it", message_name=name)
    cmd.record(source, "message_sent", {"message": name, "to": reached, "correlations": event.correlations})


def deliver_message(session: Session, name: str, correlation: Mapping[str, Any] | None = None,
                    payload: Mapping[str, Any] | None = None, actor: Actor = SYSTEM,
                    *, now: datetime | None = None) -> list[str]:
    """Deliver a message from outside (an API, another system); returns the instance(s) reached.

    ``correlation`` maps correlation keys to their property values, as the BPMN's correlation
    keys define them, e.g. ``{"complaint": {"complaint_no": "TS2026-0001"}}``.
    """
    if not name or not isinstance(name, str):
        raise InvalidData("a message name is required")
    if correlation is not None and not isinstance(correlation, Mapping):
        raise InvalidData("correlation must be an object of key -> properties")
    if payload is not None and not isinstance(payload, Mapping):
        raise InvalidData("payload must be an object")
    cmd = Command(session, actor) if now is None else Command(session, actor, now=now)
    body = dict(payload or {})
    for properties in (correlation or {}).values():
        if not isinstance(properties, Mapping):
            raise InvalidData("each correlation key maps to an object of property values")
        for prop, value in properties.items():  # retrieval expressions read them from the payload
            body.setdefault(prop, value)
    event = BpmnEvent(MessageEventDefinition(name), payload=body, correlations=dict(correlation or {}))
    reached = _deliver(cmd, event, None, 0)
    if not reached:
        raise MessageNotDelivered(f"no case is waiting for message '{name}' with correlation "
                                  f"{dict(correlation or {})}, and no process starts on it", message_name=name)
    save(cmd)
    return reached

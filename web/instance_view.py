"""One instance as an administrator looks at it, for the page (``web.admin_instances``) and the
JSON API (``web.api.admin_instances``): its row, ready tasks, variables, open incidents,
failing timers, what the diagram highlights, and its audit history.

Read only: the variables are read the way ``engine.instance_data`` reads them (the data the
next task will see), nothing is written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import Actor, NotFound, audit_history, instance_data
from engine.models import AuditEvent, HumanTask, OutboxJob, ProcessDefinition, ProcessInstance, TimerRow


@dataclass
class InstanceView:
    instance: ProcessInstance
    definition: ProcessDefinition | None
    ready_tasks: list[HumanTask]
    variables: dict[str, Any]
    incidents: list[OutboxJob]
    failing_timers: list[TimerRow]
    current: list[str] = field(default_factory=list)  # element ids holding a token: the diagram highlight
    events: list[AuditEvent] = field(default_factory=list)


def variable_text(value: Any) -> str:
    """A variable's value as the JSON an administrator reads and edits."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def instance_view(session: Session, instance_id: str, actor: Actor, *, history: bool = False) -> InstanceView:
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound(f"no process instance {instance_id}")
    ready = list(session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                         HumanTask.status == "ready")
                                 .order_by(HumanTask.due_sort, HumanTask.id)))
    jobs = list(session.scalars(select(OutboxJob).where(OutboxJob.instance_id == instance_id,
                                                        OutboxJob.status.in_(("pending", "incident")))
                                .order_by(OutboxJob.created_at)))
    timers = list(session.scalars(select(TimerRow).where(TimerRow.instance_id == instance_id)
                                  .order_by(TimerRow.due_at)))
    current = sorted({t.task_name for t in ready} | {j.element_id for j in jobs} | {t.element_id for t in timers}) \
        if instance.status in ("running", "suspended", "stalled") else []
    return InstanceView(
        instance=instance, definition=session.get(ProcessDefinition, instance.definition_id), ready_tasks=ready,
        variables=instance_data(session, instance_id, actor),
        incidents=[j for j in jobs if j.status == "incident"],
        failing_timers=[t for t in timers if t.last_error], current=current,
        events=audit_history(session, instance_id) if history else [])

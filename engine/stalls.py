"""Stalled instances: running workflows that nothing can move, made visible and repairable.

``runtime.save`` marks an instance ``stalled`` (and audits ``instance_stalled``) the moment a
command leaves it with no ready task, timer, job or subscription while it is not finished
(``materialize.is_stalled``). Instances stored before that check existed are found by
``scan_stalled``. ``repair_stalled`` loads one cold and merges loop and multi-instance
instances that finished without being merged (what a spec parsed without its merge handlers
did when another process completed them); if the workflow then moves, it runs again.
"""

from __future__ import annotations

from datetime import datetime

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import clock
from .actor import Actor
from .errors import PermissionDenied, TaskNotReady
from .materialize import is_stalled
from .models import OutboxJob, ProcessInstance
from .runtime import Command, Loaded, advance, load, running, save, stalled_summary
from .state import WORKFLOW_CACHE


def stalled_instances(session: Session) -> list[ProcessInstance]:
    """Every instance marked stalled, oldest change first."""
    return list(session.scalars(select(ProcessInstance).where(ProcessInstance.status == "stalled")
                                .order_by(ProcessInstance.updated_at)))


def scan_stalled(session: Session, actor: Actor, *, now: datetime | None = None, limit: int = 10_000) -> list[str]:
    """Mark running instances that nothing can move as stalled; return their ids.

    Candidates are read from the query columns (no timer, no subscription, no ready human
    task, no open job), at most ``limit`` per call; each is then loaded and checked whole.
    """
    _admin(actor)
    now = now or clock.now()
    open_jobs = select(OutboxJob.instance_id).where(OutboxJob.status.in_(("pending", "incident")))
    rows = session.execute(
        select(ProcessInstance.id, ProcessInstance.ready_task_ids).where(
            ProcessInstance.status == "running", ProcessInstance.timer_count == 0,
            ProcessInstance.subscription_count == 0, ProcessInstance.id.not_in(open_jobs)).limit(limit)).all()
    found: list[str] = []
    for instance_id, ready in rows:
        if ready:
            continue
        cmd = Command(session, actor, now=now)
        loaded = load(cmd, instance_id)
        if is_stalled(loaded):
            loaded.row.status = "stalled"
            cmd.record(loaded, "instance_stalled", {"live": stalled_summary(loaded.workflow), "found_by": "scan"})
            save(cmd)
            found.append(instance_id)
        else:
            WORKFLOW_CACHE.put(loaded.row.id, loaded.row.row_version, loaded.workflow)
    return found


def repair_stalled(session: Session, instance_id: str, actor: Actor, *, now: datetime | None = None) -> ProcessInstance:
    """Merge finished loop instances that were never merged and run the workflow on.

    Raises ``TaskNotReady`` when the instance is not stalled, or when nothing could be merged
    and it is still stalled (then cancelling, or migrating it to a corrected definition, is
    the administrator's choice).
    """
    _admin(actor)
    WORKFLOW_CACHE.take(instance_id, -1)  # the stored state is the truth: load it cold
    cmd = Command(session, actor) if now is None else Command(session, actor, now=now)
    loaded = load(cmd, instance_id)
    row = loaded.row
    if row.status != "stalled":
        raise TaskNotReady(f"the case is {row.status}, not stalled")
    merged = _merge_unmerged(cmd, loaded)
    row.status = "running"
    advance(cmd, loaded)
    cmd.record(loaded, "instance_repaired", {"merged": merged})
    save(cmd)
    if row.status == "stalled":
        raise TaskNotReady("nothing could be repaired: the case still has nothing that can move it; "
                           "cancel it or correct its definition")
    return row


def _merge_unmerged(cmd: Command, loaded: Loaded) -> list[str]:
    merged: list[str] = []
    workflow = loaded.workflow
    with running(cmd, loaded):
        for wf in (workflow, *workflow.subprocesses.values()):
            for task in list(wf.tasks.values()):
                if task.state == TaskState.STARTED and isinstance(task.task_spec, LoopTask):
                    merged.extend(_merge_children(task))
    return merged


def _merge_children(parent: Task) -> list[str]:
    spec = parent.task_spec
    done = set(parent.internal_data.get("merged", []))
    merged = []
    for child in list(spec._instances(parent)):
        if child.state == TaskState.COMPLETED and str(child.id) not in done:
            spec.merge_child(parent.workflow, child)
            merged.append(f"{getattr(spec, 'bpmn_id', spec.name)}:{child.id}")
    return merged


def _admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDenied("only an administrator may scan or repair stalled cases")

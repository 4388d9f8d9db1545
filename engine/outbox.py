"""Asynchronous service tasks: the operator registry, running a job, retries and incidents.

A service task in BPMN names an operator (``spiffworkflow:serviceTaskOperator id="..."``).
When the workflow reaches it, ``materialize.sync_outbox`` writes an outbox row in the same
transaction; after commit a relay hands the row id to a worker (``integrations``), which calls
``run_job``. The job is idempotent by id: it resumes the instance only while the service task
is still waiting and the job is still pending, so a second delivery does nothing.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, clock
from .actor import SYSTEM, Actor
from .errors import InstanceSuspended, InvalidData, NotFound, PermissionDenied, TaskNotReady
from .models import HumanTask, OutboxJob, ProcessInstance
from .runtime import Command, advance, find_task, load, running, save


@dataclass(frozen=True)
class OperatorContext:
    """What an operator may know about the job: ids for idempotency and the caller's session."""

    session: Session
    job_id: str
    instance_id: str
    element_id: str
    attempt: int
    now: datetime
    effects: dict[str, Any] = field(default_factory=dict)

    def set_business_key(self, key: str) -> None:
        """Give the case its official key (e.g. the case number) when the job's result is applied."""
        if not key or len(key) > 200:
            raise ValueError("a business key of 1 to 200 characters is required")
        self.effects["business_key"] = key


Operator = Callable[[dict[str, Any], OperatorContext], Any]


@dataclass(frozen=True)
class RegisteredOperator:
    name: str
    func: Operator
    description: str


_OPERATORS: dict[str, RegisteredOperator] = {}


def operator(name: str, description: str = "") -> Callable[[Operator], Operator]:
    """Register ``func`` as the operator BPMN service tasks call by ``name``."""

    def decorate(func: Operator) -> Operator:
        existing = _OPERATORS.get(name)
        if existing is not None and existing.func is not func:
            raise ValueError(f"service-task operator {name!r} is already registered")
        _OPERATORS[name] = RegisteredOperator(name, func, description or (func.__doc__ or "").strip())
        return func

    return decorate


def registered_operators() -> list[RegisteredOperator]:
    return sorted(_OPERATORS.values(), key=lambda o: o.name)


class JobFailed(Exception):
    """An operator failed; the job will be retried with backoff or become an incident."""


def job_backoff(base_seconds: int, attempts: int) -> timedelta:
    return timedelta(seconds=base_seconds * (2 ** max(attempts - 1, 0)))


def run_job(session: Session, job_id: str, now: datetime | None = None) -> str:
    """Run one job and resume its instance. Returns "done" or "skipped" (already handled).

    Raises ``JobFailed`` when the operator fails; the caller rolls back and calls
    ``record_failure`` in a fresh transaction.
    """
    now = now or clock.now()
    job = session.get(OutboxJob, job_id, populate_existing=True)
    if job is None:
        raise NotFound(f"no outbox job {job_id}")
    if job.status != "pending":
        return "skipped"
    if session.scalar(select(ProcessInstance.status).where(ProcessInstance.id == job.instance_id)) == "suspended":
        return "skipped"  # left pending: ``engine.instance_admin.resume`` queues it again
    registered = _OPERATORS.get(job.operator)
    if registered is None:
        raise JobFailed(f"no service-task operator named {job.operator!r} is registered")
    context = OperatorContext(session, job.id, job.instance_id, job.element_id, job.attempts + 1, now)
    try:
        result = registered.func(dict(job.params), context)
    except Exception as exc:
        raise JobFailed(f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}") from exc
    return _resume(session, job, result, SYSTEM, now, "service_task_completed", context.effects)


def _resume(session: Session, job: OutboxJob, result: Any, actor: Actor, now: datetime, action: str,
            effects: dict[str, Any] | None = None) -> str:
    cmd = Command(session, actor, now=now)
    loaded = load(cmd, job.instance_id)
    if loaded.row.status == "suspended":
        raise InstanceSuspended("this case is suspended by an administrator; resume it before its service "
                                "task's result is applied")
    session.refresh(job)
    if job.status not in ("pending", "incident"):
        return "skipped"
    task = find_task(loaded.workflow, job.task_id)
    if task is None or not task.has_state(TaskState.READY):
        job.status, job.finished_at = "done", now
        return "skipped"
    business_key = (effects or {}).get("business_key")
    if business_key and business_key != loaded.row.business_key:
        loaded.row.business_key = business_key
        for task_id in loaded.row.ready_task_ids or []:
            human = session.get(HumanTask, task_id)
            if human is not None:
                human.business_key = business_key
        cmd.record(loaded, "business_key_set", {"to": business_key, "job": job.id})
    with running(cmd, loaded):
        task.data[task.task_spec.result_variable] = result
        task.complete()
    job.status, job.finished_at, job.attempts = "done", now, job.attempts + 1
    cmd.record(loaded, action, {"operator": job.operator, "job": job.id, "result": result},
               job.task_id, job.element_id)
    advance(cmd, loaded)
    save(cmd)
    return "done"


def record_failure(session: Session, job_id: str, error: str, base_seconds: int = 10,
                   now: datetime | None = None) -> OutboxJob:
    """Count a failed attempt: schedule the retry with exponential backoff, or open an incident."""
    now = now or clock.now()
    job = session.get(OutboxJob, job_id, populate_existing=True)
    if job is None:
        raise NotFound(f"no outbox job {job_id}")
    if job.status != "pending":
        return job
    job.attempts += 1
    job.last_error = error[:4000]
    if job.attempts >= job.max_attempts:
        job.status = "incident"
        audit.append(session, SYSTEM.user_id, "incident_opened", now=now,
                     data={"job": job.id, "instance": job.instance_id, "operator": job.operator,
                           "error": error.splitlines()[0] if error else ""})
    else:
        job.next_attempt_at = now + job_backoff(base_seconds, job.attempts)
    return job


def due_jobs(session: Session, now: datetime | None = None, limit: int = 100) -> list[str]:
    now = now or clock.now()
    suspended = select(ProcessInstance.id).where(ProcessInstance.status == "suspended")
    return list(session.scalars(select(OutboxJob.id).where(OutboxJob.status == "pending",
                                                           OutboxJob.next_attempt_at <= now,
                                                           OutboxJob.instance_id.not_in(suspended))
                                .order_by(OutboxJob.next_attempt_at).limit(limit)))


def incidents(session: Session) -> list[OutboxJob]:
    return list(session.scalars(select(OutboxJob).where(OutboxJob.status == "incident")
                                .order_by(OutboxJob.created_at)))


def _incident(session: Session, job_id: str, actor: Actor) -> OutboxJob:
    if not actor.is_admin:
        raise PermissionDenied("only an administrator may handle incidents")
    job = session.get(OutboxJob, job_id)
    if job is None:
        raise NotFound(f"no outbox job {job_id}")
    if job.status != "incident":
        raise TaskNotReady(f"job {job_id} is {job.status}, not an open incident")
    return job


def retry_incident(session: Session, job_id: str, actor: Actor, now: datetime | None = None,
                   reason: str | None = None) -> OutboxJob:
    """Put a failed job back in the queue with a fresh retry budget (the reason, if given, audited)."""
    now = now or clock.now()
    job = _incident(session, job_id, actor)
    job.status, job.attempts, job.next_attempt_at = "pending", 0, now
    data: dict[str, Any] = {"job": job.id, "instance": job.instance_id}
    if reason and reason.strip():
        data["reason"] = reason.strip()
    audit.append(session, actor.user_id, "incident_retried", now=now, data=data)
    session.info.setdefault("weijian_new_outbox_jobs", []).append(job.id)
    return job


def resolve_incident(session: Session, job_id: str, actor: Actor, result: Any, note: str,
                     now: datetime | None = None) -> OutboxJob:
    """An administrator did the work by hand: record the result and let the case continue."""
    if not note or not note.strip():
        raise InvalidData("say how the incident was resolved")
    now = now or clock.now()
    job = _incident(session, job_id, actor)
    _resume(session, job, result, actor, now, "incident_resolved")
    job.status = "resolved"
    audit.append(session, actor.user_id, "incident_resolved", now=now, data={"job": job.id, "note": note.strip()})
    return job

"""Celery app and the outbox worker task (Flask's "Background Tasks with Celery" pattern).

With ``REDIS_URL`` unset Celery runs eagerly, in-process: the relay's ``delay`` runs the job
right after the request's commit. With Redis, jobs go to the broker and N workers run them.
Configuration comes from a small ``CELERY`` dict, never from the whole Flask config.

Importing this module discovers every process package (``processes.registry.discover``), which
registers their service-task operators: ``celery -A integrations.celery_app worker`` imports
nothing else, and a job whose operator is not registered fails. A worker refuses to start when
a bundled or deployed BPMN service task names an operator nobody registered (``check_operators``).
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta

from celery import Celery, Task, shared_task
from celery.signals import worker_init, worker_ready
from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from engine import JobFailed, clock, due_jobs, record_failure, run_job
from engine.models import OutboxJob
from engine.runtime import NEW_JOBS_KEY
from engine.settings import Settings
from engine.tuning import settle_heap
from processes.registry import discover, unregistered_operators

from .db import session_factory
from .logs import connect_celery_logging, current_request_id, request_id_context

log = logging.getLogger(__name__)
connect_celery_logging()


def celery_config(settings: Settings) -> dict[str, object]:
    if settings.redis_url:
        return {"broker_url": settings.redis_url, "result_backend": settings.redis_url,
                "task_ignore_result": True, "task_acks_late": True, "worker_prefetch_multiplier": 1,
                "broker_connection_retry_on_startup": True}
    return {"task_always_eager": True, "task_eager_propagates": True, "task_ignore_result": True,
            "broker_url": "memory://", "result_backend": "cache+memory://"}


def make_celery(settings: Settings | None = None) -> Celery:
    settings = settings or Settings.from_env()
    app = Celery("weijian", set_as_current=True)
    app.conf.update(celery_config(settings))
    app.conf.update(weijian_settings=settings)
    # Also the default for every other thread: a threaded server's request threads have no
    # thread-local current app, and Celery's fallback app would silently drop eager jobs.
    app.set_default()
    return app


celery_app = make_celery()


@worker_ready.connect
def _settle_worker_heap(**_kwargs: object) -> None:
    """A worker is a long-running engine process: see ``engine.tuning``."""
    settle_heap()


discover()  # every process package, and with it every service-task operator


def check_operators(settings: Settings | None = None) -> None:
    """Raise ``SystemExit`` naming every operator a bundled or deployed service task calls that no
    package registered (a worker without it would turn each such job into an incident). When the
    database cannot be read, only the bundled files are checked."""
    try:
        with session_factory(settings)() as session:
            missing = unregistered_operators(session)
    except SQLAlchemyError as exc:
        log.warning("operator check: deployed definitions not read (%s); checking the bundled files only",
                    str(exc).splitlines()[0])
        missing = unregistered_operators()
    if missing:
        named = "; ".join(f"{name} (named in {', '.join(sorted(set(where)))})"
                          for name, where in sorted(missing.items()))
        log.critical("refusing to start: service-task operators not registered: %s", named)
        raise SystemExit(f"service-task operators not registered: {named}")


@worker_init.connect
def _check_worker_operators(sender: object = None, **_kwargs: object) -> None:
    """Before a worker takes any job (a ``SystemExit`` here stops the worker from starting)."""
    app = getattr(sender, "app", None)
    check_operators(_settings(app) if isinstance(app, Celery) else None)


def _settings(app: Celery) -> Settings:
    value = app.conf.get("weijian_settings")
    return value if isinstance(value, Settings) else Settings.from_env()


@shared_task(name="weijian.run_outbox_job", bind=True)
def run_outbox_job(self: Task, job_id: str, request_id: str | None = None) -> str:
    """Run one outbox job; failures are counted in a fresh transaction (retry or incident).

    ``request_id`` is the web request's that queued the job (see ``integrations.logs``): the
    job's log lines carry it, and so do the jobs it queues in turn.
    """
    with request_id_context(request_id or current_request_id()):
        return _run_outbox_job(self.app, job_id)


def _run_outbox_job(app: Celery, job_id: str) -> str:
    settings = _settings(app)
    factory = session_factory(settings)
    with factory() as session:
        try:
            outcome = run_job(session, job_id)
            session.commit()
        except JobFailed as exc:
            session.rollback()
            with factory() as failed:
                record_failure(failed, job_id, str(exc), settings.job_retry_base_seconds)
                failed.commit()
            log.warning("outbox job %s failed: %s", job_id, str(exc).splitlines()[0])
            return "failed"
        follow_up = session.info.pop(NEW_JOBS_KEY, [])
    dispatch(follow_up)
    return outcome


@shared_task(name="weijian.run_migration_batch", bind=True)
def run_migration_batch(self: Task, batch_id: str, request_id: str | None = None) -> str:
    """Move the instances of an administrator's migration batch (``engine.migration_batch``)."""
    from engine.migration_batch import run_batch

    with request_id_context(request_id or current_request_id()):
        batch = run_batch(session_factory(_settings(self.app)), batch_id, on_chunk=dispatch)
    return batch.status if batch is not None else "missing"


def dispatch_migration(batch_id: str) -> None:
    """Hand a committed migration batch to a worker (in-process when eager)."""
    run_migration_batch.delay(batch_id, request_id=current_request_id())


def dispatch(job_ids: list[str]) -> None:
    """Hand committed jobs to Celery (in-process when eager), with the current request id."""
    request_id = current_request_id()
    for job_id in job_ids:
        run_outbox_job.delay(job_id, request_id=request_id)


def dispatch_after_commit(session: Session) -> None:
    """Call after ``session.commit()``: relays the jobs the committed commands created."""
    dispatch(session.info.pop(NEW_JOBS_KEY, []))


RELAY_LEASE = timedelta(minutes=5)


def relay_lease() -> timedelta:
    """How long a re-sent job waits before the next sweep may send it again.

    A worker killed while running a job (kill -9, machine lost) leaves the job pending: the
    sweep sends it again once this lease has passed (Redis would redeliver the unacknowledged
    message only after its one-hour visibility timeout). ``WEIJIAN_RELAY_LEASE_SECONDS``
    shortens it, e.g. in the cluster fault tests; a second delivery of a running job is
    harmless (jobs are idempotent), only wasted work.
    """
    raw = os.environ.get("WEIJIAN_RELAY_LEASE_SECONDS")
    return timedelta(seconds=float(raw)) if raw else RELAY_LEASE


def relay_due(settings: Settings | None = None) -> int:
    """Re-send pending jobs whose (retry) time has come: the scheduler's sweep.

    Each re-sent job's next attempt moves a lease ahead first, so a job still running on a
    worker is not sent again on the next sweep (it stays harmless if it were: idempotent).
    """
    with session_factory(settings)() as session:
        ids = due_jobs(session)
        if ids:
            session.execute(update(OutboxJob).where(OutboxJob.id.in_(ids))
                            .values(next_attempt_at=clock.now() + relay_lease()))
            session.commit()
    dispatch(ids)
    return len(ids)

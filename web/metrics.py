"""Prometheus metrics at ``/metrics`` (``prometheus_client``, the maintained official client).

Two kinds, because gunicorn runs several worker processes:

* What a worker observes (request and task-completion latency) is a histogram in that worker.
  Under ``weijian serve --production`` the client's multiprocess mode writes them to
  ``PROMETHEUS_MULTIPROC_DIR`` and every scrape, whichever worker answers it, sums all of them.
* What the database knows (outbox backlog, open incidents, stalled instances, timer lag) and
  whether a scheduler leads are read at scrape time, so they are the same whichever worker
  answers and need no process to keep them current.

Set ``WEIJIAN_METRICS_TOKEN`` to require ``Authorization: Bearer <token>`` on ``/metrics``.
"""

from __future__ import annotations

import fcntl
import hmac
import logging
import os
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, request
from prometheus_client import REGISTRY, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import clock
from engine.models import OutboxJob, ProcessInstance, StartTimer, TimerRow
from engine.settings import Settings
from integrations.scheduler import lock_file, lock_key

from .extensions import dbs

log = logging.getLogger(__name__)
bp = Blueprint("metrics", __name__)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# URL rules of the two ways to complete a task (the page's form post and the API).
COMPLETION_RULES = {"/tasks/<task_id>": "page", "/api/v1/tasks/<task_id>/complete": "api"}

REQUEST_SECONDS = Histogram(
    "weijian_http_request_duration_seconds", "Time to answer an HTTP request, by route and status.",
    ["method", "endpoint", "status"], buckets=LATENCY_BUCKETS)
COMPLETION_SECONDS = Histogram(
    "weijian_task_completion_duration_seconds",
    "Time to answer a task completion (page form or API), by channel and outcome.",
    ["channel", "outcome"], buckets=LATENCY_BUCKETS)


def observe_request(method: str, rule: str | None, endpoint: str | None, status: int, seconds: float) -> None:
    """Called once per request by ``web.operations`` after the response is built."""
    REQUEST_SECONDS.labels(method, endpoint or "unmatched", str(status)).observe(seconds)
    channel = COMPLETION_RULES.get(rule or "") if method == "POST" else None
    if channel is not None:
        outcome = "ok" if status < 400 else ("invalid" if status < 500 else "error")
        COMPLETION_SECONDS.labels(channel, outcome).observe(seconds)


class DatabaseCollector(Collector):
    """Gauges computed from the database (and the leader lock) when Prometheus scrapes."""

    def __init__(self, session: Session, settings: Settings) -> None:
        self.session = session
        self.settings = settings

    def collect(self) -> Iterator[Metric]:
        now = clock.now()
        yield _gauge("weijian_outbox_pending_jobs", "Outbox jobs not yet run (the Celery backlog).",
                     self._count(OutboxJob, OutboxJob.status == "pending"))
        yield _gauge("weijian_open_incidents", "Outbox jobs that ran out of retries and wait for an administrator.",
                     self._count(OutboxJob, OutboxJob.status == "incident"))
        yield _gauge("weijian_stalled_instances",
                     "Process instances the stalled detector found with nothing that could move them.",
                     self._count(ProcessInstance, ProcessInstance.status == "stalled"))
        oldest = [t for t in (self._oldest(TimerRow.due_at, now), self._oldest(StartTimer.next_due, now)) if t]
        lag = max(0.0, (now - min(oldest)).total_seconds()) if oldest else 0.0
        yield _gauge("weijian_timer_lag_seconds", "Age of the oldest timer that is due and not yet fired.", lag)
        yield _gauge("weijian_scheduler_leader", "1 while a scheduler holds the leader lock, else 0.",
                     scheduler_leader(self.settings))

    def _count(self, model: type, condition: Any) -> float:
        return float(self.session.scalar(select(func.count()).select_from(model).where(condition)) or 0)

    def _oldest(self, column: Any, now: datetime) -> datetime | None:
        """Typed column (not ``min()``), so SQLite's text comes back as an aware datetime."""
        value: datetime | None = self.session.scalar(select(column).where(column <= now).order_by(column).limit(1))
        return value


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def scheduler_leader(settings: Settings) -> float:
    """Whether some scheduler leads: the Redis key exists, or the lock file is held."""
    if settings.redis_url:
        import redis

        client = redis.Redis.from_url(settings.redis_url, socket_timeout=1, socket_connect_timeout=1)
        try:
            return 1.0 if client.exists(lock_key()) else 0.0
        except redis.RedisError as exc:
            log.warning("scheduler leader unknown: %s", exc)
            return float("nan")
        finally:
            client.close()
    path = lock_file()
    if not path.exists():
        return 0.0
    with path.open("rb") as handle:
        try:  # a shared lock, released at once: a scheduler that tries right now retries next renewal
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return 1.0
        fcntl.flock(handle, fcntl.LOCK_UN)
    return 0.0


def worker_metrics() -> bytes:
    """This process's metrics, or every worker's summed in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


@bp.get("/metrics")
def metrics() -> Response:
    from flask import current_app

    token = os.environ.get("WEIJIAN_METRICS_TOKEN")
    if token and not hmac.compare_digest(request.headers.get("Authorization", ""), f"Bearer {token}"):
        return Response("metrics need the bearer token\n", 401, {"WWW-Authenticate": "Bearer"}, mimetype="text/plain")
    database = CollectorRegistry(auto_describe=False)
    database.register(DatabaseCollector(dbs(), current_app.config["WEIJIAN_SETTINGS"]))
    try:
        body = worker_metrics() + generate_latest(database)
    finally:
        dbs().rollback()
    return Response(body, 200, {"Cache-Control": "no-store"}, content_type=CONTENT_TYPE)

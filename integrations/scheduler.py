"""The one scheduler: fires due timers and timer start events, and sweeps the outbox.

Exactly one scheduler may run (APScheduler's job store cannot be shared between processes):
with Redis it holds a leader lock (``SET NX`` with a TTL it keeps renewing), so a second
scheduler process stays idle until the first one dies; on the embedded default a file lock
under ``instance/`` does the same on one machine. Jobs only call engine entry points, each in
its own transaction.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import uuid
from pathlib import Path
from typing import IO

from apscheduler.schedulers.background import BackgroundScheduler

from engine import fire_due_timers
from engine.settings import PROJECT_ROOT, Settings

from .celery_app import dispatch_after_commit, relay_due
from .db import session_scope

log = logging.getLogger(__name__)
TICK_SECONDS = 15
LEASE_SECONDS = 60


class LeaderLock:
    """Leadership for the scheduler: Redis lock when REDIS_URL is set, else a file lock."""

    def __init__(self, settings: Settings, lock_path: Path | None = None,
                 redis_key: str = "weijian:scheduler:leader") -> None:
        self.settings = settings
        self.lock_path = lock_path or PROJECT_ROOT / "instance" / "scheduler.lock"
        self.redis_key = redis_key
        self.token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._file: IO[str] | None = None

    def acquire(self) -> bool:
        if self.settings.redis_url:
            import redis

            client = redis.Redis.from_url(self.settings.redis_url)
            key = self.redis_key
            try:
                if client.set(key, self.token, nx=True, ex=LEASE_SECONDS):
                    return True
                current = client.get(key)
                if current is not None and (current.decode() if isinstance(current, bytes) else current) == self.token:
                    client.expire(key, LEASE_SECONDS)
                    return True
                return False
            finally:
                client.close()
        if self._file is not None:
            return True
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.lock_path, "w")  # noqa: SIM115 - held open for the life of the process
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        return True

    def release(self) -> None:
        """Give up leadership (shutdown): another scheduler may take over at once."""
        if self._file is not None:
            self._file.close()
            self._file = None
        if self.settings.redis_url:
            import redis

            client = redis.Redis.from_url(self.settings.redis_url)
            try:
                current = client.get(self.redis_key)
                if current is not None and (current.decode() if isinstance(current, bytes) else current) == self.token:
                    client.delete(self.redis_key)
            finally:
                client.close()


def tick(settings: Settings, lock: LeaderLock) -> None:
    if not lock.acquire():
        return
    with session_scope(settings) as session:
        report = fire_due_timers(session)
    dispatch_after_commit(session)
    if report.failures:
        log.warning("timer failures: %s", report.failures)
    relay_due(settings)


def start_scheduler(settings: Settings | None = None) -> BackgroundScheduler:
    """Start the background scheduler thread (``weijian serve`` or ``weijian scheduler``)."""
    settings = settings or Settings.from_env()
    lock = LeaderLock(settings)
    scheduler = BackgroundScheduler(timezone=settings.timezone)
    scheduler.add_job(tick, "interval", seconds=TICK_SECONDS, args=[settings, lock], id="weijian-tick",
                      max_instances=1, coalesce=True)
    scheduler.start()
    return scheduler

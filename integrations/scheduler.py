"""The one scheduler: fires due timers and timer start events, and sweeps the outbox.

Exactly one scheduler may run (APScheduler's job store cannot be shared between processes):
with Redis it holds a leader lock (``SET NX`` with a short lease it keeps renewing), so a
second scheduler process stays idle until the first one is gone; on the embedded default a
file lock under ``instance/`` does the same on one machine. Jobs only call engine entry points,
each in its own transaction.

Takeover times follow from two settings (``WEIJIAN_SCHEDULER_LEASE_SECONDS``, default 12, and
``WEIJIAN_SCHEDULER_RENEW_SECONDS``, default 4): a leader that stops gracefully (SIGTERM,
Ctrl-C) deletes its key and publishes that on Redis, so a waiting successor leads at once; a
leader that crashes stops renewing, so its key expires and a successor leads within
lease + renew (≤ 16 s). Renewal and release are compare-and-set Lua scripts: a slow leader
whose lease ran out can never extend or delete its successor's key.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from apscheduler.schedulers.background import BackgroundScheduler

from engine import fire_due_timers
from engine.settings import PROJECT_ROOT, Settings

from .celery_app import dispatch_after_commit, relay_due
from .db import session_scope

log = logging.getLogger(__name__)
DEFAULT_LOCK_KEY = "weijian:scheduler:leader"
DEFAULT_LOCK_FILE = PROJECT_ROOT / "instance" / "scheduler.lock"
PARENT_PID_ENV = "WEIJIAN_SCHEDULER_PARENT_PID"

# KEYS[1] = lock key, ARGV[1] = our token, ARGV[2] = lease in milliseconds.
_RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
_RELEASE = ("if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('del', KEYS[1]); "
            "return redis.call('publish', KEYS[1] .. ':released', ARGV[1]) end return 0")


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ValueError(f"environment variable {name} must be a number, got {raw!r}") from exc
    if value <= 0:
        raise ValueError(f"environment variable {name} must be positive, got {raw!r}")
    return value


@dataclass(frozen=True)
class SchedulerTiming:
    """How often the scheduler works and how long its leadership outlives a crash."""

    tick_seconds: float = 15.0  # fire due timers, sweep the outbox
    lease_seconds: float = 12.0  # a crashed leader's key lives this long
    renew_seconds: float = 4.0  # leader renews / followers try to take over this often

    @classmethod
    def from_env(cls) -> SchedulerTiming:
        timing = cls(tick_seconds=_env_float("WEIJIAN_SCHEDULER_TICK_SECONDS", cls.tick_seconds),
                     lease_seconds=_env_float("WEIJIAN_SCHEDULER_LEASE_SECONDS", cls.lease_seconds),
                     renew_seconds=_env_float("WEIJIAN_SCHEDULER_RENEW_SECONDS", cls.renew_seconds))
        if timing.renew_seconds * 2 > timing.lease_seconds:
            raise ValueError("WEIJIAN_SCHEDULER_RENEW_SECONDS must be at most half of "
                             "WEIJIAN_SCHEDULER_LEASE_SECONDS (a leader must survive one missed renewal)")
        return timing


def lock_key() -> str:
    return os.environ.get("WEIJIAN_SCHEDULER_LOCK_KEY") or DEFAULT_LOCK_KEY


def lock_file() -> Path:
    raw = os.environ.get("WEIJIAN_SCHEDULER_LOCK_FILE")
    return Path(raw) if raw else DEFAULT_LOCK_FILE


class LeaderLock:
    """Leadership for the scheduler: Redis lock when REDIS_URL is set, else a file lock."""

    def __init__(self, settings: Settings, lock_path: Path | None = None,
                 redis_key: str | None = None, lease_seconds: float | None = None) -> None:
        self.settings = settings
        self.lock_path = lock_path or lock_file()
        self.redis_key = redis_key or lock_key()
        self.lease_ms = int((lease_seconds or SchedulerTiming.lease_seconds) * 1000)
        self.token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._file: IO[str] | None = None
        self._client: Any = None

    def _redis(self) -> Any:
        if self._client is None:
            import redis

            self._client = redis.Redis.from_url(self.settings.redis_url or "", socket_timeout=2,
                                                socket_connect_timeout=2)
        return self._client

    def acquire(self) -> bool:
        """Take the lock or renew our lease; False while another scheduler holds it."""
        if self.settings.redis_url:
            client = self._redis()
            if client.set(self.redis_key, self.token, nx=True, px=self.lease_ms):
                return True
            return bool(client.eval(_RENEW, 1, self.redis_key, self.token, self.lease_ms))
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
            try:
                self._redis().eval(_RELEASE, 1, self.redis_key, self.token)
            finally:
                self.close()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def follow(self) -> Follower:
        """What a waiting scheduler listens to: the leader's release, published on Redis."""
        return Follower(self._redis() if self.settings.redis_url else None, f"{self.redis_key}:released")


class Follower:
    """Waits up to one renewal interval, waking early when the leader announces its release.

    Subscribed before the first attempt to lead, so a release between a failed attempt and the
    wait is not missed. Without Redis (file lock, one machine) it simply waits.
    """

    def __init__(self, client: Any, channel: str) -> None:
        self._pubsub = client.pubsub(ignore_subscribe_messages=True) if client is not None else None
        if self._pubsub is not None:
            self._pubsub.subscribe(channel)

    def wait(self, seconds: float, stopping: threading.Event) -> None:
        deadline = time.monotonic() + seconds
        while not stopping.is_set() and (left := deadline - time.monotonic()) > 0:
            if self._pubsub is None:
                stopping.wait(left)
                return
            if self._pubsub.get_message(timeout=min(left, 0.5)) is not None:
                return

    def close(self) -> None:
        if self._pubsub is not None:
            self._pubsub.close()


def tick(settings: Settings, lock: LeaderLock) -> None:
    if not lock.acquire():
        return
    with session_scope(settings) as session:
        report = fire_due_timers(session)
    dispatch_after_commit(session)
    if report.failures:
        log.warning("timer failures: %s", report.failures)
    run_package_schedules(settings)
    run_notifications(settings)
    relay_due(settings)


def run_notifications(settings: Settings) -> None:
    """Notices about tasks (assigned, due soon, overdue) and the daily digests
    (``processes.directory.notifications``); a failure is logged, never stops the tick."""
    from engine.db import utcnow
    from processes.directory.notifications import scan, send_digests

    try:
        with session_scope(settings) as session:
            now = utcnow()
            scan(session, now)
            send_digests(session, now)
    except Exception:
        log.exception("notifications failed")


def run_package_schedules(settings: Settings) -> None:
    """Each process package's periodic work (recurring inspection plans); the packages make it
    exactly-once per period themselves, so a second scheduler or a restart does no harm. Jobs it
    creates go out with the sweep (``relay_due``) right after."""
    from processes.registry import discover

    from .db import session_factory

    for package in discover():
        if package.scheduled is None:
            continue
        try:
            for line in package.scheduled(session_factory(settings)):
                log.info("%s: %s", package.name, line)
        except Exception:
            log.exception("scheduled work of %s failed", package.name)


class SchedulerRunner:
    """The lease loop on a thread of its own, and APScheduler's tick job while leading.

    A follower tries to lead once per renewal interval, and at once when the leader announces
    its release. A new leader ticks at once instead of waiting up to a whole tick interval;
    ticks never delay renewals (separate threads), so a long tick never lets the lease lapse.
    ``stop`` waits for a running tick to finish, then deletes the lock and says so.
    """

    def __init__(self, settings: Settings, timing: SchedulerTiming | None = None,
                 lock: LeaderLock | None = None) -> None:
        self.settings = settings
        self.timing = timing or SchedulerTiming.from_env()
        self.lock = lock or LeaderLock(settings, lease_seconds=self.timing.lease_seconds)
        self.leading = False
        self._tick_guard = threading.Lock()
        self._stopping = threading.Event()
        self._scheduler = BackgroundScheduler(timezone=settings.timezone)
        self._lease_thread = threading.Thread(target=self._lease_loop, name="weijian-lease", daemon=True)

    def start(self) -> SchedulerRunner:
        self._scheduler.add_job(self._tick, "interval", seconds=self.timing.tick_seconds, id="weijian-tick",
                                max_instances=1, coalesce=True)
        self._scheduler.start()
        self._lease_thread.start()
        return self

    def _lease_loop(self) -> None:
        follower = None
        try:
            while not self._stopping.is_set():
                if follower is None and not self.leading:
                    follower = self._follow()
                self._renew()
                if self.leading or follower is None:
                    self._stopping.wait(self.timing.renew_seconds)
                else:
                    follower.wait(self.timing.renew_seconds, self._stopping)
        finally:
            if follower is not None:
                follower.close()

    def _follow(self) -> Follower | None:
        try:
            return self.lock.follow()
        except Exception as exc:  # Redis down: poll at the renewal interval until it is back
            log.warning("scheduler cannot listen for the leader's release: %s", exc)
            return None

    def _renew(self) -> None:
        try:
            leading = self.lock.acquire()
        except Exception as exc:  # Redis unreachable: we cannot know, so stop working
            log.warning("scheduler lease check failed: %s", exc)
            leading = False
        if leading and not self.leading:
            log.info("scheduler %s is now the leader", self.lock.token)
            self.leading = True
            # Tick now, on the tick job's own thread: renewals must never wait behind a tick.
            self._scheduler.modify_job("weijian-tick", next_run_time=datetime.now(UTC))
        elif not leading and self.leading:
            log.warning("scheduler %s lost leadership", self.lock.token)
        self.leading = leading

    def _tick(self) -> None:
        if not self.leading or not self._tick_guard.acquire(blocking=False):
            return
        try:
            tick(self.settings, self.lock)
        except Exception:
            log.exception("scheduler tick failed")
        finally:
            self._tick_guard.release()

    def stop(self) -> None:
        self._stopping.set()
        try:
            self._lease_thread.join(self.timing.renew_seconds + 5)
            self._scheduler.shutdown(wait=True)
        finally:
            self.leading = False
            self.lock.release()
            log.info("scheduler %s stopped and released the lock", self.lock.token)


def start_scheduler(settings: Settings | None = None) -> SchedulerRunner:
    """Start the background scheduler thread (``weijian serve`` or ``weijian scheduler``)."""
    return SchedulerRunner(settings or Settings.from_env()).start()


def run_until_signalled(settings: Settings | None = None) -> None:
    """``weijian scheduler``: run until SIGTERM or SIGINT, then release the lock at once."""
    stop = threading.Event()

    def _stop(signum: int, _frame: object) -> None:
        log.info("scheduler got %s, stopping", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    # Started by `weijian serve --production`: stop with the server even if it was killed -9.
    parent = int(os.environ.get(PARENT_PID_ENV) or 0)
    runner = start_scheduler(settings)
    try:
        while not stop.wait(2):
            if parent and os.getppid() != parent:
                log.warning("scheduler's parent process %s is gone, stopping", parent)
                break
    finally:
        runner.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)

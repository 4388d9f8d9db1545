"""The ``make cluster`` layout as child processes, for the cluster fault tests and ``bench.load``.

Why a second way to start it: ``make cluster`` runs honcho in the foreground on fixed names
(port 8000, ``weijian_cluster``, Redis db 2); a test needs its own PostgreSQL database, its own
Redis db number and a free port, must find each process's pid to kill it, and must tear every
process down even when it fails. The commands are the Procfile's: ``weijian serve --production``
(gunicorn), ``celery -A integrations.celery_app worker`` twice, ``weijian scheduler`` twice, in
production mode with ``WEIJIAN_SCHEDULER=0``. Each runs in its own session (process group), so
a kill reaches its children (Celery's pool, gunicorn's workers) and nothing outlives the run.

Setup is what ``make cluster`` does (create the database, migrate, deploy, demo data), run
in-process to save the CLI's start-up time, plus one API token per demo user.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.fernet import Fernet

PG_SERVER = os.environ.get("WEIJIAN_CLUSTER_PG", "postgresql://postgres@127.0.0.1:5432")
REDIS_SERVER = os.environ.get("WEIJIAN_CLUSTER_REDIS", "redis://127.0.0.1:6379")
TOKEN_USERS = ("zhang.wei", "li.na", "zhao.lei", "chen.jing", "admin")
BIN = Path(sys.executable).parent
# Short enough that a test sees a takeover, a retry and a re-sent job within seconds.
FAST_TIMING = {"WEIJIAN_SCHEDULER_TICK_SECONDS": "1", "WEIJIAN_SCHEDULER_LEASE_SECONDS": "4",
               "WEIJIAN_SCHEDULER_RENEW_SECONDS": "1.5", "WEIJIAN_RELAY_LEASE_SECONDS": "4",
               "WEIJIAN_JOB_RETRY_BASE_SECONDS": "1"}


# A fresh encryption key for complainants' identities (production mode refuses the development one).
COMPLAINT_KEY = Fernet.generate_key().decode()


class ClusterError(RuntimeError):
    """A process did not start or a service is missing; the message says which and why."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def services_reachable() -> str | None:
    """None when PostgreSQL and Redis answer, else why not."""
    import psycopg
    import redis

    try:
        psycopg.connect(f"{PG_SERVER}/postgres", connect_timeout=3).close()
    except Exception as exc:
        return f"PostgreSQL at {PG_SERVER}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    try:
        redis.Redis.from_url(REDIS_SERVER, socket_connect_timeout=2).ping()
    except Exception as exc:
        return f"Redis at {REDIS_SERVER}: {exc}"
    return None


def _claim_redis_db(marker: str) -> int:
    """A Redis db number nobody uses (empty), claimed with a marker key so two runs never share one."""
    import redis

    for number in list(range(15, 3, -1)):
        client = redis.Redis.from_url(f"{REDIS_SERVER}/{number}")
        try:
            if client.dbsize() == 0 and client.set("weijian:cluster:claimed", marker, nx=True, ex=3600):
                return number
        finally:
            client.close()
    raise ClusterError("no empty Redis db number among 4..15")


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)


@dataclass
class Cluster:
    """One running cluster: its processes, their logs, its database and Redis db."""

    workdir: Path
    web_workers: int = 3
    worker_concurrency: int = 1
    extra_env: dict[str, str] = field(default_factory=dict)
    name: str = field(default_factory=lambda: f"weijian_fault_{uuid.uuid4().hex[:10]}")
    port: int = field(default_factory=free_port)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    redis_db: int | None = None
    secret: str = field(default_factory=lambda: secrets.token_hex(32))

    @property
    def db_url(self) -> str:
        return f"{PG_SERVER}/{self.name}"

    @property
    def redis_url(self) -> str:
        return f"{REDIS_SERVER}/{self.redis_db}"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WEIJIAN_", "PROMETHEUS_"))}
        env.update({"DATABASE_URL": self.db_url, "REDIS_URL": self.redis_url, "WEIJIAN_ENV": "production",
                    "SECRET_KEY": self.secret, "WEIJIAN_UPLOAD_DIR": str(self.workdir / "uploads"),
                    "WEIJIAN_COMPLAINT_KEYS": COMPLAINT_KEY,
                    "WEIJIAN_SECURE_COOKIES": "0", "WEIJIAN_SCHEDULER": "0", "WEIJIAN_LOG_LEVEL": "INFO",
                    "PROMETHEUS_MULTIPROC_DIR": str(self.workdir / "metrics"),
                    "PATH": f"{BIN}:{os.environ.get('PATH', '')}", **FAST_TIMING, **self.extra_env})
        return env

    # -- setup ------------------------------------------------------------------------------
    def create(self) -> None:
        """The database (migrated, deployed, demo data, tokens) and a Redis db of its own."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.redis_db = _claim_redis_db(self.name)
        _admin(f'CREATE DATABASE "{self.name}"')
        from migrations.runner import upgrade

        upgrade(self.db_url.replace("postgresql://", "postgresql+psycopg://", 1))
        self._seed()

    def _seed(self) -> None:
        from sqlalchemy.orm import Session

        from engine.actor import SYSTEM
        from engine.dbconnect import make_engine
        from processes.demo_data import load_demo
        from processes.registry import deploy_packages
        from web.models import ApiToken
        from web.security import TOKEN_PREFIX, token_hash

        engine = make_engine(self.db_url)
        try:
            with Session(engine) as session:
                deploy_packages(session, SYSTEM)
                session.commit()
                load_demo(session)
                session.commit()
                from engine.db import utcnow

                for user in TOKEN_USERS:
                    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
                    session.add(ApiToken(user_id=user, name="cluster", token_hash=token_hash(token), prefix=token[:10],
                                         created_by=SYSTEM.user_id, created_at=utcnow(), expires_at=None))
                    self.tokens[user] = token
                session.commit()
        finally:
            engine.dispose()

    # -- processes --------------------------------------------------------------------------
    def commands(self) -> dict[str, list[str]]:
        """The Procfile's lines (web on our port, worker concurrency as chosen)."""
        celery = [str(BIN / "celery"), "-A", "integrations.celery_app", "worker", "--concurrency",
                  str(self.worker_concurrency), "--loglevel", "INFO", "--without-gossip", "--without-mingle"]
        weijian = str(BIN / "weijian")
        return {"web": [weijian, "serve", "--production", "--host", "127.0.0.1", "--port", str(self.port),
                        "--workers", str(self.web_workers)],
                "worker1": [*celery, "--hostname", f"worker1-{self.name}@%h"],
                "worker2": [*celery, "--hostname", f"worker2-{self.name}@%h"],
                "scheduler1": [weijian, "scheduler"], "scheduler2": [weijian, "scheduler"]}

    def start(self, names: tuple[str, ...] | None = None, timeout: float = 60) -> None:
        env = self.env()
        for name, command in self.commands().items():
            if names is None or name in names:
                self.spawn(name, command, env)
        self.wait_ready(timeout)

    def spawn(self, name: str, command: list[str], env: dict[str, str] | None = None) -> None:
        with (self.workdir / f"{name}.log").open("ab") as log:
            self.processes[name] = subprocess.Popen(command, env=env or self.env(), stdout=log,  # noqa: S603
                                                    stderr=subprocess.STDOUT, start_new_session=True,
                                                    cwd=Path(__file__).resolve().parents[1])

    def log(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def tail(self, lines: int = 30) -> str:
        return "\n".join(f"--- {name} ---\n" + "\n".join(self.log(name).splitlines()[-lines:])
                         for name in self.processes)

    def wait_ready(self, timeout: float) -> None:
        """/readyz answers 200, every Celery worker said ready, a scheduler leads."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise ClusterError(f"{name} exited with {process.returncode}:\n{self.log(name)[-3000:]}")
            workers_ready = all(" ready." in self.log(n) for n in self.processes if n.startswith("worker"))
            if workers_ready and self._web_ready() and (self.leader_pid() is not None or not any(
                    n.startswith("scheduler") for n in self.processes)):
                return
            time.sleep(0.2)
        raise ClusterError(f"cluster not ready within {timeout} s:\n{self.tail()}")

    def _web_ready(self) -> bool:
        if "web" not in self.processes:
            return True
        try:
            with urllib.request.urlopen(f"{self.base}/readyz", timeout=3) as answer:  # noqa: S310 - loopback
                return bool(answer.status == 200)
        except OSError:
            return False

    def leader_pid(self) -> int | None:
        import redis

        client = redis.Redis.from_url(self.redis_url, socket_timeout=2)
        try:
            value = client.get("weijian:scheduler:leader")
        finally:
            client.close()
        if not value:
            return None
        text = value.decode() if isinstance(value, bytes) else str(value)
        return int(text.split(":")[1])

    def children(self, name: str) -> list[int]:
        """Direct children of a process (gunicorn's workers, Celery's pool)."""
        pid = self.processes[name].pid
        found: list[int] = []
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{pid}/task"):
                found += [int(p) for p in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
        return found

    def kill9(self, name: str) -> None:
        """kill -9 the whole process group (the process and its children), as a lost machine."""
        process = self.processes[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    def stop(self, grace: float = 5) -> None:
        """SIGTERM every group, SIGKILL what is left after ``grace`` seconds; never raises."""
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(max(0.1, deadline - time.monotonic()))
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)  # stragglers, and orphaned children of a group
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(5)

    def destroy(self) -> None:
        """Stop everything, drop the database, empty the Redis db."""
        self.stop()
        with contextlib.suppress(Exception):
            _admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        if self.redis_db is not None:
            import redis

            with contextlib.suppress(Exception):
                client = redis.Redis.from_url(self.redis_url)
                client.flushdb()
                client.close()


@contextlib.contextmanager
def running_cluster(workdir: Path, **options: object) -> Iterator[Cluster]:
    cluster = Cluster(workdir, **options)  # type: ignore[arg-type]
    try:
        cluster.create()
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()

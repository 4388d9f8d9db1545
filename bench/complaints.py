"""Complaints benchmark: ``python -m bench.complaints --json``.

Two parts, each against a real server on 127.0.0.1 that the bench starts and stops itself
(about two minutes in all). Prints one JSON object.

``complaints.case_ms``: one complaint from intake to archive on the embedded default (SQLite
file, eager Celery: ``weijian serve``, scheduler off). The citizen files it on the portal (CSRF
token and proof-of-work solved before the clock starts); every staff task is then completed
through ``POST /api/v1/tasks/<id>/complete`` with the doer's API token (the next task is found
in the completion's answer, or else in the staff's inboxes through ``GET /api/v1/inbox``); the
30-day window for a 复查 request is closed by ``engine.fire_due_timers`` 31 days later and the
archive jobs that follow run eagerly, as the scheduler's tick would run them. Median of
``--case-runs`` after one warm-up case, with its parts (``complaints.case.*``).

``portal.*``: ``weijian serve --production`` (gunicorn with its default worker count, rate limits
in a Redis db of its own as production has them, ``--no-redis`` for per-worker memory) on the
PostgreSQL database ``weijian_bench_complaints`` holding ``--complaints`` (100,000) complaints.
First one client alone (``portal.alone.*``: a request's time without a queue), then ``--clients``
(20) at once (``portal.*``), each a thread with its own session and connection (gunicorn's sync
workers close it after each answer) that files complaints (``POST /public/complaints/new``,
challenges solved beforehand; 70 % about a directory entity, as often as the stored ones, so
busy targets get their share), then tracks stored ones (``POST /public/complaints/track``, right
number and code; one in 20 a wrong code).

* ``portal.submit_p95_ms`` / ``track_p95_ms`` (and p50, max, count, per second): each request
  timed by its client on loopback, from sending it to reading the whole answer, so with 20
  clients and fewer workers it includes the wait for a free worker;
* ``portal.server.*_p95_ms``: the app's own time of the same requests, from its request log
  (matched by the ``X-Request-ID`` each request carries), without that wait;
* ``portal.cpu.*_ms``: CPU per request of the web workers (``app``), their PostgreSQL backends
  (``db``) and the clients (``client``), from ``/proc``: the numbers that least depend on what
  else the machine is doing (``machine.load_before``/``_after``); capacity is about cores × 1000
  / (app + db + client) requests per second, and 20 clients without pause wait about 20 / that.

How the 100,000 complaints are stored quickly: Alembic creates the schema, the services create
the units (1 province, 10 cities, 100 counties) and the deployment; entities (20,000),
complaints and their timelines (about 4.5 lines each) go in with PostgreSQL COPY (about 30 s),
generated deterministically: received over the last three years (more recently, fewer on
weekends), 80 % at county units (a few counties get most), kinds and channels in the shares of
a provincial register, statuses by age (older ones closed, refused, transferred or merged;
recent ones at every stage), 70 % about a directory entity (Zipf: the busiest about 1,000 in
three years), 30 % about free-text targets, a third anonymous, the others with an encrypted
identity (a pool of real Fernet tokens), 1.3 % of the answered ones with a 复查 and a quarter of
those a 复核. Each row's query code is random with its own salt and stored as
``intake.code_hash`` does; the bench keeps the codes of every 20th row to track. The process
instances of the stored complaints are not created (the inbox benchmark measures 200,000 of
those); the portal reads none of them.

``--reuse`` keeps the filled database between runs (migrated to the newest schema each time);
``--py-spy DIR`` profiles the web workers during the 20-client phases.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.complaints_case import case_part
from bench.complaints_data import Directory, Tracked, directory, prepare_postgres, submission
from bench.complaints_http import (
    CLIENTS,
    COMPLAINTS,
    FILED_RE,
    PG_ADMIN_DEFAULT,
    PG_DB,
    SINGLE_SUBMITS,
    SINGLE_TRACKS,
    TARGET_P95_MS,
    Http,
    Server,
    _pct,
    csrf_token,
    server_env,
    solve,
)


@dataclass
class Sample:
    kind: str
    ms: float
    outcome: str  # ok | refused (a filing the checks refused: 422 with reasons) | error


class PortalClient(threading.Thread):
    """One citizen's browser: a session, a CSRF token, challenges solved before the clock starts."""

    def __init__(self, number: int, label: str, port: int, place: Directory, tracked: list[Tracked], submits: int,
                 tracks: int, challenges: list[str], barrier: threading.Barrier) -> None:
        super().__init__(name=f"client-{label}-{number}", daemon=True)
        self.number, self.label, self.rng = number, label, random.Random(f"{label}-{number}")
        self.http = Http(port)
        self.place, self.tracked, self.submits, self.tracks = place, tracked, submits, tracks
        self.challenges, self.barrier = challenges, barrier
        self.samples: list[Sample] = []
        self.error: BaseException | None = None
        self.token = ""

    def prepare(self) -> None:
        self.token = csrf_token(self.http, "/public/complaints/new")

    def run(self) -> None:
        try:
            self.barrier.wait()
            for n, challenge in enumerate(self.challenges[:self.submits]):
                fields = submission(self.rng, self.token, challenge, self.place)
                answer = self.http.post_form("/public/complaints/new", fields, multipart=True,
                                             request_id=f"bench-{self.label}-submit-{self.number}-{n}")
                filed = answer.status == 200 and FILED_RE.search(answer.text()) is not None
                outcome = "ok" if filed else "refused" if answer.status == 422 else "error"
                self.samples.append(Sample("submit", answer.ms, outcome))
            self.barrier.wait()
            for n in range(self.tracks):
                item = self.rng.choice(self.tracked)
                wrong = n % 20 == 19  # one in 20 typed the code wrong: the same refusal as an unknown number
                answer = self.http.post_form(
                    "/public/complaints/track", {"csrf_token": self.token, "tracking_no": item.tracking_no,
                                                 "code": "WRONGCODE234" if wrong else item.code},
                    request_id=f"bench-{self.label}-track-{self.number}-{n}")
                self.samples.append(Sample("track", answer.ms, "ok" if answer.status == (422 if wrong else 200)
                                           else "error"))
            self.barrier.wait()
        except BaseException as exc:  # reported by the main thread
            self.error = exc
            with contextlib.suppress(threading.BrokenBarrierError):
                self.barrier.abort()
        finally:
            self.http.close()


def _solve_many(challenges: list[dict[str, Any]]) -> list[str]:
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        return list(pool.map(solve, challenges, chunksize=8))


def server_times(log_path: Path) -> dict[str, list[float]]:
    """The app's own time of each measured request (``web.operations`` logs ``duration_ms`` with
    the request id the client sent: ``bench-<run>-<kind>-...``), by ``<run>-<kind>``."""
    times: dict[str, list[float]] = {}
    for line in log_path.read_text(errors="replace").splitlines():
        if not line.startswith("{"):
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        parts = str(entry.get("request_id") or "").split("-")
        if len(parts) > 3 and parts[0] == "bench" and "duration_ms" in entry:
            times.setdefault(f"{parts[1]}-{parts[2]}", []).append(float(entry["duration_ms"]))
    return times


def _cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU time of these processes so far (Linux ``/proc``; 0 elsewhere)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 0.0


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


@dataclass
class CpuMeter:
    """CPU spent by the web workers, their PostgreSQL backends and this client during a phase."""

    server_pid: int
    database_url: str
    marks: dict[str, float] = field(default_factory=dict)

    def _backends(self) -> list[int]:
        from engine.dbconnect import make_engine

        engine = make_engine(self.database_url)
        try:
            with engine.connect() as conn:
                return [int(p) for p in conn.execute(text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid()")).scalars()]
        finally:
            engine.dispose()

    def read(self) -> tuple[float, float, float]:
        return (_cpu_seconds([self.server_pid, *_children(self.server_pid)]), _cpu_seconds(self._backends()),
                time.process_time())


REDIS_SERVER = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379")
REDIS_CLAIM = "weijian:cluster:claimed"  # the key bench.cluster claims a db number with: the two never share one


def claim_redis_db() -> str | None:
    """An empty Redis db of our own (4..15), as production's web has (rate limits shared by every
    worker); None when Redis does not answer (each worker then counts in memory)."""
    import redis

    for number in range(15, 3, -1):
        client = redis.Redis.from_url(f"{REDIS_SERVER}/{number}", socket_connect_timeout=2)
        try:
            if client.dbsize() == 0 and client.set(REDIS_CLAIM, "bench.complaints", nx=True, ex=3600):
                return f"{REDIS_SERVER}/{number}"
        except redis.RedisError:
            return None
        finally:
            client.close()
    return None


def release_redis_db(url: str | None) -> None:
    if url is None:
        return
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.flushdb()  # ours alone: claimed empty with the marker
    finally:
        client.close()


@dataclass
class Run:
    """One load: ``clients`` at once, each filing then tracking; what they saw and what it cost."""

    label: str  # one | many: the request ids name it, so the server's log lines are told apart
    clients: list[PortalClient]
    marks: list[tuple[float, float, float]] = field(default_factory=list)
    stamps: list[float] = field(default_factory=list)

    def go(self, meter: CpuMeter, profile_dir: Path | None, pid: int) -> None:
        barrier = self.clients[0].barrier
        for client in self.clients:
            client.prepare()
            client.start()
        spy: subprocess.Popen[bytes] | None = None
        for edge in ("submit", "track", None):  # the clients wait for each other between phases
            barrier.wait(timeout=600)
            self.marks.append(meter.read())
            self.stamps.append(time.perf_counter())
            spy = _py_spy(spy, profile_dir if self.label == "many" else None, edge, pid)
        for client in self.clients:
            client.join(60)
        errors = [c.error for c in self.clients if c.error is not None]
        if errors:
            raise RuntimeError(f"client failed: {errors[0]!r}")

    def summary(self, prefix: str, on_server: dict[str, list[float]]) -> dict[str, Any]:
        samples = [s for c in self.clients for s in c.samples]
        out: dict[str, Any] = {}
        for index, kind in enumerate(("submit", "track")):
            values = [s.ms for s in samples if s.kind == kind]
            seconds = self.stamps[index + 1] - self.stamps[index]
            app, db, client = (self.marks[index + 1][n] - self.marks[index][n] for n in range(3))
            mine = on_server.get(f"{self.label}-{kind}", [])
            out.update({f"{prefix}{kind}_count": len(values), f"{prefix}{kind}_p50_ms": _pct(values, 0.5),
                        f"{prefix}{kind}_p95_ms": _pct(values, 0.95), f"{prefix}{kind}_max_ms": round(max(values), 1),
                        f"{prefix}{kind}_errors": sum(s.outcome == "error" for s in samples if s.kind == kind),
                        f"{prefix}{kind}_per_s": round(len(values) / seconds, 1),
                        f"{prefix}server.{kind}_p50_ms": _pct(mine, 0.5),
                        f"{prefix}server.{kind}_p95_ms": _pct(mine, 0.95),
                        f"{prefix}cpu.{kind}_app_ms": round(app * 1000 / len(values), 2),
                        f"{prefix}cpu.{kind}_db_ms": round(db * 1000 / len(values), 2),
                        f"{prefix}cpu.{kind}_client_ms": round(client * 1000 / len(values), 2)})
        out[f"{prefix}submit_refused"] = sum(s.outcome == "refused" for s in samples if s.kind == "submit")
        return out


def portal_part(admin_url: str, count: int, clients: int, submits: int, tracks: int, reuse: bool, keep: bool,
                workdir: Path, profile_dir: Path | None = None, use_redis: bool = True) -> dict[str, Any]:
    keys = os.environ.get("WEIJIAN_COMPLAINT_KEYS") or _fernet_key()
    url, tracked, fill_s, reused = prepare_postgres(admin_url, count, reuse, keys)
    place = directory()
    redis_url = claim_redis_db() if use_redis else None
    extra = {"WEIJIAN_COMPLAINT_KEYS": keys, "WEIJIAN_LOG_LEVEL": "INFO"}
    if redis_url:
        extra["REDIS_URL"] = redis_url
    try:
        server = Server.start(server_env(url, workdir / "uploads", **extra), production=True,
                              log_path=workdir / "portal.log")
    except BaseException:
        release_redis_db(redis_url)
        raise
    meter = CpuMeter(server.process.pid, url)
    alone = (SINGLE_SUBMITS, SINGLE_TRACKS)
    try:
        warm = Http(server.port)
        token = csrf_token(warm, "/public/complaints/new")
        raw = [warm.get("/public/challenge").json() for _ in range(clients * (submits + 1) + alone[0])]
        warm.close()
        solved = _solve_many(raw)
        _warm_up(server.port, clients, token, warm.cookies, solved[:clients], place, tracked)
        pool = iter(solved[clients:])
        one = Run("one", [PortalClient(0, "one", server.port, place, tracked, *alone,
                                       [next(pool) for _ in range(alone[0])], threading.Barrier(2))])
        one.go(meter, profile_dir, server.process.pid)
        barrier = threading.Barrier(clients + 1)
        many = Run("many", [PortalClient(n, "many", server.port, place, tracked, submits, tracks,
                                         [next(pool) for _ in range(submits)], barrier) for n in range(clients)])
        many.go(meter, profile_dir, server.process.pid)
    finally:
        server.stop()
        release_redis_db(redis_url)
        if not keep:
            _drop(admin_url)
    on_server = server_times(server.log_path)
    return {"portal.complaints_stored": count, "portal.fill_s": round(fill_s, 1), "portal.reused_database": reused,
            "portal.clients": clients, "portal.web_workers": _workers_of(server.log_path),
            "portal.limits_storage": "redis" if redis_url else "memory (per worker)",
            **many.summary("portal.", on_server), **one.summary("portal.alone.", on_server)}


def _py_spy(running: subprocess.Popen[bytes] | None, folder: Path | None, phase: str | None,
            pid: int) -> subprocess.Popen[bytes] | None:
    """Stop the profile of the last phase and start one of ``phase`` (py-spy, raw collapsed stacks)."""
    if running is not None:
        running.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        running.wait(60)
    if folder is None or phase is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    command = [shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy"), "record", "-p", str(pid),
               "--subprocesses", "--nonblocking", "--gil", "-r", "250", "-f", "raw", "-o", str(folder / f"{phase}.txt")]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603


def _warm_up(port: int, clients: int, token: str, cookies: dict[str, str], challenges: list[str], place: Directory,
             tracked: list[Tracked]) -> None:
    """Every worker warm (imports, parsed specs, connections): a filing and a few trackings from
    each client at once, not measured."""

    def one(seed: int) -> None:
        client = Http(port, cookies=dict(cookies))
        rng = random.Random(seed)
        client.post_form("/public/complaints/new", submission(rng, token, challenges[seed], place), multipart=True)
        for item in rng.sample(tracked, 5):
            client.post_form("/public/complaints/track",
                             {"csrf_token": token, "tracking_no": item.tracking_no, "code": item.code})
        client.close()

    threads = [threading.Thread(target=one, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)


def _workers_of(log_path: Path) -> int:
    return sum(1 for line in log_path.read_text(errors="replace").splitlines() if "Booting worker" in line)


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def _drop(admin_url: str) -> None:
    from engine.dbconnect import make_engine

    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)'))
    admin.dispose()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print one JSON object (the default)")
    parser.add_argument("--case-runs", type=int, default=5)
    parser.add_argument("--complaints", type=int, default=COMPLAINTS)
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--submits", type=int, default=15, help="filings per client")
    parser.add_argument("--tracks", type=int, default=60, help="trackings per client")
    parser.add_argument("--skip-case", action="store_true")
    parser.add_argument("--skip-portal", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="keep a database filled by an earlier --keep run")
    parser.add_argument("--keep", action="store_true", help=f"do not drop {PG_DB} afterwards")
    parser.add_argument("--no-redis", action="store_true",
                        help="rate limits in each worker's memory instead of a Redis db (as without REDIS_URL)")
    parser.add_argument("--py-spy", type=Path, metavar="DIR",
                        help="profile the web workers in each 20-client phase with py-spy --gil (installed "
                             "separately): DIR/submit.txt and DIR/track.txt, collapsed stacks")
    args = parser.parse_args(argv)
    base = os.environ.get("BENCH_POSTGRES_ADMIN_URL") or PG_ADMIN_DEFAULT
    base = base.replace("postgresql://", "postgresql+psycopg://", 1) if base.startswith("postgresql://") else base
    started = time.perf_counter()
    result: dict[str, Any] = {"target.portal_p95_ms": TARGET_P95_MS, "machine.cpus": os.cpu_count(),
                              "machine.load_before": round(os.getloadavg()[0], 1)}
    workdir = Path(tempfile.mkdtemp(prefix="weijian-bench-complaints-"))
    try:
        if not args.skip_case:
            result.update(case_part(args.case_runs, workdir))
        if not args.skip_portal:
            result.update(portal_part(base, args.complaints, args.clients, args.submits, args.tracks,
                                      args.reuse, args.keep or args.reuse, workdir, args.py_spy, not args.no_redis))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    result["bench_s"] = round(time.perf_counter() - started, 1)
    result["machine.load_after"] = round(os.getloadavg()[0], 1)  # other work on the machine skews every number
    json.dump(result, sys.stdout, indent=1, sort_keys=True, ensure_ascii=False)
    sys.stdout.write("\n")
    return result


if __name__ == "__main__":
    main()

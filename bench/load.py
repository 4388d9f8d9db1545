"""Load benchmark: ``python -m bench.load --json`` (issue 10, item 4).

Starts ``make cluster``'s layout on loopback (``bench.cluster``: ``weijian serve --production``
with gunicorn, two Celery workers, two schedulers, a fresh PostgreSQL database and Redis db),
then:

* **mixed load**: ``--clients`` (20) API clients for ``--seconds`` (20), each starting penalty
  cases and driving them to the investigation report; before each completion the client
  reads its inbox and the task, so the mix is inbox, task page, task completion, case start
  and case page. Keys: ``load.rps`` (all requests per second), ``load.errors_500``,
  ``load.complete_p95_ms``, ``load.inbox_p95_ms`` and p50/p95 per kind.
* **simple completion**: one client completing the form-less ``review`` task of the ``timed``
  test fixture, one after another: ``http.simple_complete_p50_ms``.
* **where the time goes**: the server's own completion time from the ``/metrics`` histogram
  (``server.complete_mean_ms``, the rest is the client, the socket and gunicorn), per-kind
  counts of 409s (lost races answered cleanly), and the share of the machine's CPU each kind of
  process used during the mixed load (``load.cpu_share.web`` / ``celery`` / ``scheduler`` /
  ``postgres`` / ``clients``; 1.0 is every core busy).

Everything is torn down at the end, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

from bench.cluster import Cluster, services_reachable
from bench.complaints import _children, _cpu_seconds
from bench.penalty_http import ENTITY, Answer, Client, form_data, ready, who

KINDS = ("inbox", "task", "complete", "start", "case")


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


class Recorder:
    """Thread-safe per-kind latencies and status counts."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ms: dict[str, list[float]] = defaultdict(list)
        self.statuses: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))

    def __call__(self, kind: str, answer: Answer) -> None:
        with self.lock:
            self.statuses[kind][answer.status] += 1
            if answer.ok:
                self.ms[kind].append(answer.ms)


def _client_loop(client: Client, stop: threading.Event) -> None:
    """Start a case, then for each ready task: inbox, task page, completion; read the case between steps."""
    while not stop.is_set():
        started = client.call("zhang.wei", "POST", "/api/v1/cases",
                              {"process_key": "penalty_ordinary", "entity_id": ENTITY["credit_code"]}, kind="start")
        if not started.ok:
            time.sleep(0.05)
            continue
        case, instance_id = started.body, started.body["id"]
        for _step in range(40):
            if stop.is_set() or any(t["task_name"] == "investigation_report" for t in ready(case)):
                break
            tasks = ready(case)
            for task in tasks:
                client.call(who(task), "GET", "/api/v1/inbox?limit=20", kind="inbox")
                client.call(who(task), "GET", f"/api/v1/tasks/{task['id']}", kind="task")
                answer = client.call(who(task), "POST", f"/api/v1/tasks/{task['id']}/complete",
                                     {"data": form_data(task, case)}, kind="complete")
                if answer.ok:
                    case = answer.body
            if not tasks or not ready(case):
                time.sleep(0.1)  # a job has the case (number, documents)
                read = client.call("zhang.wei", "GET", f"/api/v1/cases/{instance_id}", kind="case")
                if read.ok:
                    case = read.body


def _group_pids(cluster: Cluster) -> dict[str, list[int]]:
    """The cluster's processes by kind, each with its children (gunicorn's and Celery's workers)."""
    groups: dict[str, list[int]] = defaultdict(list)
    for name, process in cluster.processes.items():
        kind = "web" if name == "web" else "celery" if name.startswith("worker") else "scheduler"
        groups[kind] += [process.pid, *_children(process.pid)]
        groups[kind] += [grandchild for child in _children(process.pid) for grandchild in _children(child)]
    return groups


def _backend_pids(cluster: Cluster) -> list[int]:
    from sqlalchemy import text

    from engine.dbconnect import make_engine

    engine = make_engine(cluster.db_url)
    try:
        with engine.connect() as conn:
            return [int(p) for p in conn.execute(text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )).scalars()]
    finally:
        engine.dispose()


def _cpu_by_group(cluster: Cluster) -> dict[str, float]:
    pids = _group_pids(cluster)
    return {**{kind: _cpu_seconds(sorted(set(found))) for kind, found in pids.items()},
            "postgres": _cpu_seconds(_backend_pids(cluster)), "clients": time.process_time()}


def mixed_load(cluster: Cluster, clients: int, seconds: float) -> dict[str, Any]:
    """Also where the machine's CPU went meanwhile (``load.cpu_share.*``: web workers, Celery
    workers running the cases' jobs, schedulers, PostgreSQL backends of the cluster's database,
    this process's clients), as shares of every core's time."""
    recorder = Recorder()
    stop = threading.Event()
    workers = [Client(cluster.port, cluster.tokens, timeout=30, record=recorder) for _ in range(clients)]
    threads = [threading.Thread(target=_client_loop, args=(c, stop), daemon=True) for c in workers]
    before = server_completions(cluster)
    cpu_before = _cpu_by_group(cluster)
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(60)
    elapsed = time.perf_counter() - began
    cpu_after = _cpu_by_group(cluster)
    after = server_completions(cluster)
    for client in workers:
        client.close()
    total = sum(sum(s.values()) for s in recorder.statuses.values())
    result: dict[str, Any] = {
        "load.rps": round(total / elapsed, 1),
        "load.errors_500": sum(n for s in recorder.statuses.values() for code, n in s.items() if code >= 500),
        "load.complete_p95_ms": _pct(recorder.ms["complete"], 0.95),
        "load.inbox_p95_ms": _pct(recorder.ms["inbox"], 0.95),
        "load.clients": clients, "load.seconds": round(elapsed, 1), "load.requests": total,
        "load.conflicts_409": sum(s.get(409, 0) for s in recorder.statuses.values()),
        "load.connection_errors": sum(s.get(0, 0) for s in recorder.statuses.values()),
    }
    for kind in KINDS:
        result[f"load.{kind}_p50_ms"] = _pct(recorder.ms[kind], 0.5)
        result[f"load.{kind}_p95_ms"] = _pct(recorder.ms[kind], 0.95)
        result[f"load.{kind}_count"] = len(recorder.ms[kind])
    cores = os.cpu_count() or 1
    for kind, spent in cpu_after.items():
        result[f"load.cpu_share.{kind}"] = round((spent - cpu_before.get(kind, 0.0)) / (elapsed * cores), 3)
    result["load.cpu_share.total"] = round(sum(v for k, v in result.items() if k.startswith("load.cpu_share.")), 3)
    count, total_s = after[0] - before[0], after[1] - before[1]
    result["server.complete_mean_ms"] = round(total_s / count * 1000, 2) if count else None
    return result


def server_completions(cluster: Cluster) -> tuple[float, float]:
    """(count, sum of seconds) of the API completion histogram, summed over gunicorn's workers."""
    with urllib.request.urlopen(f"{cluster.base}/metrics", timeout=10) as answer:  # noqa: S310 - loopback
        text = answer.read().decode()
    values = []
    for name in ("count", "sum"):
        found = re.search(rf'^weijian_task_completion_duration_seconds_{name}\{{channel="api",outcome="ok"\}} (\S+)$',
                          text, re.MULTILINE)
        values.append(float(found.group(1)) if found else 0.0)
    return values[0], values[1]


def simple_completions(cluster: Cluster, count: int) -> dict[str, Any]:
    """One client completing form-less tasks one after another (the HTTP overhead of a completion)."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from engine import Actor, deploy, start
    from engine.actor import SYSTEM
    from engine.dbconnect import make_engine
    from engine.models import HumanTask

    officer = Actor.of("zhang.wei", ["officer"], ["610302"])
    engine = make_engine(cluster.db_url)
    with Session(engine) as session:
        bpmn = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "timers" / "timers.bpmn"
        deploy(session, {"timers.bpmn": bpmn.read_bytes()}, SYSTEM)
        session.commit()
        ids = [start(session, "timed", officer, {"start_date": date.today().isoformat(), "deadline_days": 30,
                                                 "cooling_period": "P1D"}, unit_id="610302").id for _ in range(count)]
        session.commit()
        rows = list(session.scalars(select(HumanTask).where(HumanTask.instance_id.in_(ids),
                                                            HumanTask.status == "ready")))
        tasks = [row.id for row in rows]

    engine.dispose()
    client = Client(cluster.port, cluster.tokens)
    times, failures = [], 0
    for task_id in tasks:
        answer = client.call("zhang.wei", "POST", f"/api/v1/tasks/{task_id}/complete", {"data": {}})
        if answer.ok:
            times.append(answer.ms)
        else:
            failures += 1
            if failures == 1:
                print(f"simple completion refused: {answer.status} {answer.body}", file=sys.stderr)
    client.close()
    warm = times[len(times) // 5:]  # the first fifth warms every gunicorn worker's caches
    return {"http.simple_complete_p50_ms": round(statistics.median(warm), 2) if warm else None,
            "http.simple_complete_p95_ms": _pct(warm, 0.95), "http.simple_complete_failures": failures}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--simple", type=int, default=200, help="sequential simple completions")
    parser.add_argument("--web-workers", type=int, default=None, help="gunicorn workers (default: its rule)")
    args = parser.parse_args(argv)
    problem = services_reachable()
    if problem:
        print(f"bench.load needs PostgreSQL and Redis: {problem}", file=sys.stderr)
        return 2
    from web.server import default_workers

    with tempfile.TemporaryDirectory(prefix="weijian-load-") as tmp:
        cluster = Cluster(Path(tmp), web_workers=args.web_workers or default_workers(), worker_concurrency=2,
                          extra_env={"WEIJIAN_SCHEDULER_TICK_SECONDS": "5"})
        try:
            cluster.create()
            cluster.start(timeout=120)
            result = {**simple_completions(cluster, args.simple), **mixed_load(cluster, args.clients, args.seconds)}
        finally:
            cluster.destroy()
    result["web.workers"] = cluster.web_workers
    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        for key, value in sorted(result.items()):
            print(f"{key:36} {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

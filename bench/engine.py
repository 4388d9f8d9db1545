"""Engine benchmark: ``python -m bench.engine --json``.

A sequential process of 15 user tasks (each completion carries ~10 form fields, ~0.6 KB) and
one of 100, through the engine with persistence (SQLite file; PostgreSQL when reachable), and
the same BPMN through raw SpiffWorkflow in memory, in the same run. Each engine command runs in
its own session and transaction, as a web request would. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from bench.bpmn_gen import form_payload, sequential_user_tasks
from engine import Actor, complete_task, deploy, start
from engine.actor import SYSTEM
from engine.dbconnect import make_engine
from engine.models import HumanTask, ProcessInstance
from engine.tuning import settle_heap
from engine.xmlsafe import parse_xml
from migrations.runner import upgrade

ACTOR = Actor.of("bench", ["officer"], ["U1"])
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


class RawRunner:
    """The same BPMN through raw SpiffWorkflow in memory: no persistence at all."""

    def __init__(self, xml: bytes, key: str, steps: int) -> None:
        parser = SpiffBpmnParser()
        parser.add_bpmn_xml(parse_xml(xml, "bench.bpmn"), "bench.bpmn")
        self.spec, self.subs, self.steps = parser.get_spec(key), parser.get_subprocess_specs(key), steps
        self.timings: list[float] = []

    def run_once(self) -> None:
        t0 = time.perf_counter()
        wf = BpmnWorkflow(self.spec, self.subs)
        wf.do_engine_steps()
        for step in range(1, self.steps + 1):
            [task] = wf.get_tasks(state=TaskState.READY, manual=True)
            task.data.update(form_payload(step))
            task.run()
            wf.do_engine_steps()
        assert wf.is_completed()
        self.timings.append(time.perf_counter() - t0)

    def median_ms(self) -> float:
        return _ms(statistics.median(self.timings))


def raw_instance_ms(xml: bytes, key: str, steps: int, repeats: int) -> float:
    runner = RawRunner(xml, key, steps)
    for _ in range(repeats):
        runner.run_once()
    return runner.median_ms()


def _ready_task(factory: sessionmaker[Session], instance_id: str) -> str:
    with factory() as session:
        task_id = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id,
                                                            HumanTask.status == "ready"))
    assert task_id is not None
    return task_id


def run_instance(factory: sessionmaker[Session], key: str, steps: int) -> tuple[float, list[float], str]:
    """(ms to start, per-completion ms, instance id). Finding the next task id (what the inbox
    page shows) happens between the timed commands and is not counted."""
    t0 = time.perf_counter()
    with factory() as session:
        instance = start(session, key, ACTOR, {"case": "bench"})
        session.commit()
        instance_id = instance.id
    start_s = time.perf_counter() - t0
    per_step = []
    for step in range(1, steps + 1):
        task_id = _ready_task(factory, instance_id)
        t1 = time.perf_counter()
        with factory() as session:
            complete_task(session, task_id, ACTOR, form_payload(step))
            session.commit()
        per_step.append(time.perf_counter() - t1)
    return start_s, per_step, instance_id


def measure_backend(url: str, repeats: int, between: Callable[[], None] | None = None) -> dict[str, Any]:
    """``between`` runs after each persisted 15-task instance: the raw runs interleave with the
    persisted ones, so a busy moment on the machine weighs on both sides of the ratio."""
    engine = make_engine(url)
    factory = sessionmaker(engine, expire_on_commit=False)
    with factory() as session:
        deploy(session, {"seq15.bpmn": sequential_user_tasks("seq15", 15)}, SYSTEM)
        deploy(session, {"seq100.bpmn": sequential_user_tasks("seq100", 100)}, SYSTEM)
        session.commit()
    run_instance(factory, "seq15", 15)  # warm caches (spec parse, statement cache)
    settle_heap()  # as the server, worker and scheduler do once started (engine.tuning)
    totals, completions = [], []
    last_id = ""
    starts = []
    for _ in range(repeats):
        start_s, per_step, last_id = run_instance(factory, "seq15", 15)
        totals.append(start_s + sum(per_step))  # the whole instance, as raw.instance15_ms counts it
        starts.append(start_s)
        completions.extend(per_step)
        if between is not None:
            between()
    with factory() as session:
        final = session.get(ProcessInstance, last_id)
        assert final is not None
        assert final.status == "completed"
        state_bytes = len(final.state)
    totals100, at10, at100 = [], [], []
    for _ in range(max(1, repeats // 3)):
        start_s, per_step, _ = run_instance(factory, "seq100", 100)
        totals100.append(start_s + sum(per_step))
        at10.append(statistics.median(per_step[8:11]))
        at100.append(statistics.median(per_step[97:100]))
    engine.dispose()
    completions.sort()
    return {
        "instance15_ms": _ms(statistics.median(totals)),
        "start_ms": _ms(statistics.median(starts)),
        "complete_p50_ms": _ms(statistics.median(completions)),
        "complete_p95_ms": _ms(completions[int(len(completions) * 0.95) - 1]),
        "instance100_ms": _ms(statistics.median(totals100)),
        "complete_at10_ms": _ms(statistics.median(at10)),
        "complete_at100_ms": _ms(statistics.median(at100)),
        "complete_at100_over_at10": round(statistics.median(at100) / statistics.median(at10), 3),
        "state_bytes_final15": state_bytes,
    }


def _pg_url() -> str | None:
    url = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("TEST_POSTGRES_URL") or PG_DEFAULT
    try:
        engine = make_engine(url, connect_args={"connect_timeout": 3})
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS bench CASCADE"))
            conn.execute(text("CREATE SCHEMA bench"))
        engine.dispose()
    except Exception as exc:
        print(f"postgres unreachable: {exc}".splitlines()[0], file=sys.stderr)
        return None
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3Dbench"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("--json", action="store_true", help="print one JSON object (the default)")
    args.add_argument("--repeats", type=int, default=15, help="instances per backend (the median is reported)")
    args.add_argument("--no-postgres", action="store_true")
    opts = args.parse_args(argv)
    result: dict[str, Any] = {}
    raw = RawRunner(sequential_user_tasks("seq15", 15), "seq15", 15)
    raw.run_once()  # warm-up, not counted
    raw.timings.clear()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        result["sqlite"] = measure_backend(url, opts.repeats, between=raw.run_once)
    raw15 = raw.median_ms()
    result["raw"] = {"instance15_ms": raw15,
                     "instance100_ms": raw_instance_ms(sequential_user_tasks("seq100", 100), "seq100", 100, 3)}
    pg = None if opts.no_postgres else _pg_url()
    if pg:
        upgrade(pg)
        result["postgres"] = measure_backend(pg, opts.repeats)
    else:
        result["postgres"] = None
    result["ratio15_sqlite_over_raw"] = round(result["sqlite"]["instance15_ms"] / raw15, 2)
    from bench.penalty import measure_penalty  # drives the case with the test suite's driver

    result["penalty"] = measure_penalty()
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return result


if __name__ == "__main__":
    main()

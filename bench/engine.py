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
from engine.xmlsafe import parse_xml
from migrations.runner import upgrade

ACTOR = Actor.of("bench", ["officer"], ["U1"])
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def raw_instance_ms(xml: bytes, key: str, steps: int, repeats: int) -> float:
    parser = SpiffBpmnParser()
    parser.add_bpmn_xml(parse_xml(xml, "bench.bpmn"), "bench.bpmn")
    spec, subs = parser.get_spec(key), parser.get_subprocess_specs(key)
    timings = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        wf = BpmnWorkflow(spec, subs)
        wf.do_engine_steps()
        for step in range(1, steps + 1):
            [task] = wf.get_tasks(state=TaskState.READY, manual=True)
            task.data.update(form_payload(step))
            task.run()
            wf.do_engine_steps()
        assert wf.is_completed()
        timings.append(time.perf_counter() - t0)
    return _ms(statistics.median(timings))


def _ready_task(factory: sessionmaker[Session], instance_id: str) -> str:
    with factory() as session:
        task_id = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id,
                                                            HumanTask.status == "ready"))
    assert task_id is not None
    return task_id


def run_instance(factory: sessionmaker[Session], key: str, steps: int) -> tuple[float, list[float], str]:
    """Total ms for start + all completions, per-completion ms, instance id."""
    t0 = time.perf_counter()
    with factory() as session:
        instance = start(session, key, ACTOR, {"case": "bench"})
        session.commit()
        instance_id = instance.id
    per_step = []
    for step in range(1, steps + 1):
        task_id = _ready_task(factory, instance_id)  # what the inbox page shows: not timed
        t1 = time.perf_counter()
        with factory() as session:
            complete_task(session, task_id, ACTOR, form_payload(step))
            session.commit()
        per_step.append(time.perf_counter() - t1)
    total = time.perf_counter() - t0 - 0  # includes the untimed inbox look-ups; see instance_net
    return total, per_step, instance_id


def measure_backend(url: str, repeats: int) -> dict[str, Any]:
    engine = make_engine(url)
    factory = sessionmaker(engine, expire_on_commit=False)
    with factory() as session:
        deploy(session, {"seq15.bpmn": sequential_user_tasks("seq15", 15)}, SYSTEM)
        deploy(session, {"seq100.bpmn": sequential_user_tasks("seq100", 100)}, SYSTEM)
        session.commit()
    run_instance(factory, "seq15", 15)  # warm caches (spec parse, statement cache)
    totals, completions = [], []
    last_id = ""
    for _ in range(repeats):
        _total, per_step, last_id = run_instance(factory, "seq15", 15)
        totals.append(sum(per_step))
        completions.extend(per_step)
    with factory() as session:
        final = session.get(ProcessInstance, last_id)
        assert final is not None
        assert final.status == "completed"
        state_bytes = len(final.state)
    totals100, at10, at100 = [], [], []
    for _ in range(max(1, repeats // 3)):
        _total, per_step, _ = run_instance(factory, "seq100", 100)
        totals100.append(sum(per_step))
        at10.append(statistics.median(per_step[8:11]))
        at100.append(statistics.median(per_step[97:100]))
    engine.dispose()
    completions.sort()
    return {
        "instance15_ms": _ms(statistics.median(totals)),
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


def _optional_penalty_bench() -> Callable[[], dict[str, Any]] | None:
    """The penalty-process benchmark joins this report once that process exists."""
    try:
        from bench import penalty  # type: ignore[attr-defined]
    except ImportError:
        return None
    measure: Callable[[], dict[str, Any]] = penalty.measure_penalty
    return measure


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("--json", action="store_true", help="print one JSON object (the default)")
    args.add_argument("--repeats", type=int, default=9)
    args.add_argument("--no-postgres", action="store_true")
    opts = args.parse_args(argv)
    result: dict[str, Any] = {}
    xml15 = sequential_user_tasks("seq15", 15)
    raw15 = raw_instance_ms(xml15, "seq15", 15, opts.repeats)
    result["raw"] = {"instance15_ms": raw15,
                     "instance100_ms": raw_instance_ms(sequential_user_tasks("seq100", 100), "seq100", 100, 3)}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        result["sqlite"] = measure_backend(url, opts.repeats)
    pg = None if opts.no_postgres else _pg_url()
    if pg:
        upgrade(pg)
        result["postgres"] = measure_backend(pg, opts.repeats)
    else:
        result["postgres"] = None
    result["ratio15_sqlite_over_raw"] = round(result["sqlite"]["instance15_ms"] / raw15, 2)
    extra = _optional_penalty_bench()
    if extra is not None:
        result["penalty"] = extra()
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return result


if __name__ == "__main__":
    main()

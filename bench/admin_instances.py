"""Administrators' instance search: ``python -m bench.admin_instances --json``.

Fills a PostgreSQL database of its own (``weijian_bench_instances``, created by Alembic like
production, dropped afterwards unless ``--keep``) with 200,000 instances by COPY (the engine
would take hours; the rows need not be runnable): 6 processes, 50 units, statuses running 35%,
completed 55%, cancelled 6%, suspended 3%, stalled 1%; each open instance waits on one ready
user task among its process's 8 activities (80% with a due date, a quarter of those overdue),
every instance has two completed tasks behind it; 1% of open instances hold an outbox incident
and 0.3% a failing timer. Then times ``engine.instance_search.search_instances`` (first page
with its capped total, as the page shows it) over a mix of searches an administrator makes:
business-key prefix (narrow and broad), entity-name substring, process + status, current
activity, overdue, incidents, suspended, unit + status, and the unfiltered list; plus the second
page through the keyset cursor. Prints ``instances.search_p95_ms`` (target 50) and p95 per kind.

``run_search_bench(instances=..., samples=..., base_url=..., keep=..., reuse=...)`` returns the
same dictionary for ``bench.admin``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from engine.dbconnect import make_engine
from engine.instance_search import InstanceFilters, search_instances
from migrations.runner import upgrade

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_DB = "weijian_bench_instances"
INSTANCES, UNITS, ACTIVITIES = 200_000, 50, 8
PROCESSES = (("penalty_ordinary", "CF"), ("penalty_summary", "JY"), ("complaint_handling", "TS"),
             ("complaint_intake", "SL"), ("random_inspection", "CC"), ("case_lead", "AY"))
STATUS_MIX = (("running", 0.35), ("completed", 0.55), ("cancelled", 0.06), ("suspended", 0.03), ("stalled", 0.01))
NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)
TARGET_P95_MS = 50
PLACES = ("宝鸡", "渭滨", "金台", "陈仓", "凤翔", "岐山", "扶风", "眉县", "陇县", "千阳", "麟游", "凤县", "太白",
          "西安", "咸阳", "汉中", "延安", "榆林", "安康", "商洛")
NAMES = ("康宁", "仁和", "同济", "华康", "惠民", "安泰", "福瑞", "长青", "明德", "博爱", "永安", "德济", "益生",
         "健民", "百草", "春晖", "济世", "天和", "万康", "民生")
KINDS = ("诊所", "口腔门诊部", "医院", "自来水公司", "游泳馆", "宾馆", "美容美发店", "学校", "卫生院", "药房")


def _pick(rng: random.Random, mix: tuple[tuple[str, float], ...]) -> str:
    roll, acc = rng.random(), 0.0
    for value, share in mix:
        acc += share
        if roll < acc:
            return value
    return mix[0][0]


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def entity_name(i: int) -> str:
    return f"{PLACES[i % len(PLACES)]}市{NAMES[(i // 7) % len(NAMES)]}{KINDS[(i // 3) % len(KINDS)]}{i % 97}号店"


Rows = tuple[tuple[Any, ...], list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]


def rows(instances: int, seed: int = 5) -> Iterator[Rows]:
    """(instance, its human tasks, its outbox jobs, its timers) for every instance, deterministic."""
    rng = random.Random(seed)
    for i in range(instances):
        process, prefix = PROCESSES[i % len(PROCESSES)]
        unit = f"61{i % UNITS:04d}"
        status = _pick(rng, STATUS_MIX)
        started = NOW - timedelta(days=rng.uniform(0, 730), seconds=i % 60)
        open_ = status in ("running", "suspended")
        instance_id = _uuid(rng)
        business_key = f"{prefix}{started.year}-{i:06d}"
        entity = f"91610{i % 9973:013d}"
        ready_name = f"{process}_a{rng.randrange(ACTIVITIES)}"
        tasks: list[tuple[Any, ...]] = []
        for k in range(2):
            created = started + timedelta(days=2 * k)
            tasks.append((_uuid(rng), instance_id, process, f"{process}_a{k}", f"步骤{k}", "officer", "officer", unit,
                          "bench", business_key, entity, entity_name(i), "completed", created, None, FAR_FUTURE,
                          False, False, "bench", created + timedelta(days=1)))
        ready: list[str] = []
        if open_:
            due = NOW + timedelta(days=rng.uniform(-10, 30)) if rng.random() < 0.8 else None
            task_id = _uuid(rng)
            ready.append(task_id)
            tasks.append((task_id, instance_id, process, ready_name, f"当前{ready_name}", "officer", "officer", unit,
                          None if rng.random() < 0.5 else "bench", business_key, entity, entity_name(i), "ready",
                          started, due, due or FAR_FUTURE, False, status == "suspended", None, None))
        jobs, timers = [], []
        if open_ and rng.random() < 0.01:
            jobs.append((_uuid(rng), instance_id, _uuid(rng), "send_letter", "docs.render", "{}", "incident", 5, 5,
                         started, "the document service is down", started))
        if open_ and rng.random() < 0.3:
            failing = rng.random() < 0.01
            timers.append((instance_id, _uuid(rng), "deadline", NOW - timedelta(days=1) if failing else NOW
                           + timedelta(days=rng.uniform(1, 60)), 5 if failing else 0,
                           "timer expression failed" if failing else None))
        ended = None if open_ or status == "stalled" else started + timedelta(days=rng.uniform(5, 90))
        instance = (instance_id, 1, process, business_key, unit, entity, entity_name(i), status, b"", "3",
                    "bench", started, ended or started, ended, json.dumps([]), json.dumps(ready), len(timers), 0, 0,
                    "", 1)
        yield instance, tasks, jobs, timers


INSTANCE_COLUMNS = ("id, definition_id, process_key, business_key, unit_id, entity_id, entity_name, status, state, "
                    "serializer_version, started_by, started_at, updated_at, ended_at, completed_elements, "
                    "ready_task_ids, timer_count, subscription_count, audit_seq, audit_head, row_version")
TASK_COLUMNS = ("id, instance_id, process_key, task_name, title, lane, candidate_role, unit_id, assignee, "
                "business_key, entity_id, entity_name, status, created_at, due_at, due_sort, due_uncertain, suspended, "
                "completed_by, completed_at")
JOB_COLUMNS = ("id, instance_id, task_id, element_id, operator, params, status, attempts, max_attempts, "
               "next_attempt_at, last_error, created_at")
TIMER_COLUMNS = "instance_id, task_id, element_id, due_at, attempts, last_error"


def fill(engine: Engine, instances: int) -> None:
    """COPY every row in (two passes over the same deterministic rows: instances first, for the
    foreign keys, without holding them all in memory), then ANALYZE."""
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        assert driver is not None
        with driver.cursor() as cur:
            cur.execute("INSERT INTO process_definition (id, process_key, name, version, content_hash, sources, "
                        "summary, deployed_by, deployed_at) VALUES (1, 'bench', 'bench', 1, 'x', '{}', '{}', "
                        "'bench', now())")
            with cur.copy(f"COPY process_instance ({INSTANCE_COLUMNS}) FROM STDIN") as copy:
                for instance, _tasks, _jobs, _timers in rows(instances):
                    copy.write_row(instance)
            jobs: list[tuple[Any, ...]] = []
            timers: list[tuple[Any, ...]] = []
            with cur.copy(f"COPY human_task ({TASK_COLUMNS}) FROM STDIN") as tasks_copy:  # one COPY at a time
                for _instance, tasks, its_jobs, its_timers in rows(instances):
                    for task in tasks:
                        tasks_copy.write_row(task)
                    jobs.extend(its_jobs)
                    timers.extend(its_timers)
            for table, columns, values in (("engine_outbox", JOB_COLUMNS, jobs),
                                           ("engine_timer", TIMER_COLUMNS, timers)):
                with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in values:
                        copy.write_row(row)
        driver.commit()
    finally:
        raw.close()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE process_instance, human_task, engine_outbox, engine_timer"))


def _database_url(base: str, database: str) -> str:
    parts = urllib.parse.urlsplit(base)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, ""))


def prepare(base_url: str, instances: int, reuse: bool) -> tuple[str, float]:
    """The filled database's URL and the seconds the fill took (0 when reused)."""
    url = _database_url(base_url, PG_DB)
    if reuse:
        try:
            upgrade(url)
            engine = make_engine(url)
            with engine.connect() as conn:
                stored = conn.execute(text("SELECT count(*) FROM process_instance")).scalar()
            engine.dispose()
            if stored == instances:
                return url, 0.0
        except Exception as exc:  # not there yet: fill it
            print(f"filling {PG_DB} ({type(exc).__name__})", file=sys.stderr)
    admin = make_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{PG_DB}"'))
    admin.dispose()
    started = time.perf_counter()
    upgrade(url)
    engine = make_engine(url)
    try:
        fill(engine, instances)
    finally:
        engine.dispose()
    return url, time.perf_counter() - started


def drop(base_url: str) -> None:
    admin = make_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)'))
    admin.dispose()


def searches(instances: int) -> dict[str, Callable[[random.Random], InstanceFilters]]:
    """The kinds of search an administrator makes, each drawing its values at random."""
    def key_prefix(rng: random.Random) -> InstanceFilters:
        i = rng.randrange(instances)
        prefix = PROCESSES[i % len(PROCESSES)][1]
        return InstanceFilters(business_key=f"{prefix.lower()}{rng.choice((2024, 2025, 2026))}-{i // 1000:03d}")

    def key_broad(rng: random.Random) -> InstanceFilters:
        return InstanceFilters(business_key=f"{rng.choice(PROCESSES)[1].lower()}2025")

    def name_part(rng: random.Random) -> InstanceFilters:
        return InstanceFilters(entity_name=rng.choice((rng.choice(NAMES), rng.choice(NAMES) + rng.choice(KINDS)[:2],
                                                       rng.choice(PLACES) + "市" + rng.choice(NAMES))))

    def process_status(rng: random.Random) -> InstanceFilters:
        return InstanceFilters(process_key=rng.choice(PROCESSES)[0],
                               status=rng.choice(("running", "running", "completed", "suspended", "stalled")))

    def activity(rng: random.Random) -> InstanceFilters:
        process = rng.choice(PROCESSES)[0]
        return InstanceFilters(activity=f"{process}_a{rng.randrange(ACTIVITIES)}",
                               process_key=process if rng.random() < 0.5 else None)

    def overdue(rng: random.Random) -> InstanceFilters:
        return InstanceFilters(due_before=NOW, unit_id=f"61{rng.randrange(UNITS):04d}" if rng.random() < 0.5 else None)

    def incident(rng: random.Random) -> InstanceFilters:
        return InstanceFilters(has_incident=True, process_key=rng.choice(PROCESSES)[0] if rng.random() < 0.3 else None)

    def unit_status(rng: random.Random) -> InstanceFilters:
        return InstanceFilters(unit_id=f"61{rng.randrange(UNITS):04d}", status=rng.choice(("running", "suspended")))

    def everything(rng: random.Random) -> InstanceFilters:
        return InstanceFilters() if rng.random() < 0.5 else InstanceFilters(status="running")

    return {"key_prefix": key_prefix, "key_broad": key_broad, "entity_name": name_part,
            "process_status": process_status, "activity": activity, "overdue": overdue, "incident": incident,
            "unit_status": unit_status, "all": everything}


def _ms(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)


def measure(url: str, instances: int, samples: int, seed: int = 17) -> dict[str, Any]:
    rng = random.Random(seed)
    kinds = searches(instances)
    timings: dict[str, list[float]] = {name: [] for name in kinds}
    timings["page2"] = []
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            warm = random.Random(seed + 1)  # one search of each kind first: connection, plans, buffer pool
            for make in kinds.values():
                search_instances(session, make(warm))
            session.rollback()
            for i in range(samples):
                name = list(kinds)[i % len(kinds)]
                filters = kinds[name](rng)
                t0 = time.perf_counter()
                page = search_instances(session, filters, per_page=50)
                timings[name].append(time.perf_counter() - t0)
                if page.next_cursor and i % 3 == 0:
                    t0 = time.perf_counter()
                    search_instances(session, filters, page.next_cursor, per_page=50, count=False)
                    timings["page2"].append(time.perf_counter() - t0)
                session.rollback()
    finally:
        engine.dispose()
    every = [t for values in timings.values() for t in values]
    result: dict[str, Any] = {"instances.search_p50_ms": _ms(every, 0.5), "instances.search_p95_ms": _ms(every, 0.95),
                              "instances.search_samples": len(every)}
    for name, values in timings.items():
        if values:
            result[f"instances.search.{name}.p95_ms"] = _ms(values, 0.95)
    return result


def run_search_bench(instances: int = INSTANCES, samples: int = 450, base_url: str | None = None,
                     keep: bool = False, reuse: bool = False) -> dict[str, Any]:
    """Fill (or reuse) the database, time the searches, drop it unless kept; the numbers as a dict."""
    base = base_url or os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("TEST_POSTGRES_URL") or PG_DEFAULT
    base = base.replace("postgresql://", "postgresql+psycopg://", 1) if base.startswith("postgresql://") else base
    url, fill_s = prepare(base, instances, reuse)
    try:
        result = {"instances.rows": instances, "instances.fill_s": round(fill_s, 1),
                  **measure(url, instances, samples), "target.instances_search_p95_ms": TARGET_P95_MS}
    finally:
        if not keep and not reuse:
            drop(base)
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object (the default)")
    parser.add_argument("--instances", type=int, default=INSTANCES, help="instances to fill; smaller for a quick run")
    parser.add_argument("--samples", type=int, default=450)
    parser.add_argument("--reuse", action="store_true", help="keep and reuse an already filled database")
    parser.add_argument("--keep", action="store_true", help="do not drop the database afterwards")
    args = parser.parse_args(argv)
    result = run_search_bench(args.instances, args.samples, keep=args.keep, reuse=args.reuse)
    json.dump(result, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return result


if __name__ == "__main__":
    main()

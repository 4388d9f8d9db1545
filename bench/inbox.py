"""Inbox benchmark: ``python -m bench.inbox --json``.

Fills PostgreSQL schema ``bench_inbox`` (created by Alembic, like production) with 200,000
instances and 1,000,000 human-task rows over 50 units and 2,000 staff using COPY (the engine
would take hours), then times ``engine.inbox`` as a typical officer sees it: random officers of
random units, each tab (assigned, claimable, all, overdue) and a second page through the
keyset cursor, plus the tab counts; then a provincial user (officer and head, all 50 units in
scope) the same way. Prints one JSON object with ``inbox.p50_ms``, ``inbox.p95_ms``,
``inbox.provincial_p95_ms`` (per tab: ``inbox.provincial.<tab>.p95_ms``),
``inbox_counts.provincial_p95_ms`` and ``rows``. ``--instances 20000`` fills a tenth, for a quick run.

Shape of the data: 70% of instances are finished (all five tasks completed); the others wait on
their fifth task, half of those assigned to a person, half claimable by the lane's role. Roles
of tasks: officer 60%, head 20%, legal_reviewer 10%, complaint_clerk 10%.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from engine import Actor, InboxFilters, inbox, inbox_counts
from engine.dbconnect import make_engine
from migrations.runner import upgrade

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SCHEMA = "bench_inbox"
UNITS, USERS, INSTANCES, TASKS_PER_INSTANCE = 50, 2000, 200_000, 5
RUNNING_SHARE = 0.3
ROLE_MIX = (("officer", 0.6), ("head", 0.2), ("legal_reviewer", 0.1), ("complaint_clerk", 0.1))
PROCESSES = ("penalty_ordinary", "complaint_handling", "random_inspection", "case_lead", "penalty_summary")
NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)


def schema_url(base: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{SCHEMA}"


def staff() -> dict[str, dict[str, list[str]]]:
    """unit -> role -> user ids: 40 people per unit (24 officers, 6 heads, 5 reviewers, 5 clerks)."""
    layout = (("officer", 24), ("head", 6), ("legal_reviewer", 5), ("complaint_clerk", 5))
    people: dict[str, dict[str, list[str]]] = {}
    n = 0
    for u in range(UNITS):
        unit = f"U{u:02d}"
        people[unit] = {}
        for role, count in layout:
            people[unit][role] = [f"user{n + i:04d}" for i in range(count)]
            n += count
    assert n == USERS
    return people


def _role(rng: random.Random) -> str:
    pick, acc = rng.random(), 0.0
    for role, share in ROLE_MIX:
        acc += share
        if pick < acc:
            return role
    return ROLE_MIX[0][0]


def rows(seed: int = 7, instances: int = INSTANCES) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]:
    """(instance row, its task rows) for every instance, deterministic for a seed."""
    rng = random.Random(seed)
    people = staff()
    for i in range(instances):
        unit = f"U{i % UNITS:02d}"
        instance_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        process = PROCESSES[i % len(PROCESSES)]
        started = NOW - timedelta(days=rng.uniform(0, 720))
        running = rng.random() < RUNNING_SHARE
        ended = None if running else started + timedelta(days=30)
        instance: tuple[Any, ...] = (
            instance_id, 1, process, f"{process[:3].upper()}-{i:06d}", unit, f"91{i:016d}"[:18], f"单位{i}",
            "running" if running else "completed", b"", "bench", "bench", started, started, ended, [], [],
            0, 0, 0, "", 1)
        tasks = []
        for k in range(TASKS_PER_INSTANCE):
            role = _role(rng)
            created = started + timedelta(days=3 * k)
            due = created + timedelta(days=rng.choice((5, 7, 15, 30))) if rng.random() < 0.8 else None
            ready = running and k == TASKS_PER_INSTANCE - 1
            holder = rng.choice(people[unit][role])
            assignee = holder if (not ready or rng.random() < 0.5) else None
            tasks.append((str(uuid.UUID(int=rng.getrandbits(128), version=4)), instance_id, process, f"task_{k}",
                          f"任务{k}", role, role, unit, assignee, f"form.{k}", None, instance[3], instance[5],
                          instance[6], "ready" if ready else "completed", created, due, due or FAR_FUTURE, False,
                          None if ready else holder, None if ready else created + timedelta(days=2)))
        yield instance, tasks


INSTANCE_COLUMNS = ("id, definition_id, process_key, business_key, unit_id, entity_id, entity_name, status, state, "
                    "serializer_version, started_by, started_at, updated_at, ended_at, completed_elements, "
                    "ready_task_ids, timer_count, subscription_count, audit_seq, audit_head, row_version")
TASK_COLUMNS = ("id, instance_id, process_key, task_name, title, lane, candidate_role, unit_id, assignee, form_key, "
                "instructions, business_key, entity_id, entity_name, status, created_at, due_at, due_sort, "
                "due_uncertain, completed_by, completed_at")


def fill(engine: Engine, instances: int = INSTANCES) -> int:
    """Create the schema with Alembic and COPY the rows in; returns the number of task rows."""
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        assert driver is not None
        with driver.cursor() as cur:
            cur.execute("INSERT INTO process_definition (id, process_key, name, version, content_hash, sources, "
                        "summary, deployed_by, deployed_at) VALUES (1, 'bench', 'bench', 1, 'x', '{}', '{}', "
                        "'bench', now())")
            count = 0
            # Two passes over the same deterministic rows: instances first (the tasks' foreign key),
            # without holding a million task tuples in memory.
            with cur.copy(f"COPY process_instance ({INSTANCE_COLUMNS}) FROM STDIN") as inst_copy:
                for instance, _tasks in rows(instances=instances):
                    inst_copy.write_row(tuple(json.dumps(v) if isinstance(v, list) else v for v in instance))
            with cur.copy(f"COPY human_task ({TASK_COLUMNS}) FROM STDIN") as task_copy:
                for _instance, tasks in rows(instances=instances):
                    for task in tasks:
                        task_copy.write_row(task)
                        count += 1
        driver.commit()
    finally:
        raw.close()
    with engine.begin() as conn:
        conn.execute(text("ANALYZE process_instance"))
        conn.execute(text("ANALYZE human_task"))
    return count


def prepare(base_url: str, reuse: bool, instances: int = INSTANCES) -> tuple[Engine, int, float]:
    admin = make_engine(base_url)
    with admin.begin() as conn:
        exists = conn.execute(text("SELECT count(*) FROM information_schema.tables WHERE table_schema = :s "
                                   "AND table_name = 'human_task'"), {"s": SCHEMA}).scalar()
        if reuse and exists:
            n = conn.execute(text(f"SELECT count(*) FROM {SCHEMA}.human_task")).scalar() or 0  # noqa: S608 - constant
            if n == instances * TASKS_PER_INSTANCE:
                admin.dispose()
                return make_engine(schema_url(base_url)), n, 0.0
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    admin.dispose()
    url = schema_url(base_url)
    t0 = time.perf_counter()
    upgrade(url)
    engine = make_engine(url)
    n = fill(engine, instances)
    return engine, n, time.perf_counter() - t0


def _ms(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 3)


def measure(engine: Engine, samples: int, seed: int = 11) -> dict[str, Any]:
    rng = random.Random(seed)
    people = staff()
    timings: dict[str, list[float]] = {"assigned": [], "claimable": [], "all": [], "overdue": [], "page2": []}
    counts: list[float] = []
    sizes: list[int] = []
    with Session(engine) as session:
        for i in range(samples):
            unit = f"U{rng.randrange(UNITS):02d}"
            officer = rng.choice(people[unit]["officer"])
            actor = Actor.of(officer, ["officer"], [unit])
            tab = ("assigned", "claimable", "all", "overdue")[i % 4]
            filters = InboxFilters(scope="all" if tab == "overdue" else tab,
                                   overdue_at=NOW if tab == "overdue" else None)
            t0 = time.perf_counter()
            page = inbox(session, actor, filters, limit=50)
            timings[tab].append(time.perf_counter() - t0)
            sizes.append(len(page.tasks))
            if page.next_cursor:
                t0 = time.perf_counter()
                inbox(session, actor, filters, cursor=page.next_cursor, limit=50)
                timings["page2"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            inbox_counts(session, actor, NOW)
            counts.append(time.perf_counter() - t0)
            session.rollback()
    # A provincial user (officer and head): every unit is in scope (the subtree of the province).
    provincial = Actor.of("user0000", ["officer", "head"], [f"U{u:02d}" for u in range(UNITS)])
    wide: dict[str, list[float]] = {"claimable": [], "all": [], "overdue": [], "assigned": [], "page2": []}
    wide_counts: list[float] = []
    with Session(engine) as session:
        for i in range(max(40, samples // 4)):
            tab = ("claimable", "all", "overdue", "assigned")[i % 4]
            filters = InboxFilters(scope="all" if tab == "overdue" else tab,
                                   overdue_at=NOW if tab == "overdue" else None)
            t0 = time.perf_counter()
            page = inbox(session, provincial, filters, limit=50)
            wide[tab].append(time.perf_counter() - t0)
            if page.next_cursor and tab != "assigned":
                t0 = time.perf_counter()
                inbox(session, provincial, filters, cursor=page.next_cursor, limit=50)
                wide["page2"].append(time.perf_counter() - t0)
            if i % 4 == 0:  # the inbox page shows the tab counts too
                t0 = time.perf_counter()
                inbox_counts(session, provincial, NOW)
                wide_counts.append(time.perf_counter() - t0)
            session.rollback()
    every = [t for values in timings.values() for t in values]
    result: dict[str, Any] = {"inbox.p50_ms": _ms(every, 0.5), "inbox.p95_ms": _ms(every, 0.95),
                              "inbox.samples": len(every), "inbox.page_rows_median": statistics.median(sizes),
                              "inbox_counts.p50_ms": _ms(counts, 0.5), "inbox_counts.p95_ms": _ms(counts, 0.95)}
    for tab, values in timings.items():
        if values:
            result[f"inbox.{tab}.p95_ms"] = _ms(values, 0.95)
    every_wide = [t for values in wide.values() for t in values]
    result["inbox.provincial_p50_ms"] = _ms(every_wide, 0.5)
    result["inbox.provincial_p95_ms"] = _ms(every_wide, 0.95)
    for tab, values in wide.items():
        if values:
            result[f"inbox.provincial.{tab}.p95_ms"] = _ms(values, 0.95)
    result["inbox_counts.provincial_p50_ms"] = _ms(wide_counts, 0.5)
    result["inbox_counts.provincial_p95_ms"] = _ms(wide_counts, 0.95)
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="print one JSON object (the default)")
    parser.add_argument("--samples", type=int, default=400)
    parser.add_argument("--instances", type=int, default=INSTANCES,
                        help="instances to fill (5 task rows each); smaller for a quick run")
    parser.add_argument("--reuse", action="store_true", help="keep an already filled bench_inbox schema")
    parser.add_argument("--keep", action="store_true", help="do not drop the schema afterwards")
    args = parser.parse_args(argv)
    base = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("TEST_POSTGRES_URL") or PG_DEFAULT
    base = base.replace("postgresql://", "postgresql+psycopg://", 1) if base.startswith("postgresql://") else base
    engine, n, fill_s = prepare(base, args.reuse, args.instances)
    try:
        with Session(engine) as session:  # warm the plan cache and the buffer pool once
            inbox(session, Actor.of("user0000", ["officer"], ["U00"]), InboxFilters())
        result = {"rows": n, "fill_s": round(fill_s, 1), **measure(engine, args.samples),
                  "target.inbox_p95_ms": 20}
    finally:
        engine.dispose()
        if not args.keep and not args.reuse:
            admin = make_engine(base)
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            admin.dispose()
    json.dump(result, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return result


if __name__ == "__main__":
    main()

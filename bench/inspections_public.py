"""The public entity page under load: ``python -m bench.inspections_public --json``.

What a citizen waits for after scanning an entity's door QR code (管理相对人公示二维码):
``GET /public/inspections/entities/<credit code>`` (name, credit grade, its disclosed inspection
results and penalty decisions, the QR code itself) answered by ``weijian serve --production``
(gunicorn with its default worker count) on a PostgreSQL database of its own
(``weijian_bench_insp_public``, created by Alembic like production, dropped afterwards unless
``--keep``).

The database holds ``--entities`` (100,000) directory entities with their profiles, four
published plans whose draws disclosed ``--results`` (40,000) inspection results (a few entities
inspected in every plan, most in none), and ``--decisions`` (10,000) decided penalty cases about
directory entities. Rows go in with bulk INSERTs; nothing here runs a process.

First one client alone (``public.alone.*``: a request's time without a queue), then ``--clients``
(20) threads at once, each with its own keep-alive connection, opening entity pages: 80 % of
entities with a record, 20 % without. Each request is timed by its client on loopback, from
sending it to reading the whole answer, so with 20 clients and fewer workers the time includes
the wait for a free worker. Keys: ``public.entity_p50_ms``, ``public.entity_p95_ms`` (target
≤ 50), ``public.entity_max_ms``, ``public.entity_per_s``, ``public.errors``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from bench.admin_instances import entity_name
from bench.complaints_http import Http, Server, _pct, server_env
from engine.dbconnect import make_engine
from migrations.runner import upgrade

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_DB = "weijian_bench_insp_public"
ENTITIES, RESULTS, DECISIONS = 100_000, 40_000, 10_000
PLANS = 4
CLIENTS, PER_CLIENT, ALONE = 20, 60, 150
TARGET_P95_MS = 50
BATCH = 5_000
CATEGORIES = ("medical", "public_place", "drinking_water", "school", "occupational", "radiation")
OUTCOMES = (("compliant", 0.7), ("correction", 0.22), ("violation", 0.06), ("not_found", 0.02))


def _database_url(base: str, database: str) -> str:
    head, _, _ = base.rpartition("/")
    return f"{head}/{database}"


def credit_code(n: int) -> str:
    return f"92610{n:013d}"


def _batches(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _pick(rng: random.Random, mix: tuple[tuple[str, float], ...]) -> str:
    roll = rng.random()
    for value, share in mix:
        if roll < share:
            return value
        roll -= share
    return mix[-1][0]


def fill(url: str, entities: int, results: int, decisions: int, seed: int = 5) -> list[str]:
    """The rows; returns the credit codes that have a public record."""
    from engine.models import ProcessDefinition, ProcessInstance
    from processes.directory.models import Entity
    from processes.directory.services import create_unit
    from processes.inspections.decision_models import DecisionDisclosure
    from processes.inspections.models import Draw, EntityProfile, Inspection, Plan
    from processes.penalty.models import PenaltyCase

    rng = random.Random(seed)
    engine = make_engine(url)
    now = datetime.now(UTC)
    recorded: set[str] = set()
    try:
        with Session(engine) as session:
            create_unit(session, "P1", "陕西省卫生健康委员会卫生监督所", "province", "610000", None, "陕")
            create_unit(session, "C1", "宝鸡市卫生健康委员会卫生监督所", "city", "610300", "P1", "宝")
            session.flush()
            for batch in _batches({"credit_code": credit_code(n), "name": entity_name(n),
                                   "category": CATEGORIES[n % len(CATEGORIES)], "address": f"宝鸡市某路{n % 997}号",
                                   "region_code": "610302", "legal_representative": None, "licence_numbers": [],
                                   "unit_id": "C1", "created_at": now} for n in range(entities)):
                session.execute(insert(Entity), batch)
            for batch in _batches({"credit_code": credit_code(n), "status": "active", "risk_level": "normal",
                                   "credit_grade": "ABCD"[n % 4] if n % 3 else None, "complaint_count": n % 5,
                                   "region_code": "610302", "updated_at": now} for n in range(entities)):
                session.execute(insert(EntityProfile), batch)
            per_plan = results // PLANS
            for p in range(PLANS):
                plan_id, draw_id = str(uuid.uuid4()), str(uuid.uuid4())
                start = date(2025, 1, 6) + timedelta(days=91 * p)
                session.add(Plan(id=plan_id, code=f"BENCH-{p}", title=f"{2025 + p // 4}年第{p % 4 + 1}季度双随机抽查",
                                 kind="quarterly", unit_id="C1", params={}, item_ids=[], window_start=start,
                                 window_end=start + timedelta(days=80), status="published", created_by="bench",
                                 published_at=now))
                session.flush()  # no relationship orders the plan before its draw
                session.add(Draw(id=draw_id, plan_id=plan_id, period="", seq=1, status="committed",
                                 algorithm="bench", params={}, snapshot=b"", entities_hash="0" * 64,
                                 matching_hash="0" * 64, snapshot_hash="0" * 64, seed_source="generated",
                                 commitment_hash="0" * 64, committed_by="bench"))
                session.flush()
                # Busy entities (low numbers) are drawn in most plans, as weights by risk make them.
                drawn = {min(entities - 1, int(rng.paretovariate(0.6)) - 1) for _ in range(per_plan // 3)}
                while len(drawn) < per_plan:
                    drawn.add(rng.randrange(entities))
                recorded.update(credit_code(n) for n in drawn)

                def rows(drawn: set[int] = drawn, start: date = start, plan_id: str = plan_id,
                         draw_id: str = draw_id) -> Iterator[dict[str, Any]]:
                    for n in sorted(drawn):
                        checked = start + timedelta(days=rng.randrange(60))
                        outcome = _pick(rng, OUTCOMES)
                        yield {"id": str(uuid.uuid4()), "draw_id": draw_id, "plan_id": plan_id,
                               "credit_code": credit_code(n), "entity_name": entity_name(n),
                               "category": CATEGORIES[n % len(CATEGORIES)], "inspectors": ["i1", "i2"],
                               "status": "done", "outcome": outcome, "checked_on": checked,
                               "correction_due": checked + timedelta(days=30) if outcome == "correction" else None,
                               "result_on": checked, "disclosure_due": checked + timedelta(days=28),
                               "disclosed_on": checked + timedelta(days=5), "disclosed_by": "bench", "findings": {}}

                for batch in _batches(rows()):
                    session.execute(insert(Inspection), batch)
            definition = ProcessDefinition(process_key="penalty_ordinary", name="bench", version=1,
                                           content_hash="0" * 64, sources={}, summary={}, deployed_by="bench")
            session.add(definition)
            session.flush()
            cases: list[tuple[dict[str, Any], dict[str, Any]]] = []
            for i in range(decisions):
                n = min(entities - 1, int(rng.paretovariate(0.8)) - 1) if i % 2 else rng.randrange(entities)
                recorded.add(credit_code(n))
                instance_id, decided = str(uuid.uuid4()), date(2024, 1, 2) + timedelta(days=rng.randrange(700))
                number = f"宝卫罚〔{decided.year}〕{i + 1}号"
                cases.append(({"id": instance_id, "definition_id": definition.id, "process_key": "penalty_ordinary",
                               "business_key": number, "unit_id": "C1", "entity_id": credit_code(n),
                               "entity_name": entity_name(n), "status": "completed", "state": b"",
                               "serializer_version": "3", "started_by": "bench", "started_at": now,
                               "updated_at": now, "completed_elements": [], "ready_task_ids": [], "timer_count": 0,
                               "subscription_count": 0, "audit_seq": 0, "audit_head": "", "row_version": 1},
                              {"id": str(uuid.uuid4()), "instance_id": instance_id, "procedure": "ordinary",
                               "unit_id": "C1", "unit_name": "宝鸡市卫生健康委员会卫生监督所", "unit_short_name": "宝",
                               "category": "medical", "status": "closed", "case_number": number,
                               "number_year": decided.year, "number_seq": i + 1, "entity_id": credit_code(n),
                               "entity_name": entity_name(n), "credit_code": credit_code(n),
                               "party_type": "organisation", "legal_basis": "《医疗机构管理条例》第二十四条",
                               "decided_on": decided,
                               "decided_penalty": {"text": f"警告，罚款{1000 * (1 + i % 20)}元"}}))
            for first in range(0, len(cases), BATCH):
                chunk = cases[first:first + BATCH]
                session.execute(insert(ProcessInstance), [c[0] for c in chunk])
                session.execute(insert(PenaltyCase), [c[1] for c in chunk])
                session.execute(insert(DecisionDisclosure), [  # each disclosed by its head (公示行政处罚决定)
                    {"case_id": c[1]["id"], "unit_id": "C1", "status": "disclosed",
                     "disclosed_on": c[1]["decided_on"] + timedelta(days=3), "disclosed_by": "bench",
                     "created_at": now} for c in chunk])
            session.commit()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    finally:
        engine.dispose()
    return sorted(recorded)


class Client(threading.Thread):
    def __init__(self, port: int, paths: list[str]) -> None:
        super().__init__(daemon=True)
        self.http, self.paths = Http(port), paths
        self.times: list[float] = []
        self.errors = 0

    def run(self) -> None:
        for path in self.paths:
            answer = self.http.get(path)
            if answer.status != 200 or b"</html>" not in answer.body:
                self.errors += 1
            self.times.append(answer.ms)
        self.http.close()


def _paths(rng: random.Random, recorded: list[str], entities: int, count: int) -> list[str]:
    def one() -> str:
        return rng.choice(recorded) if rng.random() < 0.8 else credit_code(rng.randrange(entities))

    return [f"/public/inspections/entities/{one()}" for _ in range(count)]


def _run(port: int, paths_per_client: list[list[str]]) -> tuple[list[float], int, float]:
    clients = [Client(port, paths) for paths in paths_per_client]
    started = time.perf_counter()
    for client in clients:
        client.start()
    for client in clients:
        client.join(600)
    elapsed = time.perf_counter() - started
    return [t for c in clients for t in c.times], sum(c.errors for c in clients), elapsed


def run(base: str, entities: int, results: int, decisions: int, clients: int, keep: bool) -> dict[str, Any]:
    url = _database_url(base, PG_DB)
    admin = make_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{PG_DB}"'))
    started = time.perf_counter()
    rng = random.Random(11)
    try:
        upgrade(url)
        recorded = fill(url, entities, results, decisions)
        fill_s = time.perf_counter() - started
        with tempfile.TemporaryDirectory(prefix="weijian-bench-public-") as work:
            from cryptography.fernet import Fernet

            keys = os.environ.get("WEIJIAN_COMPLAINT_KEYS") or Fernet.generate_key().decode()  # production needs one
            server = Server.start(server_env(url, Path(work) / "uploads", WEIJIAN_COMPLAINT_KEYS=keys), True,
                                  Path(work) / "server.log")
            try:
                _run(server.port, [_paths(rng, recorded, entities, 10) for _ in range(clients)])  # warm every worker
                alone, alone_errors, _ = _run(server.port, [_paths(rng, recorded, entities, ALONE)])
                many, errors, elapsed = _run(server.port, [_paths(rng, recorded, entities, PER_CLIENT)
                                                           for _ in range(clients)])
            finally:
                server.stop()
    finally:
        if not keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)'))
        admin.dispose()
    return {"public.entities": entities, "public.results": results, "public.decisions": decisions,
            "public.entities_with_record": len(recorded), "public.fill_s": round(fill_s, 1),
            "public.clients": clients, "public.requests": len(many),
            "public.entity_p50_ms": _pct(many, 0.5), "public.entity_p95_ms": _pct(many, 0.95),
            "public.entity_max_ms": round(max(many), 2), "public.entity_per_s": round(len(many) / elapsed, 1),
            "public.alone.entity_p50_ms": _pct(alone, 0.5), "public.alone.entity_p95_ms": _pct(alone, 0.95),
            "public.errors": errors + alone_errors, "machine.cpus": os.cpu_count(),
            "machine.load_after": round(os.getloadavg()[0], 2), "target.public_entity_p95_ms": TARGET_P95_MS}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object (the default)")
    parser.add_argument("--entities", type=int, default=ENTITIES)
    parser.add_argument("--results", type=int, default=RESULTS)
    parser.add_argument("--decisions", type=int, default=DECISIONS)
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--keep", action="store_true", help="do not drop the database afterwards")
    args = parser.parse_args(argv)
    base = os.environ.get("BENCH_POSTGRES_URL") or PG_DEFAULT
    result = run(base, args.entities, args.results, args.decisions, args.clients, args.keep)
    json.dump(result, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return result


if __name__ == "__main__":
    main()

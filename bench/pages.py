"""Staff page times: ``python -m bench.pages --json``.

Server-side and warm, as an officer or head waits for a page: the Flask app in this process,
its test client signed in, each page's wall time from request to full HTML (rendering
included, the network not), on a PostgreSQL database of its own (``weijian_bench_pages``,
created by Alembic like production, dropped afterwards unless ``--keep``).

The database holds 200,000 instances: real penalty cases run through the engine with the test
suite's default form data (``tests.penalty.driver``: several closed, the rest waiting at
different steps), plus filler rows added by COPY (``bench.admin_instances``'s generator: the
engine would take hours and the filler need not be runnable), 5 % of them in the measured
county unit and the rest spread over 49 other units of the same province. The pages:

* ``pages.inbox_p95_ms``: ``/inbox`` of a county officer (assigned, claimable, overdue tabs;
  sorts; a search), over about 3,000 open tasks of the unit;
* ``pages.task_p95_ms``: ``/tasks/<id>`` of a ready penalty task with the case context;
* ``pages.case_closed_p95_ms``: ``/cases/<id>`` of a closed penalty case (history, documents,
  diagram);
* ``pages.search_p95_ms``: ``/cases`` searched by a county head (10,000 cases) and by a
  province head (all 200,000): entity-name parts, case-number prefixes, status and overdue.

Target p95 ≤ 80 ms for each key.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import time
import urllib.parse
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from bench.admin_instances import KINDS, NAMES, PLACES, entity_name
from engine.dbconnect import make_engine
from migrations.runner import upgrade

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_DB = "weijian_bench_pages"
INSTANCES = 200_000
CLOSED_CASES, OPEN_CASES = 4, 8
OWN_SHARE = 0.05  # of the filler, in the measured county unit
TARGET_P95_MS = 80
PASSWORD = "bench-pages-password-1"  # noqa: S105 - a throwaway database's accounts
PROVINCE, COUNTY, OTHER_UNITS = "P1", "U1", 49
OPEN_STOPS = ("approve_filing", "investigate", "investigation_report", "record_opinion", "serve_prior_notice",
              "approve_decision", "serve_decision", "record_execution")
FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)
CSRF_RE = re.compile(r'name="csrf-token" content="([^"]+)"')


def _database_url(base: str, database: str) -> str:
    parts = urllib.parse.urlsplit(base)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, ""))


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


# -- the database ------------------------------------------------------------------------------

def _directory(session: Session) -> None:
    """The province, the measured county (the driver's unit ``U1``) and 49 more counties, and
    the staff who sign in: the driver's officers and head in U1, a province head."""
    from processes.directory.services import create_unit, create_user
    from tests.penalty.driver import NAMES as STAFF_NAMES
    from tests.penalty.driver import officer

    create_unit(session, PROVINCE, "陕西省卫生健康委员会卫生监督所", "province", "610000", None, "陕")
    create_unit(session, COUNTY, "上海市宝山区卫生健康委员会卫生监督所", "county", "610302", PROVINCE, "宝")
    for n in range(OTHER_UNITS):
        create_unit(session, f"B{n:02d}", f"第{n + 1}区卫生监督所", "county", f"61{n + 10:04d}", PROVINCE, None)
    for user_id, roles in (("officer1", ["officer"]), ("officer2", ["officer"]), ("officer3", ["officer"]),
                           ("officer4", ["officer"]), ("head1", ["head", "officer"])):
        create_user(session, user_id, STAFF_NAMES[user_id], COUNTY, roles, PASSWORD,
                    officer(user_id)["certificate_no"])
    create_user(session, "prov.head", "周省长", PROVINCE, ["head", "officer"], PASSWORD, "61000020100001")


def _run_cases(url: str) -> tuple[list[str], list[str]]:
    """Real penalty cases through the engine: (closed instance ids, open instance ids)."""
    from engine import deploy_directory
    from engine.actor import SYSTEM
    from tests.penalty import driver

    engine = make_engine(url)
    try:
        with Session(engine) as session:
            import signing

            deploy_directory(session, driver.Path(driver.__file__).resolve().parents[2] / "processes" / "penalty",
                             SYSTEM)
            signing.init_ca(session, ca_passphrase=driver.CA_PASSPHRASE, now=driver.PKI_TIME)
            issued = {u: signing.issue_certificate(session, u, driver.NAMES[u], driver.passphrase(u),
                                                   ca_passphrase=driver.CA_PASSPHRASE, now=driver.PKI_TIME,
                                                   validity=timedelta(days=900)) for u in driver.SIGNERS}
            _directory(session)
            session.commit()
            signers = {u: signing.ServerKeySigner(cert.pkcs12, driver.passphrase(u)) for u, cert in issued.items()}
        world = driver.PenaltyWorld(sessionmaker(engine, expire_on_commit=False), signers)
        world.set_day("2025-09-01")
        closed, open_ = [], []
        for _ in range(CLOSED_CASES):
            case_id = world.start()
            world.run_until(case_id, "approve_closing")
            world.submit(case_id, "approve_closing")
            closed.append(world.case(case_id).instance_id)
        for n in range(OPEN_CASES):
            case_id = world.start()
            world.run_until(case_id, OPEN_STOPS[n % len(OPEN_STOPS)])
            open_.append(world.case(case_id).instance_id)
        return closed, open_
    finally:
        engine.dispose()


TASK_COLUMNS = ("id, instance_id, process_key, task_name, title, lane, candidate_role, unit_id, assignee, "
                "business_key, entity_id, entity_name, status, created_at, due_at, due_sort, due_uncertain, suspended, "
                "completed_by, completed_at")
INSTANCE_COLUMNS = ("id, definition_id, process_key, business_key, unit_id, entity_id, entity_name, status, state, "
                    "serializer_version, started_by, started_at, updated_at, ended_at, completed_elements, "
                    "ready_task_ids, timer_count, subscription_count, audit_seq, audit_head, row_version")
STATUS_MIX = (("running", 0.35), ("completed", 0.6), ("cancelled", 0.05))
ACTIVITIES = ("investigate", "investigation_report", "legal_review", "approve_decision", "serve_decision",
              "record_execution", "closing_report", "approve_filing")


def _filler_rows(instances: int, definition_id: int, now: datetime, seed: int = 9) -> Any:
    """(instance row, its task rows), deterministic; open instances wait on one ready task."""
    rng = random.Random(seed)
    for i in range(instances):
        own = rng.random() < OWN_SHARE
        unit = COUNTY if own else f"B{i % OTHER_UNITS:02d}"
        roll, status = rng.random(), "running"
        for value, share in STATUS_MIX:
            if roll < share:
                status = value
                break
            roll -= share
        started = now - timedelta(days=rng.uniform(0, 730), seconds=i % 60)
        instance_id = _uuid(rng)
        key = f"宝卫罚〔{started.year}〕{i + 100}号"
        entity = f"91610{i % 9973:013d}"
        name = entity_name(i)
        tasks: list[tuple[Any, ...]] = []
        created = started + timedelta(days=1)
        tasks.append((_uuid(rng), instance_id, "penalty_ordinary", "register_lead", "登记案源", "officer",
                      "officer", unit, "bench", key, entity, name, "completed", started, None, FAR_FUTURE, False,
                      False, "bench", created))
        ready: list[str] = []
        if status == "running":
            due = now + timedelta(days=rng.uniform(-10, 30)) if rng.random() < 0.8 else None
            task_id = _uuid(rng)
            ready.append(task_id)
            activity = rng.choice(ACTIVITIES)
            assignee = ("officer1" if rng.random() < 0.3 else None) if own else None
            tasks.append((task_id, instance_id, "penalty_ordinary", activity, f"{activity}（待办）", "officer",
                          "officer", unit, assignee, key, entity, name, "ready", created, due, due or FAR_FUTURE,
                          False, False, None, None))
        ended = None if status == "running" else started + timedelta(days=rng.uniform(5, 90))
        instance = (instance_id, definition_id, "penalty_ordinary", key, unit, entity, name, status, b"", "3",
                    "bench", started, ended or started, ended, json.dumps([]), json.dumps(ready), 0, 0, 0, "", 1)
        yield instance, tasks


def _fill(url: str, instances: int, now: datetime) -> None:
    from engine.models import ProcessDefinition

    engine = make_engine(url)
    try:
        with Session(engine) as session:
            definition_id = session.scalar(select(ProcessDefinition.id)
                                           .where(ProcessDefinition.process_key == "penalty_ordinary"))
        assert definition_id is not None
        raw = engine.raw_connection()
        try:
            driver = raw.driver_connection
            assert driver is not None
            with driver.cursor() as cur:
                with cur.copy(f"COPY process_instance ({INSTANCE_COLUMNS}) FROM STDIN") as copy:
                    for instance, _tasks in _filler_rows(instances, definition_id, now):
                        copy.write_row(instance)
                with cur.copy(f"COPY human_task ({TASK_COLUMNS}) FROM STDIN") as copy:
                    for _instance, tasks in _filler_rows(instances, definition_id, now):
                        for task in tasks:
                            copy.write_row(task)
            driver.commit()
        finally:
            raw.close()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE process_instance, human_task"))
    finally:
        engine.dispose()


def prepare(base_url: str, instances: int) -> tuple[str, list[str], list[str], float]:
    url = _database_url(base_url, PG_DB)
    admin = make_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{PG_DB}"'))
    admin.dispose()
    started = time.perf_counter()
    upgrade(url)
    closed, open_ = _run_cases(url)
    _fill(url, max(0, instances - CLOSED_CASES - OPEN_CASES), datetime.now(UTC))
    return url, closed, open_, time.perf_counter() - started


def drop(base_url: str) -> None:
    admin = make_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)'))
    admin.dispose()


# -- the pages ---------------------------------------------------------------------------------

class Staff:
    """A signed-in test client (the login form with its CSRF token, like a browser)."""

    def __init__(self, app: Any, login: str) -> None:
        self.client = app.test_client()
        page = self.client.get("/login").get_data(as_text=True)
        token = CSRF_RE.search(page)
        assert token, "the login page has no CSRF token"
        answer = self.client.post("/login", data={"username": login, "password": PASSWORD,
                                                  "csrf_token": token.group(1)})
        assert answer.status_code in (302, 303), f"{login} could not sign in: {answer.status_code}"

    def get(self, url: str) -> float:
        started = time.perf_counter()
        answer = self.client.get(url)
        answer.get_data()
        elapsed = time.perf_counter() - started
        assert answer.status_code == 200, f"{url}: HTTP {answer.status_code}"
        return elapsed


def _ms(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)


def _task_ids(url: str, open_: list[str]) -> list[str]:
    from engine.models import HumanTask

    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return list(session.scalars(select(HumanTask.id).where(HumanTask.instance_id.in_(open_),
                                                                   HumanTask.status == "ready")))
    finally:
        engine.dispose()


def measure(url: str, closed: list[str], open_: list[str], samples: int, seed: int = 23) -> dict[str, Any]:
    from engine.settings import Settings
    from web.app import create_app
    from web.extensions import db

    rng = random.Random(seed)
    app = create_app(Settings(database_url=url, secret_key="bench-pages-secret"),  # noqa: S106
                     {"TESTING": False})
    try:
        officer, head, province = (Staff(app, login) for login in ("officer1", "head1", "prov.head"))
        tasks = _task_ids(url, open_)
        assert tasks, "no ready penalty task to open"
        words = [*NAMES, *(p + "市" for p in PLACES), *(n + k[:2] for n in NAMES[:5] for k in KINDS[:3])]

        def inbox() -> tuple[Staff, str]:
            tab = rng.choice(("assigned", "claimable", "claimable", "overdue"))
            params: dict[str, str] = {"tab": tab, "order": rng.choice(("due", "-created", "entity", "case"))}
            if rng.random() < 0.25:
                params["q"] = rng.choice(words)
            return officer, "/inbox?" + urllib.parse.urlencode(params)

        def task() -> tuple[Staff, str]:
            return rng.choice((officer, head)), f"/tasks/{rng.choice(tasks)}"

        def case_closed() -> tuple[Staff, str]:
            return head, f"/cases/{rng.choice(closed)}"

        def search() -> tuple[Staff, str]:
            who = rng.choice((head, province))
            roll = rng.random()
            if roll < 0.4:
                kind, params = "name", {"q": rng.choice(words)}
            elif roll < 0.6:
                kind, params = "number", {"q": f"宝卫罚〔{rng.choice((2025, 2026))}〕{rng.randrange(100, 999)}"}
            elif roll < 0.8:
                kind, params = "status", {"status": rng.choice(("running", "completed"))}
            else:
                kind, params = "overdue", {"overdue": "1"}
            detail.append(f"search.{'county' if who is head else 'province'}.{kind}")
            return who, "/cases?" + urllib.parse.urlencode(params)

        detail: list[str] = []  # the search's scope and kind, for the breakdown
        kinds = {"inbox": inbox, "task": task, "case_closed": case_closed, "search": search}
        for make in kinds.values():  # warm: templates, specs, plans, connections
            for _ in range(3):
                who, path = make()
                who.get(path)
        timings: dict[str, list[float]] = {name: [] for name in kinds}
        details: dict[str, list[float]] = {}
        detail.clear()
        for i in range(samples):
            name = list(kinds)[i % len(kinds)]
            who, path = kinds[name]()
            elapsed = who.get(path)
            timings[name].append(elapsed)
            if name == "search":
                details.setdefault(detail[-1], []).append(elapsed)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    result: dict[str, Any] = {}
    for name, values in timings.items():
        result[f"pages.{name}_p50_ms"] = _ms(values, 0.5)
        result[f"pages.{name}_p95_ms"] = _ms(values, 0.95)
    for name, values in sorted(details.items()):
        result[f"pages.{name}.p95_ms"] = _ms(values, 0.95)
    result["pages.samples"] = samples
    return result


def run_pages_bench(instances: int = INSTANCES, samples: int = 400, base_url: str | None = None,
                    keep: bool = False) -> dict[str, Any]:
    base = base_url or os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("TEST_POSTGRES_URL") or PG_DEFAULT
    base = base.replace("postgresql://", "postgresql+psycopg://", 1) if base.startswith("postgresql://") else base
    url, closed, open_, fill_s = prepare(base, instances)
    try:
        return {"pages.instances": instances, "pages.fill_s": round(fill_s, 1),
                **measure(url, closed, open_, samples), "target.pages_p95_ms": TARGET_P95_MS}
    finally:
        if not keep:
            drop(base)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object (the default)")
    parser.add_argument("--instances", type=int, default=INSTANCES, help="instances in all; smaller for a quick run")
    parser.add_argument("--samples", type=int, default=400)
    parser.add_argument("--keep", action="store_true", help="do not drop the database afterwards")
    args = parser.parse_args(argv)
    result = run_pages_bench(args.instances, args.samples, keep=args.keep)
    json.dump(result, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return result


if __name__ == "__main__":
    main()

"""A provincial user's inbox on PostgreSQL (per-unit index walks) equals the plain query's result.

The wide path exists only for speed; every tab, both sort directions and every page through
the keyset cursor must list exactly the tasks, in exactly the order, the single query lists.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from engine import Actor, inbox, inbox_counts, start
from engine import tasks as inbox_module
from engine.dbconnect import make_engine
from engine.models import HumanTask
from engine.tasks import InboxFilters
from processes.directory.services import create_unit, subtree_ids
from tests.engine_helpers import OFFICER, deploy_fixture

pytestmark = pytest.mark.postgres

UNITS = [f"W{n:02d}" for n in range(12)]
ROLES = ["officer", "head", "legal_reviewer"]
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _fill(session: Session) -> None:
    deploy_fixture(session, "lead")
    instance = start(session, "case_lead", OFFICER, {"source": "complaint"})
    rng = random.Random(5)
    for n in range(600):
        due = NOW + timedelta(hours=rng.randrange(-200, 400)) if n % 7 else None
        session.add(HumanTask(
            id=str(uuid.UUID(int=rng.getrandbits(128))), instance_id=instance.id, process_key="case_lead",
            task_name=f"t{n % 3}", title=f"T{n}", lane=None, candidate_role=rng.choice(ROLES),
            unit_id=rng.choice(UNITS),
            assignee=rng.choice([None, None, "prov.head", "someone"]), form_key=None, instructions=None,
            business_key=None, entity_id=None, entity_name=None,
            status=rng.choice(["ready", "ready", "ready", "completed"]), created_at=NOW, due_at=due,
            due_sort=due or datetime(9999, 12, 31, tzinfo=UTC), due_uncertain=False))
    session.commit()


def _all_pages(session: Session, actor: Actor, filters: InboxFilters) -> list[str]:
    seen: list[str] = []
    cursor = None
    while True:
        page = inbox(session, actor, filters, cursor=cursor, limit=7)
        seen += [t.id for t in page.tasks]
        if not page.next_cursor:
            return seen
        cursor = page.next_cursor


@pytest.mark.parametrize("head_rows", [1, 8, 1000], ids=["walks", "head-then-walks", "head"])
def test_wide_scope_pages_match_the_plain_query(pg_url: str, monkeypatch: pytest.MonkeyPatch,
                                                head_rows: int) -> None:
    """Whichever step answers (the head of everyone's claimable tasks, or the per-pair walks),
    every page equals the plain query's."""
    engine = make_engine(pg_url)
    factory = sessionmaker(engine, expire_on_commit=False)
    actor = Actor.of("prov.head", ["officer", "head"], UNITS)
    monkeypatch.setattr(inbox_module, "HEAD_ROWS_PER_PAGE_ROW", head_rows)
    try:
        with factory() as session:
            _fill(session)
            cases = [InboxFilters(scope=scope, descending=descending)
                     for scope in ("claimable", "all") for descending in (False, True)]
            cases.append(InboxFilters(scope="all", overdue_at=NOW))
            cases.append(InboxFilters(scope="all", due_before=NOW + timedelta(days=5), due_after=NOW))
            cases.append(InboxFilters(scope="claimable", task_name="t1"))
            cases.append(InboxFilters(scope="all", process_key="case_lead", descending=True))
            wide = [_all_pages(session, actor, f) for f in cases]
            monkeypatch.setattr(inbox_module, "WIDE_SCOPE_PAIRS", 10_000)  # the plain single query
            plain = [_all_pages(session, actor, f) for f in cases]
        assert all(wide) and wide == plain
    finally:
        engine.dispose()


def test_wide_scope_counts_match_the_plain_query(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(pg_url)
    factory = sessionmaker(engine, expire_on_commit=False)
    actor = Actor.of("prov.head", ["officer", "head"], UNITS)
    try:
        with factory() as session:
            _fill(session)
            wide = inbox_counts(session, actor, NOW)
            monkeypatch.setattr(inbox_module, "WIDE_SCOPE_PAIRS", 10_000)
            plain = inbox_counts(session, actor, NOW)
        assert wide["overdue"] > 0 and wide == plain
    finally:
        engine.dispose()


def test_a_provincial_user_sees_its_counties_tasks_and_not_another_provinces(pg_url: str) -> None:
    """Scope comes from the unit tree: 陕西's provincial head sees a 渭滨区 task (two levels
    down) through the wide path, and never one of 甘肃's county."""
    engine = make_engine(pg_url)
    factory = sessionmaker(engine, expire_on_commit=False)
    try:
        with factory() as session:
            deploy_fixture(session, "lead")
            instance = start(session, "case_lead", OFFICER, {"source": "complaint"})
            create_unit(session, "610000", "陕西省卫生监督所", "province", "610000", None, "陕")
            create_unit(session, "620000", "甘肃省卫生监督所", "province", "620000", None, "甘")
            session.flush()
            create_unit(session, "610300", "宝鸡市卫生监督所", "city", "610300", "610000", "宝")
            create_unit(session, "620100", "兰州市卫生监督所", "city", "620100", "620000", "兰")
            session.flush()
            for code, parent in (("610302", "610300"), ("610303", "610300"), ("610304", "610300"),
                                 ("620102", "620100")):
                create_unit(session, code, f"{code}所", "county", code, parent, code[-2:])
            session.flush()
            for n, unit in enumerate(("610302", "610302", "620102", "620102", "610300")):
                due = NOW + timedelta(days=n)
                session.add(HumanTask(
                    id=f"00000000-0000-4000-8000-{n:012d}", instance_id=instance.id, process_key="case_lead",
                    task_name="t", title=f"{unit}-{n}", lane=None, candidate_role="officer", unit_id=unit,
                    assignee=None, form_key=None, instructions=None, business_key=None, entity_id=None,
                    entity_name=None, status="ready", created_at=NOW, due_at=due, due_sort=due,
                    due_uncertain=False))
            session.commit()
            provincial = Actor.of("shaanxi.head", ["officer", "head"], subtree_ids(session, "610000"))
            assert inbox_module._is_wide(session, provincial, "claimable")
            titles = {t.title for t in inbox(session, provincial, InboxFilters(scope="claimable")).tasks}
            assert {"610302-0", "610302-1", "610300-4"} <= titles
            assert not any(t.startswith("620102") for t in titles)
            county = Actor.of("weibin.officer", ["officer"], subtree_ids(session, "610302"))
            assert {t.title for t in inbox(session, county, InboxFilters(scope="claimable")).tasks} == {
                "610302-0", "610302-1"}
    finally:
        engine.dispose()

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

from engine import Actor, inbox, start
from engine import tasks as inbox_module
from engine.dbconnect import make_engine
from engine.models import HumanTask
from engine.tasks import InboxFilters
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
            task_name="t", title=f"T{n}", lane=None, candidate_role=rng.choice(ROLES), unit_id=rng.choice(UNITS),
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


def test_wide_scope_pages_match_the_plain_query(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(pg_url)
    factory = sessionmaker(engine, expire_on_commit=False)
    actor = Actor.of("prov.head", ["officer", "head"], UNITS)
    try:
        with factory() as session:
            _fill(session)
            cases = [InboxFilters(scope=scope, descending=descending)
                     for scope in ("claimable", "all") for descending in (False, True)]
            cases.append(InboxFilters(scope="all", overdue_at=NOW))
            cases.append(InboxFilters(scope="all", due_before=NOW + timedelta(days=5), due_after=NOW))
            wide = [_all_pages(session, actor, f) for f in cases]
            monkeypatch.setattr(inbox_module, "WIDE_SCOPE_PAIRS", 10_000)  # the plain single query
            plain = [_all_pages(session, actor, f) for f in cases]
        assert all(wide) and wide == plain
    finally:
        engine.dispose()

"""The administrators' instance search finds the same cases on SQLite and PostgreSQL: each
filter, newest first, keyset pages without gaps or repeats, and a capped total."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import InvalidData, JobFailed, complete_task, record_failure, run_job, start, suspend
from engine.dbconnect import make_engine
from engine.instance_search import InstanceFilters, capped_count, conditions, search_instances
from engine.models import HumanTask, OutboxJob
from tests.engine_helpers import ADMIN, OFFICER, deploy_fixture
from tests.operators import FAIL

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def session(request: pytest.FixtureRequest) -> Iterator[Session]:
    url = request.getfixturevalue("db_url" if request.param == "sqlite" else "pg_url")
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as own:
        yield own
    engine.dispose()


def _cases(session: Session) -> dict[str, str]:
    """Six lead cases an hour apart (business key -> id), one suspended, one moved on to approval,
    and a service case whose job became an incident."""
    deploy_fixture(session, "lead")
    deploy_fixture(session, "service")
    ids = {}
    cases = [("WB-2026-001", "康宁诊所", "U1"), ("WB-2026-002", "仁和口腔门诊部", "U1"),
             ("JT-2026-003", "第二自来水公司", "U2"), ("wb-2025-004", "康宁大药房", "U2"),
             ("JT-2026-005", "百草堂", "U1"), ("WB-2026-006", "50%折扣店", "U1")]
    for n, (key, entity, unit) in enumerate(cases):
        row = start(session, "case_lead", ADMIN, {"amount": 20000}, key, unit_id=unit, entity_id=f"E{n}",
                    entity_name=entity, now=T0 + timedelta(hours=n))
        ids[key] = row.id
    session.commit()
    suspend(session, ADMIN, ids["JT-2026-003"], "暂停")
    [task] = session.scalars(select(HumanTask).where(HumanTask.instance_id == ids["JT-2026-005"])).all()
    complete_task(session, task.id, OFFICER, {}, now=T0 + timedelta(days=1))
    session.commit()
    FAIL["on"] = True
    try:
        service = start(session, "with_service", ADMIN, {"name": "王五"}, "FW-2026-007", unit_id="U1",
                        now=T0 + timedelta(hours=7))
        session.commit()
        job = session.scalars(select(OutboxJob).where(OutboxJob.instance_id == service.id)).one()
        for _ in range(job.max_attempts):
            with pytest.raises(JobFailed):
                run_job(session, job.id)
            session.rollback()
            record_failure(session, job.id, "down")
            session.commit()
    finally:
        FAIL["on"] = False
    ids["FW-2026-007"] = service.id
    return ids


def _keys(session: Session, ids: dict[str, str], **filters: object) -> list[str]:
    by_id = {v: k for k, v in ids.items()}
    page = search_instances(session, InstanceFilters(**filters))  # type: ignore[arg-type]
    assert page.total == len(page.rows) and not page.total_capped
    return [by_id[r.instance.id] for r in page.rows]


def test_each_filter_finds_its_cases_newest_first(session: Session) -> None:
    ids = _cases(session)
    assert _keys(session, ids) == ["FW-2026-007", "WB-2026-006", "JT-2026-005", "wb-2025-004", "JT-2026-003",
                                   "WB-2026-002", "WB-2026-001"]
    assert _keys(session, ids, business_key="wb-2026") == ["WB-2026-006", "WB-2026-002", "WB-2026-001"]
    assert _keys(session, ids, business_key="WB-") == ["WB-2026-006", "wb-2025-004", "WB-2026-002", "WB-2026-001"]
    assert _keys(session, ids, business_key="%") == []  # a wildcard typed is a character, not "anything"
    assert _keys(session, ids, entity_name="康宁") == ["wb-2025-004", "WB-2026-001"]
    assert _keys(session, ids, entity_name="50%") == ["WB-2026-006"]
    assert _keys(session, ids, entity_id="E1") == ["WB-2026-002"]
    assert _keys(session, ids, unit_id="U2") == ["wb-2025-004", "JT-2026-003"]
    assert _keys(session, ids, status="suspended") == ["JT-2026-003"]
    assert _keys(session, ids, process_key="with_service") == ["FW-2026-007"]
    assert _keys(session, ids, activity="approve") == ["JT-2026-005"]
    assert _keys(session, ids, activity="register", unit_id="U1") == ["WB-2026-006", "WB-2026-002", "WB-2026-001"]
    assert _keys(session, ids, started_from=T0 + timedelta(hours=4), started_to=T0 + timedelta(hours=5)) \
        == ["JT-2026-005"]
    assert _keys(session, ids, has_incident=True) == ["FW-2026-007"]
    assert "FW-2026-007" not in _keys(session, ids, has_incident=False)
    # register is due in five working days; approve has no due date
    assert "JT-2026-005" not in _keys(session, ids, due_before=T0 + timedelta(days=60))
    assert _keys(session, ids, due_before=T0) == []


def test_pages_follow_each_other_without_gaps_or_repeats(session: Session) -> None:
    ids = _cases(session)
    seen: list[str] = []
    cursor = None
    while True:
        page = search_instances(session, InstanceFilters(), cursor, per_page=3)
        assert page.total == 7
        seen += [r.instance.id for r in page.rows]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [r.instance.id for r in search_instances(session, InstanceFilters(), per_page=50).rows]
    assert len(set(seen)) == len(ids)
    assert capped_count(session, conditions(session, InstanceFilters()), cap=4) == (4, True)
    first = search_instances(session, InstanceFilters(has_incident=True)).rows[0]
    assert first.incident and first.activities == []
    [row] = search_instances(session, InstanceFilters(business_key="WB-2026-001")).rows
    assert row.activities == ["register"] and row.due_at is not None and not row.incident


@pytest.mark.parametrize("filters", [InstanceFilters(status="sleeping"),
                                     InstanceFilters(started_from=datetime(2026, 1, 1)),  # no time zone
                                     InstanceFilters(business_key="x" * 201)])
def test_filters_that_cannot_be_meant_are_refused(session: Session, filters: InstanceFilters) -> None:
    with pytest.raises(InvalidData):
        search_instances(session, filters)


def test_a_forged_cursor_is_refused(session: Session) -> None:
    with pytest.raises(InvalidData, match="cursor"):
        search_instances(session, InstanceFilters(), "not-a-cursor")

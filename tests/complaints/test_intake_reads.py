"""What intake reads to check a new complaint against earlier ones (``bench.complaints`` measured it).

The refusal of facts already finally reviewed (复核) reads only the reviewed complaints of the
target through the partial index ``ix_complaint_final_target``, never every complaint ever filed
about a busy target; the duplicate check reads three columns of the window, not whole rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text, update
from sqlalchemy.orm import Session

from engine.dbconnect import make_engine
from processes.complaints import intake
from processes.complaints.models import Complaint
from processes.complaints.rule_store import effective_rules
from tests.complaints.driver import ComplaintWorld, at

TARGET = "宝鸡渭滨康宁诊所"
FACTS = "宝鸡渭滨康宁诊所无证行医，使用过期药品。"


@contextmanager
def statements(session: Session) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        seen.append((statement, parameters))

    bind = session.get_bind()
    event.listen(bind, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(bind, "before_cursor_execute", record)


def _reviewed_and_others(world: ComplaintWorld) -> str:
    """Four complaints about one target, the first finally reviewed; returns its number."""
    other = "游泳池水质浑浊，第{}号池没有救生员。"
    numbers = [world.file_public(f"c{n}", facts=FACTS if n == 0 else other.format(n), target=TARGET) for n in range(4)]
    with world.factory() as session:
        session.execute(update(Complaint).where(Complaint.tracking_no == numbers[0]).values(review_level=2))
        session.commit()
    return numbers[0]


def test_the_final_review_check_reads_only_reviewed_complaints_through_its_index(world: ComplaintWorld) -> None:
    reviewed = _reviewed_and_others(world)
    with world.factory() as session:
        rules = effective_rules(session)
        key = intake.normalise_target(TARGET)
        with statements(session) as seen:
            found = intake.finally_reviewed(session, rules, key, FACTS)
            missed = intake.finally_reviewed(session, rules, key, "完全不同的事情：游泳池没有救生员。")
        assert found is not None and found.tracking_no == reviewed and missed is None
        sql, params = next((s, p) for s, p in seen if "review_level" in s)
        assert "review_level >= 2" in sql  # a literal: the planner can match the index's predicate
        plan = " ".join(str(row) for row in session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params))
        assert "ix_complaint_final_target" in plan, plan


def test_duplicates_are_flagged_from_three_columns_of_the_window(world: ComplaintWorld) -> None:
    first = world.file_public("c1", facts=FACTS, target=TARGET)
    with world.factory() as session, statements(session) as seen:
        found = intake.duplicates(session, effective_rules(session), intake.normalise_target(TARGET), FACTS,
                                  world.today)
    assert [c.tracking_no for c in found] == [first]
    [sql] = [s for s, _p in seen if "received_on" in s]
    assert "complaint.rules" not in sql and "complaint.facts" in sql
    world.set_day("2025-12-15")  # past the 90-day window: no longer a candidate
    second = world.file_public("c2", facts=FACTS, target=TARGET)
    assert world.complaint("c2").duplicate_of == [] and second != first
    world.set_day("2025-12-16")
    world.file_public("c3", facts=FACTS, target=TARGET)
    assert world.complaint("c3").duplicate_of == [second]


@pytest.mark.postgres
def test_postgres_uses_the_partial_index_for_the_final_review_check(pg_url: str) -> None:
    from engine import deploy_directory
    from engine.actor import SYSTEM
    from processes.complaints import submit_public

    engine = make_engine(pg_url)
    try:
        with Session(engine) as session:
            deploy_directory(session, Path(intake.__file__).parent, SYSTEM)
            for n in range(3):
                submit_public(session, unit_id="610300", facts=f"{FACTS}{n}", target_name=TARGET, now=at("2025-09-01"))
            session.execute(update(Complaint).values(review_level=2).where(Complaint.facts == f"{FACTS}0"))
            session.commit()
        with Session(engine) as session:
            session.execute(text("SET LOCAL enable_seqscan = off"))  # three rows: make the planner show its choice
            with statements(session) as seen:
                found = intake.finally_reviewed(session, effective_rules(session), intake.normalise_target(TARGET),
                                                FACTS)
            assert found is not None
            sql, params = next((s, p) for s, p in seen if "review_level" in s)
            plan = " ".join(r[0] for r in session.connection().exec_driver_sql(f"EXPLAIN {sql}", params))
            assert "ix_complaint_final_target" in plan, plan
    finally:
        engine.dispose()

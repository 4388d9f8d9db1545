"""The risk ledger takes note of other processes: a complaint that found a violation opens a 常态
entry, a penalty decision a 高风险 one (levels from rules.toml), once per source, only for
entities in the directory; the entity's level, which weights the next draw, follows."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from processes.inspections.models import EntityProfile, RiskEntry
from processes.registry import EntityEvent, entity_event
from tests.inspections.driver import InspectionWorld, code


def _entries(world: InspectionWorld, credit_code: str) -> list[tuple[str, str, str | None]]:
    with world.factory() as session:
        return [(r.source, r.level, r.source_ref) for r in session.scalars(
            select(RiskEntry).where(RiskEntry.credit_code == credit_code).order_by(RiskEntry.id))]


def _level(world: InspectionWorld, credit_code: str) -> str:
    with world.factory() as session:
        profile = session.get(EntityProfile, credit_code)
        return profile.risk_level if profile else "normal"


def test_complaints_and_penalties_open_ledger_entries_once(world: InspectionWorld) -> None:
    (entity,) = world.add_entities(1)
    with world.factory() as session:
        complaint = EntityEvent("complaint_violation", entity, "TS20260001", "投诉举报核查发现违法行为",
                                date(2026, 3, 2))
        entity_event(session, complaint)
        entity_event(session, complaint)  # a retried job
        session.commit()
    assert _entries(world, entity) == [("complaint", "normal", "TS20260001")]
    assert _level(world, entity) == "normal"
    with world.factory() as session:
        decided = EntityEvent("penalty_decided", entity, "penalty:7", "作出行政处罚决定", date(2026, 4, 1))
        entity_event(session, decided)
        entity_event(session, decided)  # the execution state is computed again
        session.commit()
    assert _entries(world, entity) == [("complaint", "normal", "TS20260001"), ("penalty", "high", "penalty:7")]
    assert _level(world, entity) == "high"


def test_entities_outside_the_directory_and_other_kinds_are_ignored(world: InspectionWorld) -> None:
    with world.factory() as session:
        entity_event(session, EntityEvent("complaint_violation", code(999), "TS1", "x", date(2026, 3, 2)))
        entity_event(session, EntityEvent("something_else", code(999), "TS2", "x", date(2026, 3, 2)))
        session.commit()
        assert session.scalar(select(RiskEntry.id)) is None

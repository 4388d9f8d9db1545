"""One whole inspection: plan approved through its process, drawn, declared, inspected, corrected late,
re-inspected, failed, penalty lead opened and linked both ways; the draw re-verifies."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from engine import SYSTEM, instance_data
from engine.models import ProcessInstance
from processes.inspections import verify_draw
from processes.inspections.models import Draw, Inspection, Plan
from processes.inspections.plans import submit_plan
from processes.penalty.models import PenaltyCase
from tests.inspections.driver import HEAD, PLANNER, InspectionWorld


def test_plan_to_penalty_lead(world: InspectionWorld) -> None:
    world.add_entities(40)
    world.add_inspectors(["officer2", "officer3", "officer4", "officer5"])
    plan_id = world.plan(publish=False)
    with world.factory() as session:
        plan = submit_plan(session, PLANNER, plan_id, now=world.now)
        session.commit()
        instance_id = plan.instance_id
    assert instance_id
    world.submit(instance_id, "approve_plan", {"approved": False, "opinion": "比例偏低"}, actor=HEAD)
    world.submit(instance_id, "revise_plan", {"changes": "提高比例"})
    world.submit(instance_id, "approve_plan", {"approved": True}, actor=HEAD)
    with world.factory() as session:
        published = session.get(Plan, plan_id)
        assert published is not None and published.status == "published" and published.approved_by == "head1"
        draw = session.scalar(select(Draw).where(Draw.plan_id == plan_id))
        assert draw is not None and draw.status == "drawn"
        assert session.get(ProcessInstance, instance_id).status == "completed"  # type: ignore[union-attr]
        draw_id = draw.id
    rows = world.inspections(draw_id)
    assert len(rows) == 2  # ceil(5% of 40)
    row = rows[0]
    assert row.instance_id and len(row.inspectors) == 2
    assert sorted(t.assignee or "" for t in world.ready(row.instance_id, "declare")) == sorted(row.inspectors)
    world.declare_all(row.instance_id)
    world.onsite(row.instance_id, "correction", correction_due="2025-09-15", nonconforming="")
    world.submit(row.instance_id, "review", {"approved": True}, actor=HEAD)
    world.set_day("2025-09-16", 9)
    world.fire()
    world.set_day("2025-09-18", 9)  # the re-inspection is recorded two days after it took place
    world.submit(row.instance_id, "reinspect", {"reinspected_on": "2025-09-16", "corrected": False,
                                                 "findings": "仍未改正"})
    with world.factory() as session:
        done = session.get(Inspection, row.id)
        assert done is not None and done.status == "done" and done.penalty_case_id
        case = session.get(PenaltyCase, done.penalty_case_id)
        assert case is not None and case.source == "random_inspection"
        assert case.discovered_on == date(2025, 9, 16)  # the filing period counts from the re-inspection
        prefill = instance_data(session, case.instance_id, SYSTEM)["prefill"]
        assert prefill["inspection_id"] == row.id and prefill["source"] == "random_inspection"
    assert verify_draw_ok(world, draw_id)


def verify_draw_ok(world: InspectionWorld, draw_id: str) -> bool:
    with world.factory() as session:
        report = verify_draw(session, draw_id)
    assert report.identical, report.problems
    return True

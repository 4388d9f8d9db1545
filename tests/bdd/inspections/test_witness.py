"""见证人计划的重新抽取: steps for witness.feature (the re-draw's witness task, and no witnessed
recurring plan)."""

from __future__ import annotations

from typing import Any

from pytest_bdd import parsers, scenarios, then, when
from sqlalchemy import func, select

from engine import Actor
from engine.models import HumanTask, ProcessInstance
from processes.directory.services import DirectoryError
from processes.inspections import redraw, verify_draw
from processes.inspections.draw_witness import WITNESS_PROCESS
from processes.inspections.models import Draw, DrawSigning, Plan, Schedule
from processes.inspections.scheduling import create_schedule
from processes.inspections.service import start_inspections
from tests.inspections.driver import HEAD, PLANNER, UNIT, WITNESS, InspectionWorld

scenarios("witness.feature")


def _witness_instances(world: InspectionWorld, status: str | None = None) -> list[ProcessInstance]:
    with world.factory() as session:
        query = select(ProcessInstance).where(ProcessInstance.process_key == WITNESS_PROCESS)
        if status:
            query = query.where(ProcessInstance.status == status)
        rows = list(session.scalars(query.order_by(ProcessInstance.started_at, ProcessInstance.business_key)))
        for row in rows:
            session.expunge(row)
        return rows


@when(parsers.parse('按需要见证人的计划抽取，见证人录入公开随机数"{value}"'))
def first_draw(world: InspectionWorld, ctx: dict[str, Any], value: str) -> None:
    plan_id = world.plan(seed_source="witnessed", witness_id=WITNESS.user_id)
    draw_id = world.draw(plan_id)
    with world.factory() as session:
        draw = session.get(Draw, draw_id)
        assert draw is not None
        from processes.inspections import draw as draws

        draws.perform_draw(session, WITNESS, draw, public_value=value, now=world.now)
        start_inspections(session, draw, now=world.now)
        session.commit()
    ctx["draws"].append(draw_id)
    ctx["plan"] = plan_id


@when(parsers.parse('负责人以"{reason}"为由重新抽取'))
def head_redraws(world: InspectionWorld, ctx: dict[str, Any], reason: str) -> None:
    with world.factory() as session:
        new = redraw(session, HEAD, ctx["draws"][-1], reason, now=world.now)
        session.commit()
        ctx["draws"].append(new.id)
    world.drain()


@then("新的抽取只有承诺，等待见证人录入")
def waits(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    draw = world.draw_row(ctx["draws"][-1])
    assert draw.status == "committed" and draw.seed_source == "witnessed"
    assert draw.seed is None and draw.result is None and len(draw.commitment_hash) == 64
    assert world.inspections(draw.id) == []


@then(parsers.parse('"{user}"有一项"{title}"任务'))
def has_task(world: InspectionWorld, user: str, title: str) -> None:
    running = _witness_instances(world, "running")
    assert len(running) == 1, [i.business_key for i in running]
    tasks = world.ready(running[0].id, "witness_seed")
    assert [(t.assignee, t.title) for t in tasks] == [(user, title)]


def _enter(world: InspectionWorld, actor: Actor, value: str) -> bool:
    (instance,) = _witness_instances(world, "running")
    return world.try_submit(instance.id, "witness_seed", {"public_value": value, "source": "福利彩票双色球第2025101期"},
                            actor=actor)


@when(parsers.parse('"{user}"试图在该任务中录入公开随机数'))
def wrong_person(world: InspectionWorld, user: str) -> None:
    assert not _enter(world, Actor.of(user, ["officer"], [UNIT]), "1 2 3")


@when(parsers.parse('见证人在任务中录入公开随机数"{value}"'))
def witness_enters(world: InspectionWorld, ctx: dict[str, Any], value: str) -> None:
    assert _enter(world, WITNESS, value), world.errors[-1:]
    ctx["value"] = value


@then("新的抽取已完成，种子为见证人录入的公开随机数，复核一致")
def drawn(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    draw = world.draw_row(ctx["draws"][-1])
    assert draw.status == "drawn" and draw.seed == ctx["value"] and draw.result is not None
    assert not _witness_instances(world, "running")
    with world.factory() as session:
        report = verify_draw(session, draw.id)
    assert report.identical, report.problems


@then("新抽取的每家单位都已派发检查任务")
def inspections_started(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    draw = world.draw_row(ctx["draws"][-1])
    rows = world.inspections(draw.id)
    assert draw.result is not None and len(rows) == len(draw.result["entities"]) > 0
    assert all(r.status == "assigned" and r.instance_id for r in rows)
    for row in rows:
        assert row.instance_id is not None
        assert {t.assignee for t in world.ready(row.instance_id, "declare")} == set(row.inspectors)


@then("新抽取的抽取记录签名任务已生成")
def signing_started(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    with world.factory() as session:
        signing = session.get(DrawSigning, ctx["draws"][-1])
        assert signing is not None
        signers = {t.assignee for t in session.scalars(select(HumanTask).where(
            HumanTask.instance_id == signing.instance_id, HumanTask.status == "ready"))}
    assert signers == {PLANNER.user_id, WITNESS.user_id}


@then(parsers.parse('原抽取已被取代，保留理由"{reason}"，原检查任务已撤销'))
def old_superseded(world: InspectionWorld, ctx: dict[str, Any], reason: str) -> None:
    old, new = world.draw_row(ctx["draws"][-2]), world.draw_row(ctx["draws"][-1])
    assert old.status == "superseded" and new.supersedes_id == old.id and new.reason == reason
    rows = world.inspections(old.id)
    assert rows and all(r.status == "cancelled" for r in rows)


@then("原抽取复核仍然一致")
def old_verifies(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    with world.factory() as session:
        report = verify_draw(session, ctx["draws"][-2])
    assert report.identical, report.problems


@then("第一次重新抽取的见证任务已撤销")
def first_witness_cancelled(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    statuses = [i.status for i in _witness_instances(world)]
    assert sorted(statuses) == ["cancelled", "running"], statuses
    assert world.draw_row(ctx["draws"][-2]).status == "superseded"


@when(parsers.parse('把需要见证人的计划设为"{spec}"周期计划'))
def witnessed_schedule(world: InspectionWorld, ctx: dict[str, Any], spec: str) -> None:
    plan_id = world.plan(seed_source="witnessed", witness_id=WITNESS.user_id, publish=False)
    with world.factory() as session:
        try:
            create_schedule(session, PLANNER, name="季度抽查", template_plan_id=plan_id, recurrence_spec=spec)
            session.commit()
        except DirectoryError as exc:
            session.rollback()
            world.errors.append(exc)
    ctx["plan"] = plan_id


@then("没有建立周期计划")
def no_schedule(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    with world.factory() as session:
        assert session.scalar(select(func.count()).select_from(Schedule)) == 0
        plan = session.get(Plan, ctx["plan"])
        assert plan is not None and plan.schedule_id is None

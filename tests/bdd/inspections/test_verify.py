"""抽取可复核: steps for verify.feature."""

from __future__ import annotations

from typing import Any

from pytest_bdd import parsers, scenarios, then, when

from engine.models import ProcessInstance
from processes.directory.services import DirectoryError
from processes.inspections import draw as draws
from processes.inspections import redraw
from processes.inspections.models import Draw, Inspection, Plan
from processes.inspections.service import start_inspections
from tests.inspections.driver import HEAD, WITNESS, InspectionWorld

scenarios("verify.feature")


@when("按需要见证人的计划锁定快照")
def commit_only(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    plan_id = world.plan(seed_source="witnessed", witness_id=WITNESS.user_id)
    ctx["draws"].append(world.draw(plan_id))


@then("抽取记录只有快照哈希，没有种子和结果")
def committed_only(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    draw = world.draw_row(ctx["draws"][-1])
    assert draw.status == "committed" and len(draw.snapshot_hash) == 64 and len(draw.commitment_hash) == 64
    assert draw.seed is None and draw.seed_hash is None and draw.result is None


def _reveal(world: InspectionWorld, ctx: dict[str, Any], actor: Any, value: str) -> None:
    with world.factory() as session:
        draw = session.get(Draw, ctx["draws"][-1])
        assert draw is not None
        try:
            draws.perform_draw(session, actor, draw, public_value=value, now=world.now)
            start_inspections(session, draw, now=world.now)
            session.commit()
        except DirectoryError as exc:
            world.errors.append(exc)


@when(parsers.parse('"{user}"试图录入公开随机数'))
def wrong_witness(world: InspectionWorld, ctx: dict[str, Any], user: str) -> None:
    from engine import Actor

    _reveal(world, ctx, Actor.of(user, ["officer"], ["U1"]), "1 2 3")


@when(parsers.parse('见证人录入公开随机数"{value}"'))
def witness_reveals(world: InspectionWorld, ctx: dict[str, Any], value: str) -> None:
    _reveal(world, ctx, WITNESS, value)
    assert world.draw_row(ctx["draws"][-1]).status == "drawn"


@when(parsers.parse('以"{reason}"为由重新抽取'))
def do_redraw(world: InspectionWorld, ctx: dict[str, Any], reason: str) -> None:
    with world.factory() as session:
        new = redraw(session, HEAD, ctx["draws"][-1], reason, now=world.now)
        session.commit()
        ctx["draws"].append(new.id)


@then("原抽取记录标记为已被取代并保留理由")
def old_kept(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    old, new = world.draw_row(ctx["draws"][-2]), world.draw_row(ctx["draws"][-1])
    assert old.status == "superseded" and old.result is not None
    assert new.supersedes_id == old.id and new.reason == "名录库导入错误" and new.seq == old.seq + 1
    with world.factory() as session:
        plan = session.get(Plan, old.plan_id)
        assert plan is not None


@then("原抽取的检查任务已撤销")
def old_cancelled(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    rows = world.inspections(ctx["draws"][-2])
    assert rows and all(r.status == "cancelled" for r in rows)
    with world.factory() as session:
        statuses = {session.get(ProcessInstance, r.instance_id).status for r in rows}  # type: ignore[union-attr]
        assert statuses == {"cancelled"}, statuses
        assert all(isinstance(r, Inspection) for r in rows)

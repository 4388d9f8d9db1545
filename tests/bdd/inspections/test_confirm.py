"""检查人员确认现场检查记录: steps for confirm.feature (the second officer's own confirmation).

The refusals are ``service.submit_task``'s: the schema's (a dispute needs its reason) and the one
that needs the case (only the pair's other inspector, never the lead or someone not drawn).
"""

from __future__ import annotations

from typing import Any

from pytest_bdd import given, parsers, scenarios, then, when

from engine import Actor
from engine.errors import PermissionDenied
from engine.tasks import assign
from processes.inspections.models import Inspection
from tests.inspections.driver import HEAD, UNIT, InspectionWorld

scenarios("confirm.feature")


def _row(world: InspectionWorld, ctx: dict[str, Any]) -> Inspection:
    with world.factory() as session:
        row = session.get(Inspection, ctx["row"])
        assert row is not None
        session.expunge(row)
        return row


@given("已抽取一家单位及其两名检查人员")
def drawn(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    draw_id = world.draw(world.plan({"public_place": {"count": 1}}))
    row = world.inspections(draw_id)[0]
    assert row.instance_id and len(row.inspectors) == 2
    ctx["row"], ctx["instance"] = row.id, row.instance_id
    ctx["lead"], ctx["co"] = row.inspectors


@given("两名检查人员声明无利益冲突，主检人员提交了现场检查记录")
def recorded(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    world.declare_all(ctx["instance"])
    world.onsite(ctx["instance"], confirm=False)


@given("另一名检查人员声明有利害关系并被替换，替换抽中的检查人员声明无利益冲突")
def replaced(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    world.declare_all(ctx["instance"], {ctx["co"]: "检查对象的负责人是我的表兄"})
    row = _row(world, ctx)
    assert row.inspectors[0] == ctx["lead"] and row.inspectors[1] != ctx["co"], row.inspectors
    ctx["replacement"] = row.inspectors[1]
    world.declare_all(ctx["instance"])


@when("主检人员提交现场检查记录")
@when("主检人员修改后再次提交现场检查记录")
def record_again(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    assert [t.assignee for t in world.ready(ctx["instance"], "onsite")] == [ctx["lead"]]
    world.onsite(ctx["instance"], confirm=False, findings="补记：消毒间未按规定消毒")


def _try_confirm(world: InspectionWorld, ctx: dict[str, Any], confirmed: bool = True, reason: str = "",
                 actor: Actor | None = None) -> None:
    try:
        world.confirm(ctx["instance"], confirmed, reason, actor=actor)
    except Exception as exc:
        world.errors.append(exc)


@when("另一名检查人员确认现场检查记录")
@when("替换抽中的检查人员确认现场检查记录")
def confirm(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    world.confirm(ctx["instance"])


@when(parsers.parse('另一名检查人员提出异议"{reason}"'))
def dispute(world: InspectionWorld, ctx: dict[str, Any], reason: str) -> None:
    _try_confirm(world, ctx, False, reason)


@when("另一名检查人员提出异议而不写理由")
def dispute_without_reason(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    _try_confirm(world, ctx, False)


@when(parsers.parse('未抽中本次检查的"{user}"确认现场检查记录'))
def stranger(world: InspectionWorld, ctx: dict[str, Any], user: str) -> None:
    assert user not in _row(world, ctx).inspectors
    _try_confirm(world, ctx, actor=Actor.of(user, ["officer"], [UNIT]))


@when("主检人员确认自己的现场检查记录")
def lead_confirms(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    _try_confirm(world, ctx, actor=Actor.of(ctx["lead"], ["officer"], [UNIT]))


@then("确认任务派给另一名检查人员本人，不能转派")
def assigned_personally(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    tasks = world.ready(ctx["instance"], "confirm_onsite")
    assert [t.assignee for t in tasks] == [ctx["co"]]
    with world.factory() as session:  # a head cannot hand someone's confirmation to another officer
        try:
            assign(session, tasks[0].id, HEAD, "officer8", "另行安排", now=world.now)
        except PermissionDenied:
            session.rollback()
        else:
            raise AssertionError("the confirmation was reassigned")


@then("确认任务派给替换抽中的检查人员")
def assigned_to_replacement(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    assert [t.assignee for t in world.ready(ctx["instance"], "confirm_onsite")] == [ctx["replacement"]]


@then("确认任务仍待另一名检查人员处理")
def still_waiting(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    assert [t.assignee for t in world.ready(ctx["instance"], "confirm_onsite")] == [ctx["co"]]
    assert "onsite_confirmation" not in _row(world, ctx).findings


@then("负责人审核尚未开始")
def no_review(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    assert not world.ready(ctx["instance"], "review")


@then("负责人审核开始")
def review_started(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    assert not world.errors, world.errors
    assert world.ready(ctx["instance"], "review")
    assert not world.ready(ctx["instance"], "confirm_onsite")


@then("检查记录载明另一名检查人员的确认和确认时间")
def confirmation_kept(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    kept = _row(world, ctx).findings["onsite_confirmation"]
    assert kept["by"] == ctx["co"] and kept["confirmed"] is True
    assert kept["at"].startswith(world.now.isoformat()[:16]), (kept["at"], world.now)


@then("现场检查任务退回主检人员")
def back_to_lead(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    assert not world.errors, world.errors
    assert [t.assignee for t in world.ready(ctx["instance"], "onsite")] == [ctx["lead"]]
    row = _row(world, ctx)
    assert row.findings["onsite_confirmations"][-1]["reason"] == "检查情况漏记了消毒间的问题"


@then("检查记录没有确认")
def not_confirmed(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    assert "onsite_confirmation" not in _row(world, ctx).findings

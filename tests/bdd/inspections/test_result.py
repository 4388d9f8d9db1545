"""检查与处理: steps for result.feature."""

from __future__ import annotations

from typing import Any

from pytest_bdd import given, parsers, scenarios, then, when

from engine import SYSTEM, instance_data
from processes.inspections.models import EntityProfile, Inspection
from processes.penalty.models import PenaltyCase
from tests.inspections.driver import HEAD, InspectionWorld

scenarios("result.feature")


@given("已抽取并由检查人员声明无利益冲突")
def drawn_and_declared(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    plan_id = world.plan({"public_place": {"count": 1}})
    ctx["draws"].append(world.draw(plan_id))
    row = world.inspections(ctx["draws"][-1])[0]
    assert row.instance_id
    ctx["row"], ctx["instance"] = row.id, row.instance_id
    world.declare_all(row.instance_id)


def _row(world: InspectionWorld, ctx: dict[str, Any]) -> Inspection:
    with world.factory() as session:
        row = session.get(Inspection, ctx["row"])
        assert row is not None
        session.expunge(row)
        return row


@when("提交检查记录，另一名检查人员未到场")
def alone(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    world.try_submit(ctx["instance"], "onsite", {"checked_on": world.today.isoformat(), "co_inspector_present": False,
                                                 "findings": "一人检查", "outcome": "compliant",
                                                 "representative": "signed"})


@when(parsers.parse('提交责令改正的检查记录，整改期限为"{day}"'))
def correction(world: InspectionWorld, ctx: dict[str, Any], day: str) -> None:
    try:
        world.onsite(ctx["instance"], "correction", correction_due=day)
    except Exception as exc:
        world.errors.append(exc)


@when("提交涉嫌违法的检查记录")
def violation(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    world.onsite(ctx["instance"], "violation", findings="无卫生许可证经营")


@when("提交查无此户的检查记录")
def not_found(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    world.onsite(ctx["instance"], "not_found", findings="现场已停业，无人")


@when("负责人审核同意")
def approve(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    world.submit(ctx["instance"], "review", {"approved": True}, actor=HEAD)


@then("已出具卫生监督意见书")
def opinion(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    row = _row(world, ctx)
    assert row.opinion_sha256 and row.status == "correcting" and row.correction_due is not None


@then("没有复查任务")
def no_reinspection(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    assert not world.ready(ctx["instance"], "reinspect")


@then("检查人员收到复查任务")
def reinspection_task(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    tasks = world.ready(ctx["instance"], "reinspect")
    assert [t.assignee for t in tasks] == [_row(world, ctx).inspectors[0]]


@when("复查认定未整改")
def failed(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    world.submit(ctx["instance"], "reinspect", {"reinspected_on": world.today.isoformat(), "corrected": False,
                                                "findings": "仍未改正"})


@then("已移送行政处罚案源，来源为双随机抽查，双向关联")
def lead(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    row = _row(world, ctx)
    assert row.status == "done" and row.penalty_case_id
    with world.factory() as session:
        case = session.get(PenaltyCase, row.penalty_case_id)
        assert case is not None and case.source == "random_inspection" and case.entity_id == row.credit_code
        prefill = instance_data(session, case.instance_id, SYSTEM)["prefill"]
    assert prefill["inspection_id"] == row.id and prefill["source"] == "random_inspection"


@then(parsers.parse('该单位的风险等级为"{level}"'))
def risk(world: InspectionWorld, ctx: dict[str, Any], level: str) -> None:
    with world.factory() as session:
        profile = session.get(EntityProfile, _row(world, ctx).credit_code)
        assert profile is not None and profile.risk_level == level


@then(parsers.parse('该单位的经营状态为"{status}"'))
def status(world: InspectionWorld, ctx: dict[str, Any], status: str) -> None:
    with world.factory() as session:
        profile = session.get(EntityProfile, _row(world, ctx).credit_code)
        assert profile is not None and profile.status == status


@then(parsers.parse('检查已完成，公示期限为20个工作日后的"{day}"（{note}）'))
def disclosure(world: InspectionWorld, ctx: dict[str, Any], day: str, note: str) -> None:
    row = _row(world, ctx)
    assert row.status == "done" and row.outcome == "not_found"
    assert row.disclosure_due is not None and row.disclosure_due.isoformat() == day

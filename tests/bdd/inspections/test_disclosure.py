"""检查结果的公示: steps for disclosure.feature (the explicit step and the overdue 督办)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pytest_bdd import given, parsers, scenarios, then, when
from sqlalchemy import select

from engine.models import HumanTask, ProcessInstance
from processes.directory.models import Notification
from processes.directory.notifications import scan
from processes.inspections.disclosure import disclosed_results
from processes.inspections.models import Inspection
from tests.inspections.driver import HEAD, InspectionWorld

scenarios("disclosure.feature")

CHECKED = {"content_checked": True, "note": "已核对"}


def _no_mail(_message: Any) -> str:
    raise AssertionError("nobody asked for email in these scenarios")


@given("已抽取并由检查人员声明无利益冲突")
def drawn_and_declared(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    plan_id = world.plan({"public_place": {"count": 1}})
    ctx["draws"].append(world.draw(plan_id))
    row = world.inspections(ctx["draws"][-1])[0]
    assert row.instance_id
    ctx["row"], ctx["instance"] = row.id, row.instance_id
    world.declare_all(row.instance_id)


@given("现场检查合格，负责人审核同意")
def compliant_and_reviewed(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    world.onsite(ctx["instance"], "compliant")
    world.submit(ctx["instance"], "review", {"approved": True}, actor=HEAD)


def _row(world: InspectionWorld, ctx: dict[str, Any]) -> Inspection:
    with world.factory() as session:
        row = session.get(Inspection, ctx["row"])
        assert row is not None
        session.expunge(row)
        return row


def _public(world: InspectionWorld, ctx: dict[str, Any]) -> list[dict[str, Any]]:
    with world.factory() as session:
        return disclosed_results(session, credit_code=_row(world, ctx).credit_code)


@when("负责人核对公示内容后公示检查结果")
def disclose(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    world.submit(ctx["instance"], "disclose", CHECKED, actor=HEAD)


@when("负责人未核对公示内容就提交公示")
def disclose_unchecked(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    assert not world.try_submit(ctx["instance"], "disclose", {"content_checked": False}, actor=HEAD)


@when(parsers.parse('时间到了"{day}"'))
def time_is(world: InspectionWorld, day: str) -> None:
    world.set_day(day, 10)
    with world.factory() as session:
        scan(session, world.now, send=_no_mail)
        session.commit()


@then("检查结果尚未向社会公开")
def not_public(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    row = _row(world, ctx)
    assert row.status == "done" and row.result_on is not None and row.disclosed_on is None
    assert _public(world, ctx) == []


@then(parsers.parse('负责人有"{title}"待办，期限为"{day}"'))
def head_task(world: InspectionWorld, ctx: dict[str, Any], title: str, day: str) -> None:
    tasks = world.ready(ctx["instance"], "disclose")
    assert len(tasks) == 1 and tasks[0].title == title
    assert tasks[0].due_at is not None
    assert tasks[0].due_at.astimezone(world.now.tzinfo).date() == date.fromisoformat(day)
    assert _row(world, ctx).disclosure_due == date.fromisoformat(day)


@then(parsers.parse('检查结果已向社会公开，公示日期为"{day}"'))
def public(world: InspectionWorld, ctx: dict[str, Any], day: str) -> None:
    row = _row(world, ctx)
    assert row.disclosed_on == date.fromisoformat(day) and row.disclosed_by == HEAD.user_id
    shown = _public(world, ctx)
    assert len(shown) == 1 and shown[0]["result"] == "合格"


@then("检查流程已结束")
def ended(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    with world.factory() as session:
        instance = session.get(ProcessInstance, ctx["instance"])
        assert instance is not None and instance.status == "completed"


def _supervision(world: InspectionWorld, ctx: dict[str, Any]) -> list[Notification]:
    with world.factory() as session:
        task_ids = select(HumanTask.id).where(HumanTask.instance_id == ctx["instance"],
                                              HumanTask.task_name == "disclose")
        return list(session.scalars(select(Notification).where(
            Notification.user_id == HEAD.user_id, Notification.kind == "overdue",
            Notification.task_id.in_(task_ids))))


@then("负责人没有公示检查结果的逾期督办")
def no_supervision(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    assert _supervision(world, ctx) == []


@then("负责人收到公示检查结果的逾期督办")
def supervision(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    notices = _supervision(world, ctx)
    assert len(notices) == 1 and notices[0].title == "公示检查结果"

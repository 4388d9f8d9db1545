"""节假日安排: steps for calendar_year.feature (deadlines reaching a year chinesecalendar lacks)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from pytest_bdd import given, parsers, scenarios, then, when

from engine import Actor, enter_year, set_due
from tests.bdd.penalty.conftest import task_id
from tests.penalty.driver import HEAD, SH, UNIT, PenaltyWorld

scenarios("calendar_year.feature")

ADMIN = Actor.of("admin", ["admin"], [UNIT], is_admin=True)


@given(parsers.parse('管理员已录入{year:d}年节假日安排，放假"{days}"'))
@when(parsers.parse('管理员已录入{year:d}年节假日安排，放假"{days}"'))
def year_entered(world: PenaltyWorld, year: int, days: str) -> None:
    with world.factory() as session:
        enter_year(session, ADMIN, year, [date.fromisoformat(d) for d in days.split("、")], [],
                   "测试用安排（非国务院通知）")
        session.commit()


def _uncertain(world: PenaltyWorld, ctx: dict[str, Any], title: str) -> bool:
    return bool(world.task(ctx["case"], task_id(title)).due_uncertain)


@then(parsers.parse('"{title}"的办理期限待核实'))
def due_uncertain(world: PenaltyWorld, ctx: dict[str, Any], title: str) -> None:
    assert _uncertain(world, ctx, title)


@then(parsers.parse('"{title}"的办理期限已确定'))
def due_certain(world: PenaltyWorld, ctx: dict[str, Any], title: str) -> None:
    assert not _uncertain(world, ctx, title)


@when(parsers.parse('负责人将"{title}"的办理期限核定为"{day}"'))
def head_confirms(world: PenaltyWorld, ctx: dict[str, Any], title: str, day: str) -> None:
    task = world.task(ctx["case"], task_id(title))
    due = datetime.combine(date.fromisoformat(day), time(23, 59, 59), SH)
    with world.factory() as session:
        set_due(session, task.id, HEAD, due, "按已录入的2027年节假日安排核定", now=world.now)
        session.commit()

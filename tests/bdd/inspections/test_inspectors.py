"""随机匹配检查人员: steps for inspectors.feature."""

from __future__ import annotations

from datetime import date
from itertools import combinations
from typing import Any

from pytest_bdd import given, parsers, scenarios, then, when
from sqlalchemy import select

from processes.inspections import directories
from processes.inspections.models import Inspection, Inspector, Replacement
from tests.inspections.driver import PLANNER, InspectionWorld

scenarios("inspectors.feature")


@given(parsers.parse('检查人员"{user}"的执法证"{day}"到期'))
def certificate_ends(world: InspectionWorld, user: str, day: str) -> None:
    world.add_inspectors([user], ["public_place"], valid_until=day)


@given(parsers.parse('检查人员"{user}"的亲属在第{n:d}家单位任职'))
def relative(world: InspectionWorld, ctx: dict[str, Any], user: str, n: int) -> None:
    world.add_inspectors([user], ["public_place"], relatives_at=(ctx["codes"][n - 1],))


@given(parsers.parse('检查人员"{user}"曾在第{n:d}家单位任职'))
def former(world: InspectionWorld, ctx: dict[str, Any], user: str, n: int) -> None:
    world.add_inspectors([user], ["public_place"], former_employers=(ctx["codes"][n - 1],))


@given(parsers.parse('检查人员"{user}"在"{start}"至"{end}"休假'))
def leave(world: InspectionWorld, user: str, start: str, end: str) -> None:
    with world.factory() as session:
        directories.add_leave(session, PLANNER, user, date.fromisoformat(start), date.fromisoformat(end), "年休假")
        session.commit()


def _rows(world: InspectionWorld, ctx: dict[str, Any], index: int = -1) -> list[Inspection]:
    return world.inspections(ctx["draws"][index])


@then(parsers.parse('每家单位的检查人员中有"{user}"'))
def everyone_has(world: InspectionWorld, ctx: dict[str, Any], user: str) -> None:
    rows = _rows(world, ctx)
    assert rows and all(user in r.inspectors for r in rows)


@then(parsers.parse('没有单位由"{user}"检查'))
def nobody(world: InspectionWorld, ctx: dict[str, Any], user: str) -> None:
    rows = _rows(world, ctx)
    assert rows and all(user not in r.inspectors for r in rows)
    with world.factory() as session:
        assert session.get(Inspector, user) is not None


@then(parsers.parse('第{n:d}家单位不由"{user}"检查'))
def not_that_one(world: InspectionWorld, ctx: dict[str, Any], n: int, user: str) -> None:
    row = next(r for r in _rows(world, ctx) if r.credit_code == ctx["codes"][n - 1])
    assert len(row.inspectors) == 2 and user not in row.inspectors


@then(parsers.parse("{count:d}家单位登记为检查人员不足"))
def unstaffed(world: InspectionWorld, ctx: dict[str, Any], count: int) -> None:
    rows = _rows(world, ctx)
    assert [r.status for r in rows] == ["unstaffed"] * count and all(r.instance_id is None for r in rows)


@then(parsers.parse("每名检查人员检查{count:d}家单位"))
def balanced(world: InspectionWorld, ctx: dict[str, Any], count: int) -> None:
    loads: dict[str, int] = {}
    for row in _rows(world, ctx):
        for user in row.inspectors:
            loads[user] = loads.get(user, 0) + 1
    assert set(loads.values()) == {count}, loads


@then("第二次每家单位的检查人员都不是第一次检查该单位的人员")
def fresh_people(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    first = {r.credit_code: set(r.inspectors) for r in _rows(world, ctx, 0)}
    second = _rows(world, ctx, 1)
    assert second and all(not (set(r.inspectors) & first.get(r.credit_code, set())) for r in second)


@then("第二次没有第一次出现过的搭档")
def fresh_pairs(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    before = {frozenset(p) for r in _rows(world, ctx, 0) for p in combinations(r.inspectors, 2)}
    after = {frozenset(p) for r in _rows(world, ctx, 1) for p in combinations(r.inspectors, 2)}
    assert not before & after


@when("第一名检查人员声明有利害关系")
def declare_conflict(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    row = _rows(world, ctx)[0]
    assert row.instance_id
    ctx["before"] = list(row.inspectors)
    world.declare_all(row.instance_id, {row.inspectors[0]: "配偶在该单位任职"})


@then("另行抽取了一名检查人员并记录了替换")
def replaced(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    row = _rows(world, ctx)[0]
    with world.factory() as session:
        rep = session.scalars(select(Replacement).where(Replacement.inspection_id == row.id)).one()
    assert rep.replaced == ctx["before"][0] and rep.replacement and rep.replacement not in ctx["before"]
    assert row.inspectors == [rep.replacement, ctx["before"][1]]
    ctx["replacement"] = rep.replacement


@then("新的检查人员收到声明任务")
def new_declarer(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    row = _rows(world, ctx)[0]
    assert row.instance_id
    assert [t.assignee for t in world.ready(row.instance_id, "declare")] == [ctx["replacement"]]

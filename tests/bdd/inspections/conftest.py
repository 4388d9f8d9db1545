"""Steps of the double-random inspection features: a real SQLite database per scenario (template
with both bundles and a small directory), frozen time, jobs run like the eager relay.

Entities are numbered in the order a step adds them ("第3家" is the third one added); inspectors
are the directory users officer2..officer8. Schedulers in the exactly-once scenarios are real
threads and a real child process killed with SIGKILL, never stand-ins.
"""

from __future__ import annotations

import shutil
import zlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pytest_bdd import given, parsers, then, when
from sqlalchemy import select, update

from processes.directory.services import DirectoryError
from processes.inspections import directories, plans, verify_draw
from processes.inspections.models import Draw, Inspection
from tests.inspections.driver import PLANNER, InspectionWorld, prepare_template, world_fixture


@pytest.fixture(scope="session")
def inspections_template(_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("inspections-bdd") / "inspections-template.db"
    shutil.copyfile(_sqlite_template, path)
    prepare_template(path)
    return path


@pytest.fixture
def world(inspections_template: Path, tmp_path: Path) -> Iterator[InspectionWorld]:
    yield from world_fixture(inspections_template, tmp_path)


@pytest.fixture
def ctx() -> dict[str, Any]:
    return {"codes": [], "draws": [], "exclusions": {}}


def last_error(world: InspectionWorld) -> str:
    assert world.errors, "expected a refusal, but it was accepted"
    error = world.errors[-1]
    return str(getattr(error, "messages", None) or getattr(error, "message", None) or error)


@given(parsers.parse('今天是"{day}"'))
@when(parsers.parse('今天是"{day}"'))
def today_is(world: InspectionWorld, day: str) -> None:
    world.set_day(day, 9)
    world.fire()


@given(parsers.parse('检查人员"{users}"具备"{category}"专业'))
def inspectors(world: InspectionWorld, users: str, category: str) -> None:
    world.add_inspectors(users.split(","), [category])


def _add(world: InspectionWorld, ctx: dict[str, Any], count: int, category: str, **profile: Any) -> None:
    ctx["codes"] += world.add_entities(count, category, start=len(ctx["codes"]) + 1, **profile)


@given(parsers.parse('名录库中有{count:d}家"{category}"单位'))
def entities(world: InspectionWorld, ctx: dict[str, Any], count: int, category: str) -> None:
    _add(world, ctx, count, category)


@given(parsers.parse('名录库中有{count:d}家停业的"{category}"单位'))
def inactive_entities(world: InspectionWorld, ctx: dict[str, Any], count: int, category: str) -> None:
    before = len(ctx["codes"])
    _add(world, ctx, count, category, status="inactive")
    ctx["inactive"] = set(ctx["codes"][before:])


@given(parsers.parse('名录库中有{count:d}家"{day}"检查过的"{category}"单位'))
def inspected_entities(world: InspectionWorld, ctx: dict[str, Any], count: int, day: str, category: str) -> None:
    _add(world, ctx, count, category, last_inspected_on=date.fromisoformat(day))


@given(parsers.parse("年度抽查频次上限为{cap:d}次"))
def frequency_cap(ctx: dict[str, Any], cap: int) -> None:
    ctx["exclusions"] = {"frequency_cap": cap, "recent_months": 0}


@given(parsers.parse("其中第{n:d}家为停业单位"))
def one_inactive(world: InspectionWorld, ctx: dict[str, Any], n: int) -> None:
    with world.factory() as session:
        directories.set_profile(session, PLANNER, ctx["codes"][n - 1], status="inactive")
        session.commit()


def _draw(world: InspectionWorld, ctx: dict[str, Any], categories: dict[str, Any] | None = None,
          **kwargs: Any) -> str:
    if ctx["exclusions"]:
        kwargs.setdefault("exclusions", ctx["exclusions"])
    plan_id = world.plan(categories, **kwargs)
    draw_id = world.draw(plan_id)
    ctx["draws"].append(draw_id)
    return draw_id


@when("按计划抽取")
def draw_default(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    _draw(world, ctx)


@when(parsers.parse("按每类抽取{count:d}家的计划抽取"))
@when(parsers.parse("按每类抽取{count:d}家的计划再次抽取"))
def draw_count(world: InspectionWorld, ctx: dict[str, Any], count: int) -> None:
    _draw(world, ctx, {"public_place": {"count": count}})


@when(parsers.parse('按国家任务名单"{numbers}"抽取'))
def draw_national(world: InspectionWorld, ctx: dict[str, Any], numbers: str) -> None:
    fixed = [ctx["codes"][int(n) - 1] for n in numbers.split(",")]
    _draw(world, ctx, kind="national", fixed_entities=fixed)


@when(parsers.parse('制定国家任务名单"{numbers}"并试图改为"{other}"'))
def change_national(world: InspectionWorld, ctx: dict[str, Any], numbers: str, other: str) -> None:
    fixed = [ctx["codes"][int(n) - 1] for n in numbers.split(",")]
    plan_id = world.plan(kind="national", fixed_entities=fixed, publish=False)
    with world.factory() as session:
        try:
            plans.update_plan(session, PLANNER, plan_id,
                              fixed_entities=[ctx["codes"][int(n) - 1] for n in other.split(",")])
        except DirectoryError as exc:
            world.errors.append(exc)


def drawn(world: InspectionWorld, ctx: dict[str, Any], index: int = -1) -> list[Inspection]:
    return world.inspections(ctx["draws"][index])


@then(parsers.parse("抽中{count:d}家单位"))
def drawn_count(world: InspectionWorld, ctx: dict[str, Any], count: int) -> None:
    assert len(drawn(world, ctx)) == count


@then(parsers.parse("第二次抽中{count:d}家单位"))
def second_count(world: InspectionWorld, ctx: dict[str, Any], count: int) -> None:
    assert len(drawn(world, ctx, 1)) == count


@then(parsers.parse("每家单位有{count:d}名检查人员"))
def pair_size(world: InspectionWorld, ctx: dict[str, Any], count: int) -> None:
    rows = drawn(world, ctx)
    assert rows and all(len(set(r.inspectors)) == count for r in rows)


@then("抽中的单位都不是停业单位")
def none_inactive(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    assert not {r.credit_code for r in drawn(world, ctx)} & ctx["inactive"]


@then(parsers.parse('抽中的单位正是名单上的"{numbers}"'))
def exactly_fixed(world: InspectionWorld, ctx: dict[str, Any], numbers: str) -> None:
    assert sorted(r.credit_code for r in drawn(world, ctx)) == sorted(ctx["codes"][int(n) - 1]
                                                                      for n in numbers.split(","))


@then(parsers.parse('系统拒绝并提示"{text}"'))
def refused(world: InspectionWorld, text: str) -> None:
    assert text in last_error(world), last_error(world)


@then("复核抽取结果完全一致")
@then("新的抽取复核一致")
def verified(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    with world.factory() as session:
        report = verify_draw(session, ctx["draws"][-1])
    assert report.identical, report.problems


@when("有人改动了存档的名录快照")
def tamper_snapshot(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    with world.factory() as session:
        draw = session.get(Draw, ctx["draws"][-1])
        assert draw is not None
        raw = zlib.decompress(draw.snapshot).replace(b'"weight":1', b'"weight":9', 1)
        # straight into the table: the model refuses to edit a finished draw (models._draw_is_never_edited)
        session.execute(update(Draw).where(Draw.id == draw.id).values(snapshot=zlib.compress(raw)))
        session.commit()


@when("有人改动了存档的抽取结果")
def tamper_result(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    with world.factory() as session:
        draw = session.get(Draw, ctx["draws"][-1])
        assert draw is not None and draw.result is not None
        result = dict(draw.result)
        entities = list(result["entities"])
        entities[0] = {**entities[0], "credit_code": ctx["codes"][-1]}
        session.execute(update(Draw).where(Draw.id == draw.id).values(result={**result, "entities": entities}))
        session.commit()


@then(parsers.parse('复核指出"{where}"不一致'))
def verify_points_at(world: InspectionWorld, ctx: dict[str, Any], where: str) -> None:
    with world.factory() as session:
        report = verify_draw(session, ctx["draws"][-1])
    assert not report.identical
    assert any(p.startswith(where) for p in report.problems), report.problems


def inspection_rows(world: InspectionWorld, ctx: dict[str, Any]) -> list[Inspection]:
    with world.factory() as session:
        rows = list(session.scalars(select(Inspection).where(Inspection.draw_id == ctx["draws"][-1])
                                    .order_by(Inspection.credit_code)))
        for row in rows:
            session.expunge(row)
        return rows

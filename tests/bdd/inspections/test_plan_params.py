"""计划自定的权重与多个单位的抽查范围: steps for plan_params.feature (the directory, draw and
verification steps are in conftest).

Units below the scenario's unit are real directory rows (``/U1/U1A/``...), so the plan's scope is
expanded by ``directories.scope_units`` as in production; a refused plan is looked for in the
database, not in a mock."""

from __future__ import annotations

import zlib
from math import prod
from typing import Any

from lxml import etree
from pytest_bdd import given, parsers, scenarios, then, when
from sqlalchemy import func, select, update

from processes.directory.models import Entity, Unit
from processes.directory.services import DirectoryError
from processes.inspections import directories, draw_record, verify_draw
from processes.inspections.models import Draw, Plan
from processes.inspections.rules import load_rules
from processes.inspections.sampling import Snapshot
from signing.draw_records import parameter_list
from tests.inspections.driver import PLANNER, UNIT, InspectionWorld, code

scenarios("plan_params.feature")


def _weights(text: str) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in text.split(","))


@given(parsers.parse('第{n:d}家的信用等级为"{grade}"'))
def credit_grade(world: InspectionWorld, ctx: dict[str, Any], n: int, grade: str) -> None:
    with world.factory() as session:
        directories.set_profile(session, PLANNER, ctx["codes"][n - 1], credit_grade=grade)
        session.commit()


@given(parsers.parse('第{n:d}家的风险台账有一条"{level}"条目'))
def risk_entry(world: InspectionWorld, ctx: dict[str, Any], n: int, level: str) -> None:
    with world.factory() as session:
        directories.open_risk(session, PLANNER, ctx["codes"][n - 1], source="assessment", level=level,
                              reason="风险评估为高风险", on=world.now.date())
        session.commit()


@when(parsers.parse('按自定权重"{weights}"的计划抽取'))
def draw_with_weights(world: InspectionWorld, ctx: dict[str, Any], weights: str) -> None:
    plan_id = world.plan(exclusions=ctx["exclusions"], weights=_weights(weights))
    ctx["draws"].append(world.draw(plan_id))


@when(parsers.parse('试图制定自定权重"{weights}"的计划'))
def try_weights(world: InspectionWorld, ctx: dict[str, Any], weights: str) -> None:
    try:
        world.plan(exclusions=ctx["exclusions"], weights=_weights(weights))
    except DirectoryError as exc:
        world.errors.append(exc)


def _snapshot_weight(world: InspectionWorld, ctx: dict[str, Any], n: int) -> int:
    with world.factory() as session:
        draw = session.get(Draw, ctx["draws"][-1])
        assert draw is not None
        entities = Snapshot.decode(zlib.decompress(draw.snapshot)).entities
    return int({e["credit_code"]: e["weight"] for e in entities}[ctx["codes"][n - 1]])


@then(parsers.parse("快照中第{n:d}家的权重为{weight:d}"))
def weight_is(world: InspectionWorld, ctx: dict[str, Any], n: int, weight: int) -> None:
    assert _snapshot_weight(world, ctx, n) == weight


@then(parsers.parse('快照中第{n:d}家的权重等于规则"{keys}"之积'))
def weight_is_rules(world: InspectionWorld, ctx: dict[str, Any], n: int, keys: str) -> None:
    weights = load_rules().weights
    assert _snapshot_weight(world, ctx, n) == prod(getattr(weights, k) for k in keys.split(","))


@then(parsers.parse('抽取记录的参数注明本计划自定的权重"{labels}"'))
def record_names_weights(world: InspectionWorld, ctx: dict[str, Any], labels: str) -> None:
    with world.factory() as session:
        draw = session.get(Draw, ctx["draws"][-1])
        assert draw is not None
        record = draw_record.record_data(session, draw)
        html = parameter_list(record.parameters_json, draw_record.parameter_labels(session, draw.id))
    shown = etree.tostring(html, encoding="unicode")
    assert f"<li>本计划自定的权重（与规则的默认值不同）：{labels}" in shown, shown


@when("有人改动了存档参数中的权重")
def tamper_params(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    with world.factory() as session:
        draw = session.get(Draw, ctx["draws"][-1])
        assert draw is not None
        params = {**draw.params, "weights": {**draw.params["weights"], "credit_d": 1}}
        # straight into the table: the model refuses to edit a finished draw (models._draw_is_never_edited)
        session.execute(update(Draw).where(Draw.id == draw.id).values(params=params))
        session.commit()


@then("复核发现抽取承诺不一致")
def commitment_broken(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    with world.factory() as session:
        report = verify_draw(session, ctx["draws"][-1])
    assert not report.identical and any(p.startswith("commitment_hash") for p in report.problems), report.problems


@then("没有保存任何计划")
def no_plan(world: InspectionWorld) -> None:
    with world.factory() as session:
        assert session.scalar(select(func.count()).select_from(Plan)) == 0


def _add_units(world: InspectionWorld, ctx: dict[str, Any], parent_id: str | None, names: str) -> None:
    units = ctx.setdefault("units", {})
    with world.factory() as session:
        parent = session.get(Unit, parent_id) if parent_id else None
        for name in names.split(","):
            unit_id = f"{parent_id or ''}X{len(units) + 1}"
            path = f"{parent.path}{unit_id}/" if parent else f"/{unit_id}/"
            session.add(Unit(id=unit_id, name=name, short_name=name[:2], level="town", region_code="310113",
                             path=path, parent_id=parent_id))
            units[name] = unit_id
        session.commit()


@given(parsers.parse('本单位下设"{names}"'))
def sub_units(world: InspectionWorld, ctx: dict[str, Any], names: str) -> None:
    _add_units(world, ctx, UNIT, names)


@given(parsers.parse('"{parent}"下设"{names}"'))
def sub_sub_units(world: InspectionWorld, ctx: dict[str, Any], parent: str, names: str) -> None:
    _add_units(world, ctx, ctx["units"][parent], names)


@given(parsers.parse('另有一个不隶属于本单位的"{name}"'))
def other_unit(world: InspectionWorld, ctx: dict[str, Any], name: str) -> None:
    _add_units(world, ctx, None, name)


@given(parsers.parse('本单位和每个下级单位各有{count:d}家"{category}"单位'))
def entities_everywhere(world: InspectionWorld, ctx: dict[str, Any], count: int, category: str) -> None:
    by_unit = ctx.setdefault("by_unit", {})
    with world.factory() as session:
        for unit_id in [UNIT, *ctx["units"].values()]:
            for _ in range(count):
                n = 100 + sum(len(v) for v in by_unit.values())
                session.add(Entity(credit_code=code(n), name=f"第{n}号单位", category=category, unit_id=unit_id,
                                   region_code="310113"))
                by_unit.setdefault(unit_id, []).append(code(n))
        session.commit()


@when(parsers.parse('按抽查范围"{names}"、每类抽取{count:d}家的计划抽取'))
def draw_in_scope(world: InspectionWorld, ctx: dict[str, Any], names: str, count: int) -> None:
    scope = [ctx["units"][n] for n in names.split(",")]
    plan_id = world.plan({"public_place": {"count": count}}, exclusions=ctx["exclusions"], scope=scope)
    ctx["draws"].append(world.draw(plan_id))


@when(parsers.parse('试图制定抽查范围为"{names}"的计划'))
def try_scope(world: InspectionWorld, ctx: dict[str, Any], names: str) -> None:
    try:
        world.plan(exclusions=ctx["exclusions"], scope=[ctx["units"][n] for n in names.split(",")])
    except DirectoryError as exc:
        world.errors.append(exc)


@then(parsers.parse('抽中的正是"{names}"的全部单位'))
def drawn_from(world: InspectionWorld, ctx: dict[str, Any], names: str) -> None:
    expected = sorted(c for n in names.split(",") for c in ctx["by_unit"][ctx["units"][n]])
    with world.factory() as session:
        draw = session.get(Draw, ctx["draws"][-1])
        assert draw is not None and draw.result is not None
        drawn = sorted(e["credit_code"] for e in draw.result["entities"])
    assert drawn == expected



@then(parsers.parse("抽中的单位由制定计划的单位的检查人员检查，每家{n:d}名"))
def matched_from_planning_unit(world: InspectionWorld, ctx: dict[str, Any], n: int) -> None:
    """The scope names whose entities are drawn; the planning unit's own inspectors still go (a city's
    plan over two counties is inspected by the city's inspectors too)."""
    with world.factory() as session:
        draw = session.get(Draw, ctx["draws"][-1])
        assert draw is not None and draw.result is not None
        assignments = draw.result["assignments"]
    assert assignments and all(len(people) == n for people in assignments.values()), draw.result

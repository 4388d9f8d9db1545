"""抽取权重: steps for weights.feature (the draw, plan and verification steps are in conftest).

Complaints are filed through the complaints package's public intake (``submit_public``), with its
bundle deployed into the scenario's database, so the draw counts the real complaint rows."""

from __future__ import annotations

import zlib
from math import prod
from typing import Any

from pytest_bdd import given, parsers, scenarios, then, when

from engine import SYSTEM, deploy_directory
from processes.complaints import submit_public
from processes.inspections import directories
from processes.inspections.models import Draw
from processes.inspections.rules import load_rules
from processes.inspections.sampling import Snapshot
from tests.inspections.driver import PLANNER, ROOT, UNIT, InspectionWorld

scenarios("weights.feature")


@given(parsers.parse('第{n:d}家的风险台账有一条"{level}"条目'))
def risk_entry(world: InspectionWorld, ctx: dict[str, Any], n: int, level: str) -> None:
    with world.factory() as session:
        directories.open_risk(session, PLANNER, ctx["codes"][n - 1], source="assessment", level=level,
                              reason="风险评估为高风险", on=world.now.date())
        session.commit()


@given(parsers.parse('第{n:d}家的信用等级为"{grade}"'))
def credit_grade(world: InspectionWorld, ctx: dict[str, Any], n: int, grade: str) -> None:
    with world.factory() as session:
        directories.set_profile(session, PLANNER, ctx["codes"][n - 1], credit_grade=grade)
        session.commit()


@given(parsers.parse("第{n:d}家导入的投诉数达到规则的投诉数阈值"))
def imported_complaints(world: InspectionWorld, ctx: dict[str, Any], n: int) -> None:
    with world.factory() as session:
        directories.set_profile(session, PLANNER, ctx["codes"][n - 1],
                                complaint_count=load_rules().weights.complaints_threshold)
        session.commit()


@given(parsers.parse("公众就第{n:d}家提交达到规则投诉数阈值的投诉举报"))
@when(parsers.parse("公众就第{n:d}家提交达到规则投诉数阈值的投诉举报"))
def file_complaints(world: InspectionWorld, ctx: dict[str, Any], n: int) -> None:
    with world.factory() as session:
        if not ctx.get("complaints_deployed"):
            deploy_directory(session, ROOT / "processes" / "complaints", SYSTEM)
            ctx["complaints_deployed"] = True
        for k in range(load_rules().weights.complaints_threshold):
            submit_public(session, unit_id=UNIT, facts=f"第{k + 1}次投诉：游泳池水质浑浊，更衣室不洁（{n}）",
                          entity_id=ctx["codes"][n - 1], entity_name=f"宝山区第{n}号单位", now=world.now)
        session.commit()


@then(parsers.parse('快照中第{n:d}家的权重等于规则"{keys}"之积'))
def weight_is(world: InspectionWorld, ctx: dict[str, Any], n: int, keys: str) -> None:
    weights = load_rules().weights
    with world.factory() as session:
        draw = session.get(Draw, ctx["draws"][-1])
        assert draw is not None
        entities = Snapshot.decode(zlib.decompress(draw.snapshot)).entities
    weight = {e["credit_code"]: e["weight"] for e in entities}[ctx["codes"][n - 1]]
    assert weight == prod(getattr(weights, k) for k in keys.split(",")), weight

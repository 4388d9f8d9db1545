"""催告 before the court application: steps for enforcement_reminder.feature (time, appeal and
status steps are in conftest)."""

from __future__ import annotations

from typing import Any

from pytest_bdd import parsers, scenarios, when

from tests.bdd.penalty.conftest import record_execution
from tests.penalty.driver import PenaltyWorld

scenarios("enforcement_reminder.feature")


@when("催告书于今天送达")
def reminder_served(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    world.errors.clear()
    world.try_submit(ctx["case"], "serve_urge_notice",
                     {"served_on": world.today.isoformat(), "method": "direct", "receiver": "陈明"})


@when(parsers.parse('于"{day}"申请人民法院强制执行'))
def apply_to_court(world: PenaltyWorld, ctx: dict[str, Any], day: str) -> None:
    world.errors.clear()
    world.try_submit(ctx["case"], "apply_enforcement", {"applied_on": day, "court": "上海市宝山区人民法院"})


@when("当事人提起行政诉讼")
def lawsuit(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    record_execution(world, ctx, kind="litigation", note="向上海市宝山区人民法院提起行政诉讼")


@when("人民法院判决维持")
def judgment_upheld(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    world.submit(ctx["case"], "await_appeal", {"result": "upheld", "concluded_on": world.today.isoformat()})

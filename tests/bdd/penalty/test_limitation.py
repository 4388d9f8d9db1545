"""追责时效: steps for limitation.feature."""

from __future__ import annotations

from typing import Any

from pytest_bdd import parsers, scenarios, then, when

from tests.penalty.driver import PenaltyWorld

scenarios("limitation.feature")


def _register(world: PenaltyWorld, ctx: dict[str, Any], fields: dict[str, Any]) -> None:
    ctx["case"] = world.start()
    world.submit(ctx["case"], "register_lead", fields)


@when(parsers.re(r'执法人员登记案源，违法行为发生于"(?P<day>[\d-]+)"$'))
def register(world: PenaltyWorld, ctx: dict[str, Any], day: str) -> None:
    _register(world, ctx, {"violation_date": day})


@when(parsers.re(r'执法人员登记案源，违法行为发生于"(?P<day>[\d-]+)"，涉及公民生命健康安全且有危害后果'))
def register_harm(world: PenaltyWorld, ctx: dict[str, Any], day: str) -> None:
    _register(world, ctx, {"violation_date": day, "public_health_harm": True})


@when(parsers.re(r'执法人员登记案源，违法行为发生于"(?P<day>[\d-]+)"，终了于"(?P<end>[\d-]+)"'))
def register_continuing(world: PenaltyWorld, ctx: dict[str, Any], day: str, end: str) -> None:
    _register(world, ctx, {"violation_date": day, "violation_ended_on": end})


@then(parsers.parse('不予立案的理由包含"{text}"'))
def reason(world: PenaltyWorld, ctx: dict[str, Any], text: str) -> None:
    assert text in (world.case(ctx["case"]).status_reason or "")


@then(parsers.parse('追责时效至"{day}"届满'))
def expires(world: PenaltyWorld, ctx: dict[str, Any], day: str) -> None:
    expires_on = world.case(ctx["case"]).limitation_expires_on
    assert expires_on is not None and expires_on.isoformat() == day

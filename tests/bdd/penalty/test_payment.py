"""缴款与加处罚款: steps for payment.feature (payment, appeal and status steps are in conftest)."""

from __future__ import annotations

from typing import Any

from pytest_bdd import parsers, scenarios, when

from tests.penalty.driver import PenaltyWorld

scenarios("payment.feature")


@when(parsers.parse('当事人申请延期缴纳至"{day}"'))
def deferral(world: PenaltyWorld, ctx: dict[str, Any], day: str) -> None:
    world.submit(ctx["case"], "record_execution",
                 {"occurred_on": world.today.isoformat(), "kind": "deferral", "until": day, "note": "经营困难"})


@when("负责人批准延期缴纳")
def approve_deferral(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    world.submit(ctx["case"], "approve_arrangement", {"approved": True, "opinion": "同意"})


@when(parsers.parse('复议机关于"{day}"决定维持'))
def upheld_on(world: PenaltyWorld, ctx: dict[str, Any], day: str) -> None:
    world.errors.clear()
    world.try_submit(ctx["case"], "await_appeal", {"result": "upheld", "concluded_on": day})

"""决定书与负责人批准的处罚一致: steps for approved_penalty.feature."""

from __future__ import annotations

from typing import Any

from pytest_bdd import parsers, scenarios, then, when

from tests.bdd.penalty.conftest import task_id
from tests.penalty.driver import PenaltyWorld

scenarios("approved_penalty.feature")


@when(parsers.parse('以罚款"{amount}"元办理"{title}"'))
def decide_with_fine(world: PenaltyWorld, ctx: dict[str, Any], amount: str, title: str) -> None:
    world.errors.clear()
    world.try_submit(ctx["case"], task_id(title), {"fine": float(amount)})


@when(parsers.parse('以处罚种类"{kinds}"办理"{title}"'))
def decide_with_kinds(world: PenaltyWorld, ctx: dict[str, Any], kinds: str, title: str) -> None:
    world.errors.clear()
    world.try_submit(ctx["case"], task_id(title), {"penalty_kinds": kinds.split(",")})


@then("案件尚未作出处罚决定")
def not_decided(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    case = world.case(ctx["case"])
    assert case.decided_on is None and case.status != "decided", case.status
    assert case.status_reason and "已退回负责人审批" in case.status_reason, case.status_reason


@then(parsers.parse('决定的罚款为"{amount}"元'))
def decided_fine(world: PenaltyWorld, ctx: dict[str, Any], amount: str) -> None:
    case = world.case(ctx["case"])
    assert case.decided_on is not None
    assert f"{case.fine_fen / 100:.2f}" == amount, case.fine_fen

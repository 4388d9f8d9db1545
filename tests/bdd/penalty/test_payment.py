"""缴款与加处罚款: steps for payment.feature."""

from __future__ import annotations

from typing import Any

from pytest_bdd import parsers, scenarios, then, when

from processes.penalty.documents import EXECUTION_LABELS
from tests.penalty.driver import PenaltyWorld

scenarios("payment.feature")


def _record(world: PenaltyWorld, ctx: dict[str, Any], **fields: Any) -> None:
    world.submit(ctx["case"], "record_execution", {"occurred_on": world.today.isoformat(), **fields})


@when(parsers.parse('当事人缴纳"{amount}"元'))
def pays(world: PenaltyWorld, ctx: dict[str, Any], amount: str) -> None:
    _record(world, ctx, kind="payment", amount=float(amount))


@when("当事人申请行政复议")
def reconsideration(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    _record(world, ctx, kind="reconsideration", note="向上海市宝山区人民政府申请行政复议")


@when("复议机关决定维持")
def upheld(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    world.submit(ctx["case"], "await_appeal", {"result": "upheld", "concluded_on": world.today.isoformat()})


@when(parsers.parse('当事人申请延期缴纳至"{day}"'))
def deferral(world: PenaltyWorld, ctx: dict[str, Any], day: str) -> None:
    _record(world, ctx, kind="deferral", until=day, note="经营困难")


@when("负责人批准延期缴纳")
def approve_deferral(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    world.submit(ctx["case"], "approve_arrangement", {"approved": True, "opinion": "同意"})


@then(parsers.parse('加处罚款为"{amount}"元'))
def surcharge(world: PenaltyWorld, ctx: dict[str, Any], amount: str) -> None:
    assert f"{world.case(ctx['case']).surcharge_fen / 100:.2f}" == amount


@then(parsers.parse('执行情况为"{label}"'))
def execution_status(world: PenaltyWorld, ctx: dict[str, Any], label: str) -> None:
    assert EXECUTION_LABELS.get(world.case(ctx["case"]).execution_status or "") == label


@then(parsers.parse('缴款期限是"{day}"'))
def payment_due(world: PenaltyWorld, ctx: dict[str, Any], day: str) -> None:
    due = world.case(ctx["case"]).payment_due
    assert due is not None and due.isoformat() == day

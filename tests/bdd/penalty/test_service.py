"""送达: steps for service.feature."""

from __future__ import annotations

from typing import Any

from pytest_bdd import parsers, scenarios, then, when

from tests.penalty.driver import PenaltyWorld

scenarios("service.feature")


def _serve(world: PenaltyWorld, ctx: dict[str, Any], **fields: Any) -> None:
    world.errors.clear()
    world.try_submit(ctx["case"], "serve_decision", fields)


@when(parsers.re(r'直接送达，送达日期"(?P<day>[\d-]+)"$'))
def direct(world: PenaltyWorld, ctx: dict[str, Any], day: str) -> None:
    _serve(world, ctx, method="direct", served_on=day)


@when(parsers.parse('直接送达，送达日期"{day}"，逾期原因"{reason}"'))
def direct_late(world: PenaltyWorld, ctx: dict[str, Any], day: str, reason: str) -> None:
    _serve(world, ctx, method="direct", served_on=day, late_reason=reason)


@when("电子送达，未取得当事人同意")
def electronic(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    _serve(world, ctx, method="electronic", served_on=world.today.isoformat())


@when(parsers.parse('公告送达，公告日期"{day}"'))
def public_notice(world: PenaltyWorld, ctx: dict[str, Any], day: str) -> None:
    _serve(world, ctx, method="public_notice", served_on=day, receiver="", notice_ground="whereabouts_unknown",
           attempts="两次上门送达未遇，电话无人接听")


@then(parsers.parse('视为送达日期是"{day}"'))
def deemed(world: PenaltyWorld, ctx: dict[str, Any], day: str) -> None:
    served = world.case(ctx["case"]).effective_served_on
    assert served is not None and served.isoformat() == day


@then(parsers.parse('缴款期限是"{day}"'))
def payment_due(world: PenaltyWorld, ctx: dict[str, Any], day: str) -> None:
    due = world.case(ctx["case"]).payment_due
    assert due is not None and due.isoformat() == day

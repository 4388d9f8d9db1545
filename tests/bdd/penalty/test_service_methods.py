"""送达方式: steps for service_methods.feature (the record each method of service needs)."""

from __future__ import annotations

from typing import Any

from pytest_bdd import parsers, scenarios, then, when

from processes.penalty.forms_service import PUBLIC_NOTICE_GROUNDS, SERVICE_METHODS
from tests.penalty.driver import PenaltyWorld

scenarios("service_methods.feature")

GROUND_CODES = {label: code for code, label in PUBLIC_NOTICE_GROUNDS.items()}
CONSENT = {"consent_ref": "卫电送〔2025〕17号"}


def _serve(world: PenaltyWorld, ctx: dict[str, Any], task: str, **fields: Any) -> None:
    world.errors.clear()
    world.try_submit(ctx["case"], task, fields)


def _notice(world: PenaltyWorld, ctx: dict[str, Any], **fields: Any) -> None:
    _serve(world, ctx, "serve_prior_notice", **fields)


def _decision(world: PenaltyWorld, ctx: dict[str, Any], **fields: Any) -> None:
    _serve(world, ctx, "serve_decision", served_on=world.today.isoformat(), **fields)


@when("电子送达事先告知书，未取得当事人同意")
def notice_electronic_no_consent(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    _notice(world, ctx, method="electronic", served_on=world.today.isoformat())


@when(parsers.parse('电子送达事先告知书，确认书"{ref}"，未填写同意的地址'))
def notice_electronic_no_address(world: PenaltyWorld, ctx: dict[str, Any], ref: str) -> None:
    _notice(world, ctx, method="electronic", served_on=world.today.isoformat(), consent_ref=ref)


@when(parsers.parse('电子送达事先告知书，确认书"{ref}"，同意的地址"{address}"'))
def notice_electronic(world: PenaltyWorld, ctx: dict[str, Any], ref: str, address: str) -> None:
    _notice(world, ctx, method="electronic", served_on=world.today.isoformat(), consent_ref=ref,
            consent_address=address)


@when(parsers.parse('公告送达事先告知书，公告日期"{day}"，未说明公告的情形'))
def notice_public_no_ground(world: PenaltyWorld, ctx: dict[str, Any], day: str) -> None:
    _notice(world, ctx, method="public_notice", served_on=day)


@when(parsers.parse('公告送达事先告知书，公告日期"{day}"，情形"{ground}"，已尝试"{attempts}"'))
def notice_public(world: PenaltyWorld, ctx: dict[str, Any], day: str, ground: str, attempts: str) -> None:
    _notice(world, ctx, method="public_notice", served_on=day, notice_ground=GROUND_CODES[ground], attempts=attempts)


@then(parsers.parse('事先告知书视为送达日期是"{day}"'))
def notice_deemed(world: PenaltyWorld, ctx: dict[str, Any], day: str) -> None:
    served = world.case(ctx["case"]).notice_served_on
    assert served is not None and served.isoformat() == day


@when(parsers.parse('公告送达处罚决定书，公告日期"{day}"，情形"{ground}"，未记录已尝试的方式'))
def decision_public_no_attempts(world: PenaltyWorld, ctx: dict[str, Any], day: str, ground: str) -> None:
    _serve(world, ctx, "serve_decision", method="public_notice", served_on=day, notice_ground=GROUND_CODES[ground])


@when("留置送达，未记明拒收事由")
def left_no_reason(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    _decision(world, ctx, method="left", left_at="西安市莲湖区北大街12号")


@when(parsers.parse('留置送达，拒收事由"{reason}"，没有见证人也没有录像'))
def left_unwitnessed(world: PenaltyWorld, ctx: dict[str, Any], reason: str) -> None:
    _decision(world, ctx, method="left", refusal_reason=reason, left_at="西安市莲湖区北大街12号")


@when(parsers.parse('留置送达，拒收事由"{reason}"，见证人"{witnesses}"'))
def left_witnessed(world: PenaltyWorld, ctx: dict[str, Any], reason: str, witnesses: str) -> None:
    _decision(world, ctx, method="left", refusal_reason=reason, left_at="西安市莲湖区北大街12号", witnesses=witnesses)


@when("委托送达，未写明受委托的机关")
def entrusted_no_agency(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    _decision(world, ctx, method="entrusted", receiver="陈明")


@when(parsers.parse('委托送达，受委托机关"{agency}"，回执日期"{day}"'))
def entrusted(world: PenaltyWorld, ctx: dict[str, Any], agency: str, day: str) -> None:
    _serve(world, ctx, "serve_decision", method="entrusted", entrusted_agency=agency, receiver="陈明", served_on=day)


@then(parsers.parse('送达方式是"{label}"，送达日期"{day}"'))
def served_by(world: PenaltyWorld, ctx: dict[str, Any], label: str, day: str) -> None:
    case = world.case(ctx["case"])
    assert case.service_method is not None and SERVICE_METHODS[case.service_method] == label, case.service_method
    assert case.served_on is not None and case.served_on.isoformat() == day

"""当场处罚的记录、时效与当场收缴: steps for summary_record.feature."""

from __future__ import annotations

from typing import Any

from pytest_bdd import given, parsers, scenarios, when

from tests.penalty.driver import PenaltyWorld, officer

scenarios("summary_record.feature", "summary_enforcement.feature")


def _decide(world: PenaltyWorld, ctx: dict[str, Any], **overrides: Any) -> None:
    world.errors.clear()
    ctx["case"] = world.start("summary")
    fields = {"entity_name": "张某", "party_type": "person", "category": "public_places",
              "officers": [officer("officer1"), officer("officer2")],
              "violation": "未按规定对顾客用品用具进行清洗消毒", "violation_date": world.today.isoformat(),
              "violation_place": "宝山区友谊路1号悦来浴室", "violation_time": "10:30",
              "legal_basis": "《公共场所卫生管理条例实施细则》第三十六条", "decided_on": world.today.isoformat(),
              "statement_heard": True, "party_signed": True, "penalty_kinds": ["warning"], **overrides}
    world.try_submit(ctx["case"], "summary_decision", fields)


@when("当场处罚，当事人签名")
def signed(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    _decide(world, ctx)


@when(parsers.re('当场处罚，当事人拒绝签名，由"(?P<who>[^"]*)"于"(?P<clock>[^"]*)"注明'))
def refused(world: PenaltyWorld, ctx: dict[str, Any], who: str, clock: str) -> None:
    _decide(world, ctx, party_signed=False, refused_to_sign=True, refusal_noted_by=who, refusal_noted_at=clock)


@when("当场处罚，既无签名也未注明拒签")
def neither(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    _decide(world, ctx, party_signed=False)


@when(parsers.parse('对"{day}"发生的违法行为当场处罚'))
def on_date(world: PenaltyWorld, ctx: dict[str, Any], day: str) -> None:
    _decide(world, ctx, violation_date=day)


@when(parsers.parse('对"{day}"发生、涉及公民生命健康安全且有危害后果的违法行为当场处罚'))
def with_harm(world: PenaltyWorld, ctx: dict[str, Any], day: str) -> None:
    _decide(world, ctx, violation_date=day, public_health_harm=True)


@when(parsers.parse('对"{day}"发生、"{ended}"终了的违法行为当场处罚'))
def continuing(world: PenaltyWorld, ctx: dict[str, Any], day: str, ended: str) -> None:
    _decide(world, ctx, violation_date=day, violation_ended_on=ended)


@given(parsers.parse('对公民当场罚款"{amount}"元'))
@when(parsers.parse('对公民当场罚款"{amount}"元'))
def fined(world: PenaltyWorld, ctx: dict[str, Any], amount: str) -> None:
    _decide(world, ctx, penalty_kinds=["fine"], fine=float(amount))
    assert not world.errors, world.errors


@given("负责人备案")
@when("负责人备案")
def filed(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    world.submit(ctx["case"], "file_summary", {"approved": True, "opinion": "已备案"})


@when(parsers.re('执法人员当场收缴"(?P<amount>[^"]+)"元，"(?P<ground>[^"]+)"，票据号码"(?P<receipt>[^"]*)"，'
                 '于"(?P<day>[^"]+)"交至行政机关'))
def collected(world: PenaltyWorld, ctx: dict[str, Any], amount: str, ground: str, receipt: str, day: str) -> None:
    world.errors.clear()
    decided = world.case(ctx["case"]).decided_on
    assert decided is not None
    world.try_submit(ctx["case"], "summary_payment",
                     {"paid_on": decided.isoformat(), "amount": float(amount), "on_spot": True,
                      "on_spot_ground": ground, "receipt_number": receipt, "handed_in_on": day})


@when(parsers.parse('当事人到银行缴纳"{amount}"元'))
def paid_at_bank(world: PenaltyWorld, ctx: dict[str, Any], amount: str) -> None:
    world.errors.clear()
    world.try_submit(ctx["case"], "summary_payment", {"paid_on": world.today.isoformat(), "amount": float(amount)})


@when("催告书于今天送达")
def reminder_served(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    world.errors.clear()
    world.try_submit(ctx["case"], "serve_urge_notice",
                     {"served_on": world.today.isoformat(), "method": "direct", "receiver": "张某"})


@when(parsers.parse('于"{day}"申请人民法院强制执行'))
def apply_to_court(world: PenaltyWorld, ctx: dict[str, Any], day: str) -> None:
    world.errors.clear()
    world.try_submit(ctx["case"], "apply_enforcement", {"applied_on": day, "court": "上海市宝山区人民法院"})


@when("当事人对当场处罚决定申请行政复议")
def summary_reconsideration(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    world.errors.clear()
    world.try_submit(ctx["case"], "summary_payment", {"kind": "reconsideration", "paid_on": world.today.isoformat(),
                                                      "note": "向上海市宝山区人民政府申请行政复议"})

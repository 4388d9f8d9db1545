"""简易程序: steps for summary.feature."""

from __future__ import annotations

from typing import Any

from pytest_bdd import parsers, scenarios, then, when

from tests.penalty.driver import CREDIT_CODE, PenaltyWorld, officer

scenarios("summary.feature")

PARTY = {"公民": "person", "法人或者其他组织": "organisation"}


def _decide(world: PenaltyWorld, ctx: dict[str, Any], party: str, penalty: dict[str, Any]) -> None:
    ctx["case"] = world.start("summary")
    organisation = PARTY[party] == "organisation"
    fields = {"entity_name": "宝山区悦来浴室" if organisation else "张某", "party_type": PARTY[party],
              "credit_code": CREDIT_CODE if organisation else "", "category": "public_places",
              "officers": [officer("officer1"), officer("officer2")],
              "violation": "未按规定对顾客用品用具进行清洗消毒", "violation_date": world.today.isoformat(),
              "legal_basis": "《公共场所卫生管理条例实施细则》第三十六条", "decided_on": world.today.isoformat(),
              "statement_heard": True, "violation_place": "宝山区友谊路1号", "violation_time": "10:30",
              "party_signed": True, **penalty}
    world.try_submit(ctx["case"], "summary_decision", fields)


@when(parsers.parse("对{party}当场处以罚款{amount}元"))
def fine(world: PenaltyWorld, ctx: dict[str, Any], party: str, amount: str) -> None:
    _decide(world, ctx, party, {"penalty_kinds": ["fine"], "fine": float(amount)})


@when(parsers.parse("对{party}当场给予警告"))
def warning(world: PenaltyWorld, ctx: dict[str, Any], party: str) -> None:
    _decide(world, ctx, party, {"penalty_kinds": ["warning"]})


@when(parsers.parse("对{party}当场处以吊销许可证件"))
def revoke(world: PenaltyWorld, ctx: dict[str, Any], party: str) -> None:
    _decide(world, ctx, party, {"penalty_kinds": ["licence_revocation"]})


@then(parsers.parse('结果为"{outcome}"'))
def outcome(world: PenaltyWorld, outcome: str) -> None:
    if outcome == "准予当场处罚":
        assert not world.errors, world.errors
    else:
        assert world.errors and "请适用一般程序" in str(world.errors[-1])


@then(parsers.parse('决定书编号为"{number}"'))
def number(world: PenaltyWorld, ctx: dict[str, Any], number: str) -> None:
    assert world.case(ctx["case"]).case_number == number


@when("负责人备案")
def filed(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    world.submit(ctx["case"], "file_summary", {"approved": True, "opinion": "已备案"})


@when(parsers.parse("当事人缴纳罚款{amount}元"))
def pays(world: PenaltyWorld, ctx: dict[str, Any], amount: str) -> None:
    world.submit(ctx["case"], "summary_payment", {"paid_on": world.today.isoformat(), "amount": float(amount)})

"""陈述申辩与听证申请: steps for reply_window.feature."""

from __future__ import annotations

from typing import Any

from pytest_bdd import given, parsers, scenarios, then, when

from processes.penalty.rule_overrides import set_rule
from processes.penalty.rules import rules_path
from processes.rule_catalogue import catalogue
from tests.penalty.driver import PenaltyWorld

scenarios("reply_window.feature")


@given(parsers.parse('陈述申辩期限设为"{days}"个工作日'))
def statement_period(world: PenaltyWorld, days: str) -> None:
    with world.factory() as session:
        set_rule(session, "admin1", "periods.statement_workdays", days, "测试：陈述申辩期限")
        session.commit()


@when(parsers.parse('当事人陈述申辩"{content}"'))
def statement(world: PenaltyWorld, ctx: dict[str, Any], content: str) -> None:
    world.errors.clear()
    world.try_submit(ctx["case"], "await_reply", {"kind": "statement", "content": content,
                                                   "received_on": world.today.isoformat()})


@when("当事人口头表示放弃")
def oral_waiver(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    world.try_submit(ctx["case"], "await_reply", {"kind": "waive", "waiver_signed": False})


@when("当事人书面放弃陈述申辩和听证")
def written_waiver(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    world.errors.clear()
    world.submit(ctx["case"], "await_reply", {"kind": "waive", "waiver_signed": True})


@then(parsers.parse('规则"{key}"标注为"{tag}"'))
def rule_tag(key: str, tag: str) -> None:
    entries = {e.key: e for s in catalogue(rules_path()) for e in s.entries}
    assert entries[key].tag == tag, entries[key].tag

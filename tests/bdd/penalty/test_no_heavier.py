"""不得加重处罚: steps for no_heavier.feature."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pytest_bdd import given, parsers, scenarios, then, when

from processes.penalty.law import PENALTY_KINDS
from tests.penalty.driver import SH, PenaltyWorld, at

scenarios("no_heavier.feature")

KINDS = {label: code for code, label in PENALTY_KINDS.items()}


@given("事先告知的处罚为警告并罚款5000元")
def notified(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    ctx["case"] = world.start()
    world.run_until(ctx["case"], "await_reply")
    assert world.case(ctx["case"]).notified_penalty["fine"] == 5000  # type: ignore[index]


@when("当事人提出陈述申辩")
def statement(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    world.submit(ctx["case"], "await_reply", {"kind": "statement", "content": "已主动整改，请求从轻处罚。"})
    task = world.task(ctx["case"], "await_reply")  # the window runs its course; then the review
    assert task.due_at is not None
    world.fire(at(task.due_at.astimezone(SH).date() + timedelta(days=1), 0, 0, 1))


@when("当事人放弃陈述申辩")
def waives(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    world.submit(ctx["case"], "await_reply", {"kind": "waive", "waiver_signed": True})


@when(parsers.parse('复核意见将罚款改为"{amount}"元'))
def review_amount(world: PenaltyWorld, ctx: dict[str, Any], amount: str) -> None:
    world.try_submit(ctx["case"], "review_statement", {"adopted": True, "fine": float(amount)})


@when(parsers.parse('复核意见增加处罚种类"{kind}"'))
def review_kind(world: PenaltyWorld, ctx: dict[str, Any], kind: str) -> None:
    world.try_submit(ctx["case"], "review_statement", {"penalty_kinds": ["warning", "fine", KINDS[kind]]})


@when(parsers.parse('决定罚款"{amount}"元'))
def decide(world: PenaltyWorld, ctx: dict[str, Any], amount: str) -> None:
    world.try_submit(ctx["case"], "draft_decision", {"penalty_kinds": ["warning", "fine"], "fine": float(amount)})


@then(parsers.parse('决定的处罚为"{text}"'))
def decided(world: PenaltyWorld, ctx: dict[str, Any], text: str) -> None:
    assert world.case(ctx["case"]).decided_penalty["text"] == text  # type: ignore[index]

"""案件编号: steps for numbering.feature (the concurrency test is tests/penalty/test_numbering.py)."""

from __future__ import annotations

from typing import Any

from pytest_bdd import parsers, scenarios, then, when

from processes.penalty.forms import CATEGORY_NAMES
from tests.penalty.driver import PenaltyWorld

scenarios("numbering.feature")

CODES = {name: code for code, name in CATEGORY_NAMES.items()}


def _file(world: PenaltyWorld, ctx: dict[str, Any], category: str, approved: bool = True) -> None:
    case_id = world.start()
    world.submit(case_id, "register_lead", {"category": CODES[category]})
    world.submit(case_id, "prepare_filing")
    world.submit(case_id, "approve_filing", {"approved": approved, "opinion": "同意" if approved else "证据不足"})
    ctx.setdefault("cases", []).append(case_id)


@when(parsers.parse('依次立案"{categories}"类案件'))
def file_many(world: PenaltyWorld, ctx: dict[str, Any], categories: str) -> None:
    for category in categories.split(","):
        _file(world, ctx, category)


@when(parsers.parse("立案一件{category}类案件"))
def file_one(world: PenaltyWorld, ctx: dict[str, Any], category: str) -> None:
    _file(world, ctx, category)


@when(parsers.parse("负责人对一件{category}类案源不予立案"))
def reject_one(world: PenaltyWorld, ctx: dict[str, Any], category: str) -> None:
    _file(world, ctx, category, approved=False)


@then(parsers.parse('案件编号依次为"{numbers}"'))
def numbers(world: PenaltyWorld, ctx: dict[str, Any], numbers: str) -> None:
    got = [world.case(c).case_number for c in ctx["cases"]]
    assert [n for n in got if n] == numbers.split(","), got

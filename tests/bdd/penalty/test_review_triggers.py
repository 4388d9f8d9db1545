"""法制审核、集体讨论: steps for review_triggers.feature."""

from __future__ import annotations

from typing import Any

from pytest_bdd import parsers, scenarios, then, when
from sqlalchemy import select

from engine.models import HumanTask
from tests.penalty.driver import PenaltyWorld

scenarios("review_triggers.feature")

@when("法制审核通过")
def review_passes(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    world.submit(ctx["case"], "legal_review")


@when(parsers.parse('法制审核未通过，理由为"{reasons}"'))
def review_fails(world: PenaltyWorld, ctx: dict[str, Any], reasons: str) -> None:
    world.submit(ctx["case"], "legal_review", {"passed": False, "opinion": "不同意", "reasons": reasons})


@then("没有经过法制审核")
def no_review(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    with world.factory() as session:
        names = session.scalars(select(HumanTask.task_name).where(
            HumanTask.instance_id == world.case(ctx["case"]).instance_id)).all()
    assert "legal_review" not in names and "collective_discussion" not in names


@then(parsers.parse('案件退回理由包含"{text}"'))
def returned(world: PenaltyWorld, ctx: dict[str, Any], text: str) -> None:
    assert text in (world.case(ctx["case"]).status_reason or "")

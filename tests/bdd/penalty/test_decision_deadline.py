"""九十日办案期限: steps for decision_deadline.feature."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError
from pytest_bdd import parsers, scenarios, then, when

from processes.penalty import request_extension
from tests.bdd.penalty.test_endings import approve as approve_ending
from tests.bdd.penalty.test_endings import request as request_ending_step
from tests.penalty.driver import OFFICER1, PenaltyWorld

scenarios("decision_deadline.feature")


@then(parsers.parse('办案期限是"{day}"'))
def decision_due(world: PenaltyWorld, ctx: dict[str, Any], day: str) -> None:
    due = world.case(ctx["case"]).decision_due
    assert due is not None and due.isoformat() == day


@when(parsers.parse('承办人申请延长办案期限，理由为"{reason}"'))
def ask_extension(world: PenaltyWorld, ctx: dict[str, Any], reason: str) -> None:
    world.errors.clear()
    try:
        with world.factory() as session:
            request_extension(session, OFFICER1, ctx["case"], reason, now=world.now)
            session.commit()
    except ValidationError as exc:
        world.errors.append(exc)
    world.drain()


@when("负责人批准延长办案期限")
def approve_extension(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    world.errors.clear()
    world.try_submit(ctx["case"], "approve_extension")


@when("负责人集体讨论决定延长办案期限")
def collective_extension(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    world.errors.clear()
    world.try_submit(ctx["case"], "approve_extension", {"collective_discussed": True})


@then(parsers.parse('延长记录在案，理由为"{reason}"'))
def extension_recorded(world: PenaltyWorld, ctx: dict[str, Any], reason: str) -> None:
    [extension] = world.case(ctx["case"]).extensions
    assert extension["reason"] == reason and extension["new_due"] == "2025-11-10"


@when(parsers.parse('承办人申请"{label}"，理由"{reason}"'))
def ask_ending(world: PenaltyWorld, ctx: dict[str, Any], label: str, reason: str) -> None:
    request_ending_step(world, ctx, label, reason)


@when("负责人批准结案申请")
def head_approves_ending(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    approve_ending(world, ctx)

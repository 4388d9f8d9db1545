"""九十日办案期限: steps for decision_deadline.feature."""

from __future__ import annotations

from typing import Any

from pytest_bdd import parsers, scenarios, then, when
from sqlalchemy import select

from processes.penalty import request_extension
from processes.penalty.models import DeadlineNotice
from tests.penalty.driver import OFFICER1, PenaltyWorld

scenarios("decision_deadline.feature")


@then(parsers.parse('办案期限是"{day}"'))
def decision_due(world: PenaltyWorld, ctx: dict[str, Any], day: str) -> None:
    due = world.case(ctx["case"]).decision_due
    assert due is not None and due.isoformat() == day


@then(parsers.parse('已发出提醒"{kind}"'))
def notice_sent(world: PenaltyWorld, ctx: dict[str, Any], kind: str) -> None:
    with world.factory() as session:
        kinds = session.scalars(select(DeadlineNotice.kind).where(DeadlineNotice.case_id == ctx["case"])).all()
    assert kind in kinds, kinds


@when(parsers.parse('承办人申请延长办案期限，理由为"{reason}"'))
def ask_extension(world: PenaltyWorld, ctx: dict[str, Any], reason: str) -> None:
    with world.factory() as session:
        request_extension(session, OFFICER1, ctx["case"], reason, now=world.now)
        session.commit()


@when("负责人批准延长办案期限")
def approve_extension(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    world.submit(ctx["case"], "approve_extension")


@then(parsers.parse('延长记录在案，理由为"{reason}"'))
def extension_recorded(world: PenaltyWorld, ctx: dict[str, Any], reason: str) -> None:
    [extension] = world.case(ctx["case"]).extensions
    assert extension["reason"] == reason and extension["new_due"] == "2025-11-10"

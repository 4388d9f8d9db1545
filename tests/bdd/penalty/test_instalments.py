"""分期缴纳: steps for instalments.feature."""

from __future__ import annotations

from typing import Any

from pytest_bdd import parsers, scenarios, then, when
from sqlalchemy import select

from processes.penalty.models import ExecutionEvent
from tests.bdd.penalty.conftest import record_execution
from tests.penalty.driver import PenaltyWorld

scenarios("instalments.feature")


@when("当事人申请分期缴纳：")
def apply_instalments(world: PenaltyWorld, ctx: dict[str, Any], datatable: list[list[str]]) -> None:
    plan = "\n".join(f"{day} {amount}" for day, amount in datatable[1:])
    record_execution(world, ctx, kind="instalments", plan=plan, note="当事人经营困难，申请分期缴纳")


@when("负责人批准分期缴纳")
def approve(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    world.submit(ctx["case"], "approve_arrangement", {"approved": True, "opinion": "同意分期缴纳"})


@when(parsers.parse('负责人不批准分期缴纳，理由为"{reason}"'))
def refuse(world: PenaltyWorld, ctx: dict[str, Any], reason: str) -> None:
    world.submit(ctx["case"], "approve_arrangement", {"approved": False, "opinion": reason})


def _application(world: PenaltyWorld, case_id: str) -> ExecutionEvent:
    with world.factory() as session:
        event = session.scalars(select(ExecutionEvent).where(ExecutionEvent.case_id == case_id,
                                                             ExecutionEvent.kind == "instalments")).one()
        session.expunge(event)
        return event


@then(parsers.parse('分期申请已批准，审批人为"{user_id}"'))
def approved(world: PenaltyWorld, ctx: dict[str, Any], user_id: str) -> None:
    event = _application(world, ctx["case"])
    assert event.approved is True and event.decided_by == user_id and event.decided_at is not None
    assert event.plan == [{"due_on": "2025-10-31", "amount_fen": 200000},
                          {"due_on": "2025-11-30", "amount_fen": 300000}]


@then(parsers.parse('分期申请未获批准，理由为"{reason}"'))
def refused_with(world: PenaltyWorld, ctx: dict[str, Any], reason: str) -> None:
    event = _application(world, ctx["case"])
    assert event.approved is False and event.decision_note == reason and event.decided_by == "head1"

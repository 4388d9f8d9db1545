"""法制审核、集体讨论: steps for review_triggers.feature."""

from __future__ import annotations

from datetime import date
from typing import Any

from pytest_bdd import given, parsers, scenarios, then, when
from sqlalchemy import select

from engine.models import HumanTask
from tests.bdd.penalty.conftest import report_with
from tests.penalty.driver import ACTORS, DEFAULTS, NAMES, PenaltyWorld

scenarios("review_triggers.feature")


@given(parsers.parse('调查终结报告拟对当事人限制开展生产经营活动并罚款"{amount}"元'))
def report_restriction(world: PenaltyWorld, amount: str) -> None:
    """限制开展生产经营活动 gives a hearing right (Art. 63) but is in no legal-review catalogue row."""
    penalty = {"penalty_kinds": ["business_restriction", "fine"], "fine": float(amount)}
    report_with(world, **penalty)
    opinion = DEFAULTS["record_opinion"]
    world.defaults["record_opinion"] = lambda w, n, t: {**opinion(w, n, t), **penalty}


@when("当事人要求听证并出席了听证")
def hearing_attended(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    case_id = ctx["case"]
    world.submit(case_id, "await_reply", {"kind": "hearing_request", "received_on": world.today.isoformat()})
    hearing_day = date(2025, 9, 15)  # more than 7 working days after the background's 2025-09-01
    world.submit(case_id, "schedule_hearing", {
        "chair_id": "officer4", "chair_name": NAMES["officer4"], "clerk_name": "书记员孙某",
        "hearing_date": hearing_day.isoformat(), "notice_sent_on": world.today.isoformat(),
        "location": "本委第一听证室"})
    world.set_day(hearing_day)
    notified = world.case(case_id).notified_penalty or {}
    task = world.task(case_id, "hold_hearing")
    assert task.assignee is not None
    world.submit(case_id, "hold_hearing", {
        "attended": True, "held_on": hearing_day.isoformat(), "record": "当事人到场陈述，出示了整改材料。",
        "chair_opinion": "维持拟处罚意见。", "signed_by": "陈明", "penalty_kinds": notified.get("kinds", []),
        "fine": notified.get("fine", 0)}, actor=ACTORS[task.assignee])

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

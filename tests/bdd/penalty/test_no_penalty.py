"""不予行政处罚: steps for no_penalty.feature."""

from __future__ import annotations

from typing import Any

from pytest_bdd import given, parsers, scenarios, then, when

from processes.penalty.forms import CONCLUSIONS
from tests.bdd.penalty.conftest import report_with
from tests.penalty.driver import DEFAULTS, PenaltyWorld

scenarios("no_penalty.feature")


@given("合议意见为不予处罚")
def no_penalty_opinion(world: PenaltyWorld) -> None:
    report_with(world, outcome="no_penalty", penalty_kinds=[], fine=0,
                no_penalty_reason="违法行为轻微并已当场改正，没有造成危害后果。")
    opinion = DEFAULTS["record_opinion"]
    world.defaults["record_opinion"] = lambda w, n, t: {**opinion(w, n, t), "outcome": "no_penalty",
                                                        "penalty_kinds": [], "fine": 0}


@when(parsers.parse('负责人决定"{label}"'))
def head_decides(world: PenaltyWorld, ctx: dict[str, Any], label: str) -> None:
    world.errors.clear()
    code = {v: k for k, v in CONCLUSIONS.items()}[label]
    world.try_submit(ctx["case"], "approve_decision", {"conclusion": code, "opinion": "同意"})


def _draft(world: PenaltyWorld, ctx: dict[str, Any], **fields: Any) -> None:
    world.errors.clear()
    world.try_submit(ctx["case"], "draft_no_penalty", fields)


@when(parsers.parse('制作不予行政处罚决定书：理由"{ground}"，责令"{deadline}"前改正'))
def draft(world: PenaltyWorld, ctx: dict[str, Any], ground: str, deadline: str) -> None:
    _draft(world, ctx, ground=ground, correction_ordered=True, correction_content="立即停止使用未取得执业证书的人员",
           correction_deadline=deadline)


@when(parsers.parse('制作不予行政处罚决定书：理由"{ground}"，责令改正但未写期限'))
def draft_no_deadline(world: PenaltyWorld, ctx: dict[str, Any], ground: str) -> None:
    _draft(world, ctx, ground=ground, correction_ordered=True, correction_content="立即改正", correction_deadline=None)


@when(parsers.parse('制作不予行政处罚决定书：理由"{ground}"，未记录教育情况'))
def draft_no_education(world: PenaltyWorld, ctx: dict[str, Any], ground: str) -> None:
    _draft(world, ctx, ground=ground, education="")


@when("整改复查认定当事人逾期未改正")
def not_corrected(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    world.errors.clear()
    world.try_submit(ctx["case"], "check_correction", {"checked_on": world.today.isoformat(), "corrected": False,
                                                       "findings": "现场复查，当事人仍未取得许可即开展诊疗活动"})


@then(parsers.parse('已为逾期未改正登记新的案源，发现日期"{day}"，并与本案相互关联'))
def follow_up_lead(world: PenaltyWorld, ctx: dict[str, Any], day: str) -> None:
    from sqlalchemy import select

    from engine import SYSTEM, instance_data
    from processes.penalty.models import PenaltyCase

    original = world.case(ctx["case"])
    with world.factory() as session:
        leads = [c for c in session.scalars(select(PenaltyCase)) if c.id != original.id]
        assert len(leads) == 1, [c.id for c in leads]
        lead = leads[0]
        prefill = instance_data(session, lead.instance_id, SYSTEM)["prefill"]
    assert lead.status == "lead" and lead.discovered_on is not None and lead.discovered_on.isoformat() == day
    assert lead.entity_name == original.entity_name and prefill["origin_case_id"] == original.id
    assert "逾期未改正" in prefill["suspected_violation"]
    assert "逾期未改正，已登记新的案源" in (original.status_reason or ""), original.status_reason

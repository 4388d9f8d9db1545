"""立案期限: steps for filing_period.feature (counted from discovery, the head's extension)."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError
from pytest_bdd import parsers, scenarios, then, when

from engine import Actor
from processes.penalty.hooks import form_defaults
from tests.penalty.driver import HEAD, OFFICER1, PenaltyWorld

scenarios("filing_period.feature")


@when(parsers.parse('执法人员登记案源，发现日期"{found}"，受理日期"{accepted}"'))
def register(world: PenaltyWorld, ctx: dict[str, Any], found: str, accepted: str) -> None:
    world.errors.clear()
    ctx["case"] = world.start()
    world.try_submit(ctx["case"], "register_lead", {"discovered_on": found, "accepted_on": accepted,
                                                    "violation_date": "2025-08-20"})


@when("负责人同意立案")
def approve(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    world.errors.clear()
    world.try_submit(ctx["case"], "approve_filing", {"approved": True, "opinion": "同意立案"})


@when(parsers.parse('负责人同意立案，并填写"{day}"批准延长立案期限'))
def approve_backdated(world: PenaltyWorld, ctx: dict[str, Any], day: str) -> None:
    """The form has no such field any more: a date typed afterwards is no proof of a timely approval."""
    world.errors.clear()
    world.try_submit(ctx["case"], "approve_filing", {"approved": True, "opinion": "同意立案",
                                                     "extension_approved_on": day, "extension_reason": "补填"})


@when(parsers.parse('负责人同意立案，超过期限的原因为"{reason}"'))
def approve_late(world: PenaltyWorld, ctx: dict[str, Any], reason: str) -> None:
    world.errors.clear()
    world.try_submit(ctx["case"], "approve_filing", {"approved": True, "opinion": "同意立案",
                                                     "overdue_reason": reason})


def _extend(world: PenaltyWorld, ctx: dict[str, Any], actor: Actor, reason: str) -> None:
    from processes.penalty import approve_filing_extension

    world.errors.clear()
    try:
        with world.factory() as session:
            approve_filing_extension(session, actor, ctx["case"], reason, now=world.now)
            session.commit()
    except ValidationError as exc:
        world.errors.append(exc)


@when(parsers.parse('负责人批准延长立案期限，理由"{reason}"'))
def head_extends(world: PenaltyWorld, ctx: dict[str, Any], reason: str) -> None:
    _extend(world, ctx, HEAD, reason)


@when(parsers.parse('承办人批准延长立案期限，理由"{reason}"'))
def officer_extends(world: PenaltyWorld, ctx: dict[str, Any], reason: str) -> None:
    _extend(world, ctx, OFFICER1, reason)


@then(parsers.parse('延长立案期限记录为"{day}"由"{who}"批准'))
def extension_recorded(world: PenaltyWorld, ctx: dict[str, Any], day: str, who: str) -> None:
    record = world.case(ctx["case"]).filing_extension or {}
    assert record.get("approved_on") == day and record.get("approved_by") == who, record


@then("系统拒绝")
def refused_any(world: PenaltyWorld) -> None:
    assert world.errors, "expected the system to refuse, but it accepted"


@then(parsers.parse('立案期限是"{day}"'))
def filing_due(world: PenaltyWorld, ctx: dict[str, Any], day: str) -> None:
    due = world.case(ctx["case"]).filing_due
    assert due is not None and due.isoformat() == day, due


@when(parsers.parse('投诉举报核查于"{day}"发现违法行为，登记为行政处罚案源'))
def lead_from_complaint(world: PenaltyWorld, ctx: dict[str, Any], day: str) -> None:
    """What complaints.open_penalty_lead hands to start_case (its verification day as discovery)."""
    ctx["case"] = world.start(prefill={"source": "complaint", "complaint_no": "TS20250901001",
                                       "discovered_on": day})


@when("双随机抽查发现涉嫌违法，今天移送登记为行政处罚案源")
def lead_from_inspection(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    ctx["case"] = world.start(prefill={"source": "random_inspection", "inspection_id": "insp-1"})


@then(parsers.parse('案源登记表预填的发现日期是"{day}"'))
def lead_form_discovery(world: PenaltyWorld, ctx: dict[str, Any], day: str) -> None:
    with world.factory() as session:
        defaults = form_defaults(session, world.case(ctx["case"]).instance_id, "register_lead")
    assert defaults.get("discovered_on") == day, defaults


@when(parsers.parse('执法人员登记该案源，发现日期"{found}"'))
def register_known(world: PenaltyWorld, ctx: dict[str, Any], found: str) -> None:
    world.errors.clear()
    world.try_submit(ctx["case"], "register_lead", {"discovered_on": found, "accepted_on": found,
                                                    "violation_date": "2025-08-20"})

"""立案期限: steps for filing_period.feature (counted from discovery, the head's extension)."""

from __future__ import annotations

from typing import Any

from pytest_bdd import parsers, scenarios, then, when

from tests.penalty.driver import PenaltyWorld

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


@when(parsers.parse('负责人同意立案，"{day}"批准延长立案期限，理由"{reason}"'))
def approve_extended(world: PenaltyWorld, ctx: dict[str, Any], day: str, reason: str) -> None:
    world.errors.clear()
    world.try_submit(ctx["case"], "approve_filing", {"approved": True, "opinion": "同意立案",
                                                     "extension_approved_on": day, "extension_reason": reason})


@then(parsers.parse('立案期限是"{day}"'))
def filing_due(world: PenaltyWorld, ctx: dict[str, Any], day: str) -> None:
    due = world.case(ctx["case"]).filing_due
    assert due is not None and due.isoformat() == day, due

"""移送、撤销立案、终止调查: steps for endings.feature."""

from __future__ import annotations

from typing import Any

from pytest_bdd import parsers, scenarios, then, when

from processes.penalty import request_ending
from processes.penalty.forms_endings import ENDING_KINDS
from tests.penalty.driver import ACTORS, NAMES, OFFICER1, PenaltyWorld

scenarios("endings.feature")


@when(parsers.parse('承办人申请"{label}"，理由"{reason}"'))
def request(world: PenaltyWorld, ctx: dict[str, Any], label: str, reason: str) -> None:
    world.errors.clear()
    kind = {v: k for k, v in ENDING_KINDS.items()}[label]
    receiver = {"police": "上海市公安局宝山分局", "agency": "上海市浦东新区卫生健康委员会"}.get(kind, "")
    try:
        with world.factory() as session:
            request_ending(session, OFFICER1, ctx["case"], kind, reason, receiver=receiver, now=world.now)
            session.commit()
    except Exception as exc:
        world.errors.append(exc)
    world.drain()


@when(parsers.parse('承办人申请"{label}"但未写理由'))
def request_without_reason(world: PenaltyWorld, ctx: dict[str, Any], label: str) -> None:
    request(world, ctx, label, "  ")


@when("负责人批准结案申请")
def approve(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    world.submit(ctx["case"], "approve_ending", {"approved": True, "opinion": "同意"})


@when("负责人不批准结案申请")
def refuse(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    world.submit(ctx["case"], "approve_ending", {"approved": False, "opinion": "证据不足以认定涉嫌犯罪，继续调查"})


def _receipt(world: PenaltyWorld, ctx: dict[str, Any], moment: str, **fields: str) -> None:
    day, clock = moment.split(" ")
    world.errors.clear()
    world.try_submit(ctx["case"], "record_transfer_receipt",
                     {"handed_over_on": day, "handed_over_time": clock, **fields})


@when(parsers.parse('登记移送回执："{moment}"移送，接收人"{who}"，回执编号"{number}"'))
def receipt(world: PenaltyWorld, ctx: dict[str, Any], moment: str, who: str, number: str) -> None:
    _receipt(world, ctx, moment, received_by=who, receipt_no=number)


@when(parsers.parse('登记移送回执："{moment}"移送，接收人"{who}"，回执编号"{number}"，逾期原因"{reason}"'))
def late_receipt(world: PenaltyWorld, ctx: dict[str, Any], moment: str, who: str, number: str, reason: str) -> None:
    _receipt(world, ctx, moment, received_by=who, receipt_no=number, overdue_reason=reason)


@when(parsers.parse('登记移送回执："{moment}"移送，未写接收人和回执编号'))
def receipt_without_receiver(world: PenaltyWorld, ctx: dict[str, Any], moment: str) -> None:
    _receipt(world, ctx, moment)


@when(parsers.parse('登记移送回执："{moment}"移送，接收人"{who}"，未写回执编号'))
def receipt_without_number(world: PenaltyWorld, ctx: dict[str, Any], moment: str, who: str) -> None:
    _receipt(world, ctx, moment, received_by=who)


@then(parsers.parse('负责人收到逾期移送的报告"{reason}"'))
def late_transfer_reported(world: PenaltyWorld, ctx: dict[str, Any], reason: str) -> None:
    from sqlalchemy import select

    from processes.penalty.models import DeadlineNotice

    with world.factory() as session:
        notices = list(session.scalars(select(DeadlineNotice).where(DeadlineNotice.case_id == ctx["case"],
                                                                    DeadlineNotice.kind == "transferred_late")))
    assert [n.role for n in notices] == ["head"] and reason in notices[0].message, [n.message for n in notices]


@then("案件没有待办任务")
def no_tasks(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    assert world.ready_names(ctx["case"]) == []
    assert world.instance(ctx["case"]).status == "completed", world.instance(ctx["case"]).status


@when(parsers.parse('重新办理"{title}"'))
def redo_task(world: PenaltyWorld, ctx: dict[str, Any], title: str) -> None:
    from tests.bdd.penalty.conftest import task_id

    world.errors.clear()
    world.try_submit(ctx["case"], task_id(title))


@when("本案在负责人决定前已作出处罚决定（本规则施行前办理的案件）")
def decided_before_the_rule(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    """A case already in the register in this state (the decision form did not yet refuse)."""
    from processes.penalty.models import PenaltyCase

    with world.factory() as session:
        case = session.get(PenaltyCase, ctx["case"])
        assert case is not None
        case.decided_on, case.status = world.today, "decided"
        session.commit()


@when("负责人试图批准结案申请")
def try_approve(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    world.errors.clear()
    world.try_submit(ctx["case"], "approve_ending", {"approved": True, "opinion": "同意"})


@then("案件没有处罚决定")
def no_decision(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    case = world.case(ctx["case"])
    assert case.decided_on is None and case.decided_penalty is None, (case.decided_on, case.decided_penalty)


@then(parsers.parse('案卷已归档，含"{title}"'))
def archived(world: PenaltyWorld, ctx: dict[str, Any], title: str) -> None:
    import io
    import zipfile

    from sqlalchemy import select

    from processes.penalty.models import CaseArchive
    from processes.penalty.storage import load_blob

    with world.factory() as session:
        row = session.scalar(select(CaseArchive).where(CaseArchive.case_id == ctx["case"]))
        assert row is not None, "the case was not archived"
        names = zipfile.ZipFile(io.BytesIO(load_blob(session, row.sha256))).namelist()
    assert any(title in name for name in names), names
    assert all(name.count("/") == 1 for name in names if name.startswith("documents/")), names  # no stray folders
    assert "case-card.json" in names and "audit/audit-trail.json" in names, names


@then(parsers.parse('结案日期是"{closed}"，第二次报告期限是"{due}"'))
def closed_and_card_due(world: PenaltyWorld, ctx: dict[str, Any], closed: str, due: str) -> None:
    case = world.case(ctx["case"])
    assert case.closed_on is not None and case.closed_on.isoformat() == closed, case.closed_on
    assert case.card_second_due is not None and case.card_second_due.isoformat() == due, case.card_second_due


@when(parsers.parse('副职负责人"{name}"批准结案申请'))
def deputy_approves(world: PenaltyWorld, ctx: dict[str, Any], name: str) -> None:
    _deputy_decides(world, ctx, name, {"approved": True, "opinion": "同意"})


@when(parsers.parse('副职负责人"{name}"不批准结案申请'))
def deputy_refuses(world: PenaltyWorld, ctx: dict[str, Any], name: str) -> None:
    _deputy_decides(world, ctx, name, {"approved": False, "opinion": "证据不足，继续调查"})


def _deputy_decides(world: PenaltyWorld, ctx: dict[str, Any], name: str, fields: dict[str, Any]) -> None:
    user_id = {n: u for u, n in NAMES.items()}[name]
    assert "chief_head" not in ACTORS[user_id].roles and "head" in ACTORS[user_id].roles
    world.errors.clear()
    world.try_submit(ctx["case"], "approve_ending", fields, actor=ACTORS[user_id])

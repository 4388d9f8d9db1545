"""一案一卡两次报告: steps for casecard_report.feature."""

from __future__ import annotations

from datetime import date
from typing import Any

from pytest_bdd import parsers, scenarios, then, when

from processes.penalty.casecard import case_card, case_cards
from processes.penalty.reporting import REPORTS, card_sha256, record_reports, reports_due, reports_of
from tests.penalty.driver import PenaltyWorld

scenarios("casecard_report.feature")
REPORT_KEYS = {"第一次报告": "first", "第二次报告": "second"}


def _due(world: PenaltyWorld, ctx: dict[str, Any], report: str, *, only_overdue: bool = False) -> list[Any]:
    with world.factory() as session:
        return [r for r in reports_due(session, today=world.today, report=REPORT_KEYS[report],
                                       only_overdue=only_overdue) if r.case.id == ctx["case"]]


@then(parsers.parse('"{report}"的期限是"{day}"'))
def report_due(world: PenaltyWorld, ctx: dict[str, Any], report: str, day: str) -> None:
    [item] = _due(world, ctx, report)
    assert item.due.isoformat() == day


@then(parsers.parse('"{report}"的状态为"{label}"'))
def report_state(world: PenaltyWorld, ctx: dict[str, Any], report: str, label: str) -> None:
    [item] = _due(world, ctx, report)
    assert item.state_label == label, item.state_label


@then(parsers.parse('逾期未报告清单包括本案的"{report}"'))
def overdue_listed(world: PenaltyWorld, ctx: dict[str, Any], report: str) -> None:
    assert len(_due(world, ctx, report, only_overdue=True)) == 1


@then("逾期未报告清单不包括本案")
def overdue_not_listed(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    assert not any(_due(world, ctx, report, only_overdue=True) for report in REPORT_KEYS)


@when(parsers.parse('"{user_id}"报告本案的"{report}"'))
def make_report(world: PenaltyWorld, ctx: dict[str, Any], user_id: str, report: str) -> None:
    try:
        with world.factory() as session:
            record_reports(session, user_id, [ctx["case"]], REPORT_KEYS[report], now=world.now)
            session.commit()
    except Exception as exc:
        world.errors.append(exc)


@then(parsers.parse('报告记录的报告人为"{user_id}"，卡片摘要与本案卡片一致'))
def report_recorded(world: PenaltyWorld, ctx: dict[str, Any], user_id: str) -> None:
    with world.factory() as session:
        [row] = reports_of(session, ctx["case"])
    assert row.reported_by == user_id and row.reported_on == world.today and row.report in REPORTS
    assert row.card_sha256 == card_sha256(case_card(world.case(ctx["case"])))


@when("当事人缴清罚款并结案")
def pay_and_close(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    world.submit(ctx["case"], "record_execution", {"kind": "payment", "occurred_on": world.today.isoformat(),
                                                   "amount": 5000})
    world.submit(ctx["case"], "closing_report")
    world.submit(ctx["case"], "approve_closing")
    assert world.case(ctx["case"]).closed_on == world.today


@then(parsers.parse('按"{report}"导出{start}至{end}的案件卡片包括本案'))
def exported(world: PenaltyWorld, ctx: dict[str, Any], report: str, start: str, end: str) -> None:
    number = world.case(ctx["case"]).case_number
    with world.factory() as session:
        cards = case_cards(session, date_from=date.fromisoformat(start), date_to=date.fromisoformat(end),
                           report=REPORT_KEYS[report])
        first = case_cards(session, date_from=date.fromisoformat(start), date_to=date.fromisoformat(end),
                           report="first")
    assert [c["case_number"] for c in cards] == [number]
    assert first == []  # served on 2025-09-30, outside the range

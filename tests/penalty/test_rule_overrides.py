"""Administrators change rules.toml values and DMN tables in the database: new cases use them,
running cases keep what they started with, bad input is refused naming the entry (or the row
and column) and writes nothing, a deploy of the files keeps the admin's tables, and every change
is in the verifiable audit trail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from engine import Actor, InvalidDefinition, deploy, latest_definition, verify_audit
from engine.models import AuditEvent, ProcessDefinition
from engine.scripting import load_calendar
from processes.penalty.dmn_overrides import PENALTY_DIR, current_table, deploy_processes, reset_table, save_table
from processes.penalty.dmn_tables import DmnTableError, read_table, same_rows
from processes.penalty.rule_overrides import (
    DmnOverride,
    LawConfirmationRequired,
    RuleOverride,
    RuleValueError,
    effective_rules,
    reset_rule,
    rules_for_case,
    set_rule,
)
from tests.penalty.driver import PenaltyWorld

ADMIN = Actor.of("admin1", ["admin"], [])
PROCESSES_DIR = Path(__file__).resolve().parents[2] / "processes"


def _rows(world: PenaltyWorld, file_name: str) -> list[dict[str, Any]]:
    with world.factory() as session:
        table, _row = current_table(session, file_name)
    return [{"description": r.description, "inputs": list(r.inputs), "outputs": list(r.outputs)} for r in table.rows]


def _org_fine_row(rows: list[dict[str, Any]]) -> int:
    return next(i for i, r in enumerate(rows) if r["inputs"][1] == "'organisation'" and r["inputs"][2] != "-")


def test_a_new_payment_period_reaches_new_cases_and_running_cases_keep_theirs(world: PenaltyWorld) -> None:
    world.set_day("2025-09-01")
    running = world.start()
    with world.factory() as session:
        set_rule(session, "admin1", "periods.payment_days", "30", "省政府规章调整（测试）", confirm_law=True)
        session.commit()
        assert effective_rules(session).periods.payment_days == 30
    later = world.start()
    for case_id in (running, later):
        world.run_until(case_id, "record_execution")
    old, new = world.case(running), world.case(later)
    served = old.served_on
    assert served is not None and new.served_on == served
    with world.factory() as session:
        calendar = load_calendar(session)  # Art. 85: a period ending on a holiday rolls over
        assert old.payment_due == calendar.add_days(served, 15).due
        assert new.payment_due == calendar.add_days(served, 30).due != old.payment_due
        assert rules_for_case(session, running).periods.payment_days == 15
        assert rules_for_case(session, later).periods.payment_days == 30
        assert verify_audit(session).ok
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "penalty_rule_changed"))
        assert event is not None and event.actor == "admin1"
        assert event.data["old"] == 15 and event.data["new"] == 30 and event.data["confirmed_law"] is True


@pytest.mark.parametrize(("key", "value", "message"), [
    ("periods.payment_days", "0", "不小于1"),
    ("periods.payment_days", "fifteen", "整数"),
    ("periods.filing_workdays", "7.5", "整数"),
    ("surcharge.daily_rate", "1.5", "不大于1"),
    ("surcharge.daily_rate", "abc", "数字"),
    ("summary.max_fine_person", "-1", "负数"),
    ("summary.max_fine_person", "200.001", "两位小数"),
    ("categories.medical", "医疗", "一个汉字"),
    ("categories.medical", "M", "一个汉字"),
    ("numbering.case_number", "{unit}卫{category}罚{n}号", "{year}"),
    ("numbering.case_number", "{unit}卫{category}罚〔{year}〕号", "{n}"),
    ("numbering.case_number", "{unit}{oops}〔{year}〕{n}号", "只能使用"),
    ("periods.preservation_reminder_workdays_before", "7", "冲突"),
    ("no_such.entry", "1", "没有这项配置"),
])
def test_invalid_values_are_refused_and_nothing_is_written(world: PenaltyWorld, key: str, value: str,
                                                           message: str) -> None:
    with world.factory() as session:
        with pytest.raises(RuleValueError) as refused:
            set_rule(session, "admin1", key, value, "测试", confirm_law=True)
        assert message in refused.value.message and refused.value.key == key
        session.rollback()
        assert session.scalar(select(func.count()).select_from(RuleOverride)) == 0
        assert session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action.like("penalty_rule%"))) == 0


def test_law_values_need_confirmation_and_a_reason_and_reset_goes_back_to_the_file(world: PenaltyWorld) -> None:
    with world.factory() as session:
        with pytest.raises(LawConfirmationRequired):
            set_rule(session, "admin1", "periods.hearing_request_workdays", "6", "测试")
        with pytest.raises(RuleValueError, match="理由"):
            set_rule(session, "admin1", "periods.filing_workdays", "10", "  ")
        with pytest.raises(RuleValueError, match="默认值"):
            reset_rule(session, "admin1", "periods.filing_workdays", "测试")
        set_rule(session, "admin1", "periods.filing_workdays", "10", "本省规定十个工作日")  # [practice]
        set_rule(session, "admin1", "numbering.case_number", "{unit}卫{category}罚字〔{year}〕第{n}号", "新文书规范")
        session.commit()
        rules = effective_rules(session)
        assert rules.periods.filing_workdays == 10 and "罚字" in rules.numbering.case_number
        reset_rule(session, "admin1", "periods.filing_workdays", "恢复默认")
        session.commit()
        assert effective_rules(session).periods.filing_workdays == 7
        history = list(session.scalars(select(RuleOverride).where(RuleOverride.key == "periods.filing_workdays")
                                       .order_by(RuleOverride.id)))
        assert [(h.previous, h.value) for h in history] == [(7, 10), (10, None)]
        assert verify_audit(session).ok


def test_a_lower_hearing_threshold_gives_new_cases_the_hearing_right(world: PenaltyWorld) -> None:
    world.set_day("2025-09-01")
    running = world.start()  # started under the file's table: organisations from 100,000 yuan
    rows = _rows(world, "hearing_right.dmn")
    index = _org_fine_row(rows)
    assert rows[index]["inputs"][2] == ">= 100000"
    rows[index]["inputs"][2] = ">= 3000"
    with world.factory() as session:
        before = session.scalar(select(func.count()).select_from(ProcessDefinition)) or 0
        row = save_table(session, ADMIN, "hearing_right.dmn", rows, "本省较大数额标准下调（测试）")
        session.commit()
        assert row.versions["penalty_ordinary"] == 2
        assert session.scalar(select(func.count()).select_from(ProcessDefinition)) == before + 3
    later = world.start()
    for case_id in (running, later):
        world.run_until(case_id, "serve_prior_notice")
    assert world.case(running).hearing_right is False  # fine 5,000 yuan, old table
    assert world.case(later).hearing_right is True  # fine 5,000 yuan, new table
    with world.factory() as session:
        assert verify_audit(session).ok
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "penalty_dmn_changed"))
        assert event is not None and event.data["old_sha256"] != event.data["new_sha256"]
        assert event.data["new_sha256"] == row.sha256


def test_redeploying_the_files_keeps_the_admins_table_until_reset(world: PenaltyWorld) -> None:
    rows = _rows(world, "hearing_right.dmn")
    rows[_org_fine_row(rows)]["inputs"][2] = ">= 50000"
    with world.factory() as session:
        save_table(session, ADMIN, "hearing_right.dmn", rows, "测试")
        session.commit()
        version = latest_definition(session, "penalty_ordinary").version
        deploy_processes(session, PROCESSES_DIR, ADMIN)  # what `weijian deploy` runs
        session.commit()
        latest = latest_definition(session, "penalty_ordinary")
        assert latest.version == version  # same bundle: nothing new, nothing reverted
        assert "&gt;= 50000" in latest.sources["hearing_right.dmn"]
        reset_table(session, ADMIN, "hearing_right.dmn", "恢复文件版本")
        session.commit()
        latest = latest_definition(session, "penalty_ordinary")
        assert latest.version == version + 1
        deployed = read_table(latest.sources["hearing_right.dmn"].encode(), "hearing_right.dmn")
        assert same_rows(deployed, read_table((PENALTY_DIR / "hearing_right.dmn").read_bytes(), "hearing_right.dmn"))
        deploy_processes(session, PROCESSES_DIR, ADMIN)
        assert latest_definition(session, "penalty_ordinary").version == version + 1
        assert verify_audit(session).ok


def test_the_deploy_command_keeps_the_admins_table(world: PenaltyWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from web.cli import main

    rows = _rows(world, "legal_review.dmn")
    rows[-2]["inputs"][-1] = ">= 80000"
    with world.factory() as session:
        save_table(session, ADMIN, "legal_review.dmn", rows, "测试")
        session.commit()
        url = session.get_bind().engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("DATABASE_URL", url)
    result = CliRunner().invoke(main, ["deploy"])
    assert result.exit_code == 0, result.output
    with world.factory() as session:
        assert "&gt;= 80000" in latest_definition(session, "penalty_ordinary").sources["legal_review.dmn"]


@pytest.mark.parametrize(("cell", "value", "message"), [
    ((5, "inputs", 2), ">= abc", "未知的名称"),
    ((5, "inputs", 2), "__import__('os').system('id')", "不被允许"),
    ((5, "inputs", 2), ">= (", "不被允许或者有语法错误"),
    ((5, "inputs", 2), ">= len('x' * 10**10)", "script refused"),
    ((5, "inputs", 2), ">= sum(range(10**15))", "script refused"),
    ((5, "outputs", 0), "'yes'", "True 或 False"),
    ((5, "outputs", 1), "", "不能为空"),
    ((8, "inputs", 0), "'licence_revocation' in ?", "兜底行"),
])
def test_bad_table_cells_are_refused_naming_row_and_column(world: PenaltyWorld, cell: tuple[int, str, int],
                                                           value: str, message: str) -> None:
    rows = _rows(world, "hearing_right.dmn")
    row, part, column = cell
    rows[row][part][column] = value
    with world.factory() as session:
        before = session.scalar(select(func.count()).select_from(ProcessDefinition))
        with pytest.raises(DmnTableError) as refused:
            save_table(session, ADMIN, "hearing_right.dmn", rows, "测试")
        session.rollback()
        assert message in str(refused.value) and refused.value.row == row + 1
        assert f"第{row + 1}行" in str(refused.value)
        assert session.scalar(select(func.count()).select_from(DmnOverride)) == 0
        assert session.scalar(select(func.count()).select_from(ProcessDefinition)) == before


def test_a_table_needs_a_reason_and_the_right_number_of_cells(world: PenaltyWorld) -> None:
    rows = _rows(world, "collective_discussion.dmn")
    with world.factory() as session:
        with pytest.raises(DmnTableError, match="理由"):
            save_table(session, ADMIN, "collective_discussion.dmn", rows, "")
        with pytest.raises(DmnTableError, match="没有变化"):
            save_table(session, ADMIN, "collective_discussion.dmn", rows, "测试")
        rows[0]["inputs"] = rows[0]["inputs"][:-1]
        with pytest.raises(DmnTableError, match="第1行"):
            save_table(session, ADMIN, "collective_discussion.dmn", rows, "测试")
        with pytest.raises(DmnTableError, match="不是可编辑"):
            save_table(session, ADMIN, "../rules.toml", rows, "测试")


def test_the_engine_refuses_a_decision_table_expression_the_sandbox_refuses(world: PenaltyWorld) -> None:
    files = {p.name: p.read_bytes() for p in PENALTY_DIR.iterdir() if p.suffix in (".bpmn", ".dmn")}
    files["hearing_right.dmn"] = files["hearing_right.dmn"].replace(
        b"&gt;= 100000", b"&gt;= ().__class__.__bases__[0]", 1)
    with world.factory() as session, pytest.raises(InvalidDefinition) as refused:
        deploy(session, files, ADMIN)
    assert "hearing_right.dmn" in str(refused.value) and "refused" in str(refused.value)


def test_old_cases_without_a_snapshot_get_the_rules_in_force(world: PenaltyWorld) -> None:
    from processes.penalty.rule_overrides import CaseRules

    case_id = world.start()
    with world.factory() as session:
        session.delete(session.get(CaseRules, case_id))
        set_rule(session, "admin1", "periods.filing_workdays", "9", "测试")
        session.commit()
        assert rules_for_case(session, case_id).periods.filing_workdays == 9


def test_going_back_to_an_earlier_table_makes_a_new_newest_version(world: PenaltyWorld) -> None:
    rows = _rows(world, "hearing_right.dmn")
    index = _org_fine_row(rows)
    with world.factory() as session:
        for threshold in (">= 3000", ">= 100000"):
            rows[index]["inputs"][2] = threshold
            save_table(session, ADMIN, "hearing_right.dmn", rows, "测试")
            session.commit()
        latest = latest_definition(session, "penalty_ordinary")
        assert latest.version == 3 and "&gt;= 100000" in latest.sources["hearing_right.dmn"]


def test_overrides_on_postgresql(pg_url: str) -> None:
    """The same rows on the scale-out database (JSON nulls for resets, latest row per key)."""
    from sqlalchemy.orm import Session

    from engine.dbconnect import make_engine

    engine = make_engine(pg_url)
    try:
        with Session(engine) as session:
            set_rule(session, "admin1", "periods.filing_workdays", "9", "测试")
            set_rule(session, "admin1", "periods.filing_workdays", "11", "测试")
            session.commit()
            assert effective_rules(session).periods.filing_workdays == 11
            reset_rule(session, "admin1", "periods.filing_workdays", "恢复")
            session.commit()
            assert effective_rules(session).periods.filing_workdays == 7
            rows: list[dict[str, Any]] = [
                {"description": r.description, "inputs": list(r.inputs), "outputs": list(r.outputs)}
                for r in current_table(session, "collective_discussion.dmn")[0].rows]
            rows[3]["inputs"][4] = ">= 20000"
            save_table(session, ADMIN, "collective_discussion.dmn", rows, "测试")
            session.commit()
            assert current_table(session, "collective_discussion.dmn")[0].rows[3].inputs[4] == ">= 20000"
            assert verify_audit(session).ok
    finally:
        engine.dispose()

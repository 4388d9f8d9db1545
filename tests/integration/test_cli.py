"""The ``weijian`` command: schema, deployment, timers, with clear errors for bad input."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, inspect, select
from sqlalchemy.orm import Session

from engine.models import ProcessDefinition
from tests.engine_helpers import FIXTURES
from web.cli import main


@pytest.fixture
def fresh_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def test_db_upgrade_creates_the_schema_then_deploy_is_idempotent(fresh_db: str, tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    engine = create_engine(fresh_db)
    assert {"process_instance", "human_task", "audit_event", "signing_record"} <= set(inspect(engine).get_table_names())
    first = runner.invoke(main, ["deploy", str(FIXTURES / "lead")])
    again = runner.invoke(main, ["deploy", str(FIXTURES / "lead")])
    assert first.exit_code == 0 and "case_lead v1" in first.output
    assert again.exit_code == 0 and "case_lead v1" in again.output
    with Session(engine) as session:
        assert len(session.scalars(select(ProcessDefinition)).all()) == 1
    engine.dispose()


def test_deploy_of_broken_bpmn_exits_1_naming_file_and_element(fresh_db: str, tmp_path: Path) -> None:
    runner = CliRunner()
    runner.invoke(main, ["db", "upgrade"])
    bad = tmp_path / "bad"
    bad.mkdir()
    xml = (FIXTURES / "lead" / "lead.bpmn").read_text().replace('targetRef="approve"', 'targetRef="nowhere"')
    (bad / "lead.bpmn").write_text(xml)
    result = runner.invoke(main, ["deploy", str(bad)])
    assert result.exit_code == 1
    assert "lead.bpmn" in result.output and "f_serious" in result.output


def test_timers_fire_reports_what_it_did(fresh_db: str) -> None:
    runner = CliRunner()
    runner.invoke(main, ["db", "upgrade"])
    result = runner.invoke(main, ["timers", "fire"])
    assert result.exit_code == 0 and "fired 0 instance(s)" in result.output


def test_calendar_enter_show_and_correct_from_the_shell(fresh_db: str) -> None:
    """An administrator enters a (made-up) 2027 arrangement with ranges, sees it, corrects a day;
    a non-administrator and a bad date are refused with exit 1 and nothing written."""
    from engine import load_calendar
    from engine.models import CalendarOverride

    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(main, ["units", "create", "610000", "--name", "陕西省卫生健康委员会卫生监督所",
                                "--level", "province", "--region", "610000"]).exit_code == 0
    for login, roles in (("admin", "admin"), ("clerk", "complaint_clerk")):
        made = runner.invoke(main, ["users", "create", login, "--name", login, "--unit", "610000", "--roles", roles,
                                    "--password", "correct-horse-42"])
        assert made.exit_code == 0, made.output
    args = ["calendar", "enter", "2027", "--off", "2027-01-01", "--off", "2027-02-06..2027-02-12",
            "--on", "2027-02-20", "--note", "测试用安排（非国务院通知）"]
    refused = runner.invoke(main, [*args, "--as", "clerk"])
    assert refused.exit_code == 1 and "只有管理员" in refused.output
    bad = runner.invoke(main, ["calendar", "enter", "2027", "--off", "2027-02-30", "--note", "x", "--as", "admin"])
    assert bad.exit_code != 0 and "2027-02-30" in bad.output
    engine = create_engine(fresh_db)
    with Session(engine) as session:
        assert session.scalars(select(CalendarOverride)).all() == []
    entered = runner.invoke(main, [*args, "--as", "admin"])
    assert entered.exit_code == 0, entered.output
    assert "8 days off, 1 make-up days" in entered.output
    shown = runner.invoke(main, ["calendar", "show", "2027"])
    assert "2027  entered" in shown.output and "off  2027-02-12" in shown.output and "work 2027-02-20" in shown.output
    corrected = runner.invoke(main, ["calendar", "correct", "2027-02-15", "--day-off", "--note", "补充通知",
                                     "--as", "admin"])
    assert corrected.exit_code == 0, corrected.output
    with Session(engine) as session:
        calendar = load_calendar(session)
        assert calendar.knows_year(2027) and not calendar.is_workday(date(2027, 2, 15))  # a Monday
        assert calendar.is_workday(date(2027, 2, 20)) and not calendar.is_workday(date(2027, 2, 8))
    engine.dispose()

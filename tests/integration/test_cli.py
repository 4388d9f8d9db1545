"""The ``weijian`` command: schema, deployment, timers, with clear errors for bad input."""

from __future__ import annotations

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

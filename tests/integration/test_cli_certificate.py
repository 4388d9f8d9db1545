"""``weijian users create --certificate-valid-until``: an officer's certificate validity from the shell,
after the migrations have built the schema; a date that is not one is refused and nobody is created."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from processes.directory.models import User
from web.cli import main


@pytest.fixture
def fresh_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def test_an_officer_is_created_with_the_certificate_validity_and_a_bad_date_is_refused(fresh_db: str) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(main, ["units", "create", "610000", "--name", "陕西省卫生健康委员会卫生监督所",
                                "--level", "province", "--region", "610000"]).exit_code == 0
    officer = ["users", "create", "zhang.wei", "--name", "张伟", "--unit", "610000", "--roles", "officer",
               "--certificate", "61030220180012", "--password", "correct-horse-42"]
    refused = runner.invoke(main, [*officer, "--certificate-valid-until", "2028-02-30"])
    assert refused.exit_code == 1 and "执法证有效期请按YYYY-MM-DD填写" in refused.output
    engine = create_engine(fresh_db)
    with Session(engine) as session:
        assert session.scalars(select(User)).all() == []
    made = runner.invoke(main, [*officer, "--certificate-valid-until", "2028-12-31"])
    assert made.exit_code == 0, made.output
    with Session(engine) as session:
        user = session.get(User, "zhang.wei")
        assert user is not None and user.certificate_valid_until == date(2028, 12, 31)
    engine.dispose()

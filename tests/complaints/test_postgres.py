"""On PostgreSQL: a citizen files, the clerk lists and classifies, tracking answers the right code
and refuses a wrong one the same way as an unknown number; the identity is stored encrypted."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from engine import deploy_directory
from engine.actor import SYSTEM
from engine.dbconnect import make_engine
from engine.models import HumanTask
from processes.complaints import ListFilters, TrackingRefused, list_complaints, submit_public, submit_task, track
from tests.complaints.driver import CLERK

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.postgres
def test_file_list_classify_and_track_on_postgres(pg_url: str) -> None:
    engine = make_engine(pg_url)
    try:
        with Session(engine) as session:
            deploy_directory(session, ROOT / "processes" / "complaints", SYSTEM)
            number, code = submit_public(session, unit_id="610300", facts="游泳池水质浑浊，疑似未消毒。",
                                         target_name="金台区悦来宾馆",
                                         identity={"name": "李公民", "phone": "13900000000"},
                                         reply_channel="sms")
            session.commit()
        with Session(engine) as session:
            rows, total = list_complaints(session, CLERK, ListFilters(target="悦来"))
            assert total == 1 and rows[0]["tracking_no"] == number and "李公民" not in str(rows)
            task = session.scalar(select(HumanTask).where(HumanTask.status == "ready"))
            assert task is not None and task.task_name == "classify"
            submit_task(session, task.id, CLERK, {"kind": "report"})
            session.commit()
            assert "李公民" not in str(list(session.execute(text("SELECT identity_token FROM complaint"))))
        with Session(engine) as session:
            assert track(session, number, code).tracking_no == number
            answers = set()
            for args in ((number, "WRONGWRONG22"), ("TS20990101000000", code)):
                with pytest.raises(TrackingRefused) as caught:
                    track(session, *args)
                answers.add(str(caught.value))
            assert len(answers) == 1
    finally:
        engine.dispose()

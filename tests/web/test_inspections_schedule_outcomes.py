"""Issue 12: the schedules page says in Chinese how each period ran (on time, caught up after the
scheduler was down and how late, missed beyond the grace, run now), and in English for a person
who chose English; never the stored codes such as "done (catch_up)"."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.scripting import load_calendar
from processes.inspections import plans, recurrence, scheduling
from processes.inspections.models import ScheduleRun
from tests.web.conftest import actor
from tests.web.inspections_flow import draft_plan, setup_inspections

SPEC = "quarterly first-workday 08:00"
START = datetime(2025, 9, 1, 1, 0, tzinfo=scheduling.CHINA_TZ)


@pytest.fixture
def world(app: Flask, session: Session) -> Session:
    setup_inspections(session)
    return session


def _schedule(session: Session) -> int:
    template = draft_plan(session, kind="quarterly")
    plans.publish_plan(session, template.id, "head.a", START)
    row = scheduling.create_schedule(session, actor(session, "officer.a"), name="季度抽查",
                                     template_plan_id=template.id, recurrence_spec=SPEC, grace_hours=72, now=START)
    session.commit()
    return row.id


def _outcome(page: str) -> str:
    cell = page.split('<tr data-schedule="', 1)[1].split("</tr>", 1)[0]
    return cell


def test_a_caught_up_and_a_missed_period_read_in_chinese_and_in_english(world: Session, as_user: Any) -> None:
    schedule_id = _schedule(world)
    rule, calendar = recurrence.parse(SPEC), load_calendar(world)
    q4, q4_due = rule.next_after(START, calendar)
    assert scheduling.run_schedule(world, schedule_id, now=q4_due + timedelta(hours=10)) == f"catch_up {q4}"
    world.commit()
    officer = as_user("officer.a")
    row = _outcome(officer.get("/inspections/schedules").get_data(as_text=True))
    assert "已补做抽取" in row and "比计划时间晚10.0小时补做" in row
    assert "catch_up" not in row and "after the occurrence" not in row

    q1, q1_due = rule.next_after(q4_due + timedelta(days=1), calendar)
    assert scheduling.run_schedule(world, schedule_id, now=q1_due + timedelta(hours=100)) == f"missed {q1}"
    world.commit()
    run = world.scalar(select(ScheduleRun).where(ScheduleRun.period == q1))
    assert run is not None and run.status == "missed" and run.draw_id is None
    row = _outcome(officer.get("/inspections/schedules").get_data(as_text=True))
    assert q1 in row and "已错过，未抽取" in row and "超过72小时的补做时限" in row and "missed" not in row

    officer.get("/inbox")
    assert officer.post("/lang", {"lang": "en", "next": "/inbox"}).status_code == 302
    row = _outcome(officer.get("/inspections/schedules").get_data(as_text=True))
    assert "missed, not drawn" in row and "beyond the 72 h catch-up grace" in row and "已错过" not in row


def test_every_outcome_has_english() -> None:
    from web.i18n import domain_text

    assert [domain_text(name, "en") for name in scheduling.OUTCOME_NAMES.values()] == [
        "drawn on schedule", "drawn late (caught up)", "drawn (run now)", "missed, not drawn",
        "run now requested, awaiting the plan's approval"]
    assert domain_text("比计划时间晚3.5小时补做", "en") == "caught up 3.5 h after the scheduled time"

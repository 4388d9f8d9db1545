"""Timers beyond the horizon are refused with a typed error, fast, and write nothing.

``P999999999Y`` made SpiffWorkflow walk twelve billion months (a worker or a deploy that never
came back); a date past year 9999 overflowed. Each case here must end well within a second.
"""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import InvalidDefinition, InvalidTimer, complete_task, deploy, start
from engine.actor import SYSTEM
from engine.models import HumanTask, ProcessDefinition, ProcessInstance, StartTimer, TimerRow
from tests.engine_helpers import OFFICER, bundle

SEPT30 = datetime(2025, 9, 30, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
BOUND_SECONDS = 2.0


def _timers_with(old: str, new: str) -> dict[str, bytes]:
    files = bundle("timers")
    xml = files["timers.bpmn"].decode()
    assert old in xml
    return {"timers.bpmn": xml.replace(old, new).encode()}


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.parametrize("literal", ['"P999999999Y"', '"P200Y"', '"PT999999999999H"', '"P99999999W"'])
def test_literal_duration_beyond_the_horizon_is_refused_at_deploy(db_session: Session, literal: str) -> None:
    started = time.monotonic()
    with pytest.raises(InvalidDefinition) as err:
        deploy(db_session, _timers_with('"P1D"', literal), SYSTEM)
    db_session.rollback()
    assert time.monotonic() - started < BOUND_SECONDS
    assert err.value.element_id == "reminder"
    assert "提醒" in err.value.message and "horizon of 100 years" in err.value.message
    assert _count(db_session, ProcessDefinition) == 0


def test_literal_date_beyond_the_horizon_is_refused_at_deploy(db_session: Session) -> None:
    files = _timers_with("end_of_day(add_workdays(start_date, deadline_days))", '"9999-12-31T00:00:00+08:00"')
    with pytest.raises(InvalidDefinition) as err:
        deploy(db_session, files, SYSTEM)
    db_session.rollback()
    assert err.value.element_id == "deadline" and "9999-12-31" in err.value.message


def test_timer_start_cycle_beyond_the_horizon_is_refused_at_deploy(db_session: Session) -> None:
    files = bundle("periodic")
    xml = files["periodic.bpmn"].decode().replace("/P7D", "/P999999999Y")
    started = time.monotonic()
    with pytest.raises(InvalidDefinition) as err:
        deploy(db_session, {"periodic.bpmn": xml.encode()}, SYSTEM)
    db_session.rollback()
    assert time.monotonic() - started < BOUND_SECONDS
    assert err.value.element_id == "monthly" and "每月" in err.value.message
    assert _count(db_session, StartTimer) == 0 and _count(db_session, ProcessDefinition) == 0


def test_durations_within_the_horizon_still_deploy_and_wait(db_session: Session) -> None:
    deploy(db_session, _timers_with('"P1D"', '"P50Y"'), SYSTEM)
    instance = start(db_session, "timed", OFFICER, {"start_date": "2025-09-30", "deadline_days": 3,
                                                    "cooling_period": "PT2H"}, now=SEPT30)
    db_session.commit()
    due = {t.element_id: t.due_at for t in db_session.scalars(select(TimerRow).where(
        TimerRow.instance_id == instance.id))}
    assert due["reminder"].year == 2075


@pytest.mark.parametrize("period", ["P999999999Y", "P101Y", "P1300M"])
def test_computed_duration_beyond_the_horizon_fails_the_command_and_writes_nothing(
        db_session: Session, period: str) -> None:
    deploy(db_session, bundle("timers"), SYSTEM)
    instance = start(db_session, "timed", OFFICER, {"start_date": "2025-09-30", "deadline_days": 3,
                                                    "cooling_period": period}, now=SEPT30)
    db_session.commit()
    [review_id] = db_session.scalars(select(HumanTask.id).where(HumanTask.instance_id == instance.id))
    state = db_session.get(ProcessInstance, instance.id).state  # type: ignore[union-attr]
    started = time.monotonic()
    with pytest.raises(InvalidTimer) as err:
        complete_task(db_session, review_id, OFFICER, {}, now=SEPT30)
    db_session.rollback()
    # Refused before any month is walked: the command holds the GIL for milliseconds, not hours.
    assert time.monotonic() - started < BOUND_SECONDS
    assert err.value.task_name == "cooling"
    assert "冷静期" in err.value.message and "horizon" in err.value.message
    assert db_session.get(ProcessInstance, instance.id).state == state  # type: ignore[union-attr]
    assert db_session.get(HumanTask, review_id).status == "ready"  # type: ignore[union-attr]


def test_computed_date_beyond_the_horizon_refuses_the_start(db_session: Session) -> None:
    deploy(db_session, bundle("timers"), SYSTEM)
    db_session.commit()
    with pytest.raises(InvalidTimer) as err:
        start(db_session, "timed", OFFICER, {"start_date": "2999-01-04", "deadline_days": 1,
                                             "cooling_period": "PT2H"}, now=SEPT30)
    db_session.rollback()
    assert err.value.task_name == "deadline" and "horizon" in err.value.message
    assert _count(db_session, ProcessInstance) == 0


def test_the_horizon_is_configuration(db_session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEIJIAN_TIMER_HORIZON_YEARS", "10")
    with pytest.raises(InvalidDefinition) as err:
        deploy(db_session, _timers_with('"P1D"', '"P20Y"'), SYSTEM)
    db_session.rollback()
    assert "horizon of 10 years" in err.value.message
    monkeypatch.setenv("WEIJIAN_TIMER_HORIZON_YEARS", "30")
    assert deploy(db_session, _timers_with('"P1D"', '"P20Y"'), SYSTEM)

"""Timers: due rows, firing at a given time, working-day deadlines, boundary and start events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import InvalidTimer, complete_task, deliver_message, fire_due_timers, start, verify_audit
from engine.models import HumanTask, ProcessInstance, StartTimer, TimerRow
from tests.engine_helpers import HEAD, OFFICER, deploy_fixture

SH = ZoneInfo("Asia/Shanghai")
# 2025-09-30 (Tue) is the last working day before National Day (Oct 1-8 off; Oct 11 Sat is a make-up day).
SEPT30 = datetime(2025, 9, 30, 10, 0, tzinfo=SH)


def _ready(session: Session, instance_id: str) -> list[str]:
    return sorted(session.scalars(select(HumanTask.task_name).where(HumanTask.instance_id == instance_id,
                                                                    HumanTask.status == "ready")))


def _timers(session: Session, instance_id: str) -> dict[str, datetime]:
    rows = session.scalars(select(TimerRow).where(TimerRow.instance_id == instance_id))
    return {t.element_id: t.due_at for t in rows}


@pytest.fixture
def timed(db_session: Session) -> ProcessInstance:
    deploy_fixture(db_session, "timers")
    instance = start(db_session, "timed", OFFICER,
                     {"start_date": "2025-09-30", "deadline_days": 3, "cooling_period": "PT2H"}, now=SEPT30)
    db_session.commit()
    return instance


def test_waiting_timers_are_stored_with_their_due_time(db_session: Session, timed: ProcessInstance) -> None:
    due = _timers(db_session, timed.id)
    # 3 working days after 2025-09-30 across National Day: Oct 9, 10, 11 (make-up Saturday);
    # the deadline timer fires once that day is over.
    assert due["deadline"].astimezone(SH) == datetime(2025, 10, 11, 23, 59, 59, tzinfo=SH)
    assert due["reminder"] == (SEPT30 + timedelta(days=1)).astimezone(UTC)


def test_non_interrupting_reminder_fires_and_the_task_stays(db_session: Session, timed: ProcessInstance) -> None:
    report = fire_due_timers(db_session, SEPT30 + timedelta(days=1, minutes=1))
    db_session.commit()
    assert report.fired == [timed.id]
    assert _ready(db_session, timed.id) == ["review"]
    assert "remind" in db_session.get(ProcessInstance, timed.id).completed_elements  # type: ignore[union-attr]
    assert "reminder" not in _timers(db_session, timed.id)


def test_nothing_fires_before_it_is_due(db_session: Session, timed: ProcessInstance) -> None:
    report = fire_due_timers(db_session, SEPT30 + timedelta(hours=23))
    assert report.fired == [] and _ready(db_session, timed.id) == ["review"]


def test_interrupting_deadline_cancels_the_task_and_escalates(db_session: Session, timed: ProcessInstance) -> None:
    [review_id] = db_session.scalars(select(HumanTask.id).where(HumanTask.instance_id == timed.id))
    fire_due_timers(db_session, datetime(2025, 10, 11, 18, 0, tzinfo=SH))  # still the last day
    assert _ready(db_session, timed.id) == ["review"]
    fire_due_timers(db_session, datetime(2025, 10, 12, 0, 0, 1, tzinfo=SH))
    db_session.commit()
    assert _ready(db_session, timed.id) == ["escalate"]
    assert db_session.get(HumanTask, review_id).status == "cancelled"  # type: ignore[union-attr]
    assert _timers(db_session, timed.id) == {}


def test_intermediate_timer_waits_then_continues(db_session: Session, timed: ProcessInstance) -> None:
    [review_id] = db_session.scalars(select(HumanTask.id).where(HumanTask.instance_id == timed.id))
    done_at = SEPT30 + timedelta(hours=1)
    complete_task(db_session, review_id, OFFICER, {}, now=done_at)
    db_session.commit()
    assert _ready(db_session, timed.id) == []
    assert _timers(db_session, timed.id)["cooling"] == (done_at + timedelta(hours=2)).astimezone(UTC)
    fire_due_timers(db_session, done_at + timedelta(hours=2, seconds=1))
    db_session.commit()
    assert _ready(db_session, timed.id) == ["done"]
    assert verify_audit(db_session).ok  # events stamped with +08:00 times hash as stored (UTC)


def test_timer_expression_that_does_not_parse_is_refused(db_session: Session) -> None:
    deploy_fixture(db_session, "timers")
    instance = start(db_session, "timed", OFFICER,
                     {"start_date": "2025-09-30", "deadline_days": 3, "cooling_period": "two hours"}, now=SEPT30)
    db_session.commit()
    [review_id] = db_session.scalars(select(HumanTask.id).where(HumanTask.instance_id == instance.id))
    state_before = db_session.get(ProcessInstance, instance.id).state  # type: ignore[union-attr]
    with pytest.raises(InvalidTimer) as err:
        complete_task(db_session, review_id, OFFICER, {}, now=SEPT30)
    db_session.rollback()
    assert err.value.task_name == "cooling" and "two hours" in err.value.message
    assert db_session.get(ProcessInstance, instance.id).state == state_before  # type: ignore[union-attr]
    assert _ready(db_session, instance.id) == ["review"]


def test_timer_start_event_starts_a_new_instance_each_cycle(db_session: Session) -> None:
    deploy_fixture(db_session, "periodic")
    plan = db_session.scalar(select(StartTimer))
    assert plan is not None and plan.next_due == datetime(2030, 1, 1, 0, 0, tzinfo=UTC)
    first = fire_due_timers(db_session, datetime(2030, 1, 1, 0, 1, tzinfo=UTC))
    db_session.commit()
    assert len(first.started) == 1
    assert plan.next_due == datetime(2030, 1, 8, 0, 0, tzinfo=UTC)
    assert fire_due_timers(db_session, datetime(2030, 1, 2, tzinfo=UTC)).started == []
    second = fire_due_timers(db_session, datetime(2030, 1, 8, 0, 1, tzinfo=UTC))
    db_session.commit()
    assert len(second.started) == 1 and second.started != first.started
    for instance_id in first.started + second.started:
        assert _ready(db_session, instance_id) == ["review_draw"]
    _ = HEAD


@pytest.mark.parametrize("replies", [True, False])
def test_event_based_gateway_waits_for_a_reply_or_the_deadline(db_session: Session, replies: bool) -> None:
    deploy_fixture(db_session, "eventgateway")
    served = datetime(2025, 9, 29, 10, 0, tzinfo=SH)  # Monday; 5 working days: Sep 30, Oct 9, 10, 11, 13
    instance = start(db_session, "await_reply", OFFICER, {"served_on": "2025-09-29"}, now=served)
    db_session.commit()
    assert _timers(db_session, instance.id)["wait"] == datetime(2025, 10, 13, 23, 59, 59, tzinfo=SH)
    if replies:
        deliver_message(db_session, "reply", None, {"statement": "对事实有异议"}, now=served + timedelta(days=3))
        db_session.commit()
        assert _ready(db_session, instance.id) == ["review_reply"]
        assert _timers(db_session, instance.id) == {}
    else:
        fire_due_timers(db_session, datetime(2025, 10, 14, 0, 0, 1, tzinfo=SH))
        db_session.commit()
        assert _ready(db_session, instance.id) == ["no_reply"]

"""Administrators suspend, resume and correct cases: what a suspended case refuses, what runs
again after the resume, and that each change is audited with the administrator's reason while
a refused one writes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import (
    InboxFilters,
    InstanceSuspended,
    InvalidData,
    PermissionDenied,
    TaskNotReady,
    audit_history,
    cancel,
    claim,
    complete_task,
    deliver_message,
    due_jobs,
    fire_due_timers,
    inbox,
    instance_data,
    resume,
    run_job,
    scan_stalled,
    set_variable,
    start,
    suspend,
    verify_audit,
)
from engine.models import AuditEvent, HumanTask, OutboxJob, ProcessInstance
from tests.engine_helpers import ADMIN, CLERK, HEAD, OFFICER, deploy_fixture
from tests.operators import CALLS, FAIL

SH = ZoneInfo("Asia/Shanghai")
SEPT30 = datetime(2025, 9, 30, 10, 0, tzinfo=SH)


def _ready(session: Session, instance_id: str) -> list[HumanTask]:
    return list(session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                        HumanTask.status == "ready")))


def _events(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


@pytest.fixture
def lead(db_session: Session) -> ProcessInstance:
    deploy_fixture(db_session, "lead")
    instance = start(db_session, "case_lead", OFFICER, {"amount": 500}, "L-1")
    db_session.commit()
    return instance


def test_a_suspended_case_cannot_be_worked_until_it_is_resumed(db_session: Session, lead: ProcessInstance) -> None:
    [task] = _ready(db_session, lead.id)
    suspend(db_session, ADMIN, lead.id, "案件移交审查，暂停办理")
    db_session.commit()
    assert db_session.get(ProcessInstance, lead.id).status == "suspended"  # type: ignore[union-attr]
    with pytest.raises(InstanceSuspended, match="suspended"):
        complete_task(db_session, task.id, OFFICER, {})
    db_session.rollback()
    with pytest.raises(InstanceSuspended):
        claim(db_session, task.id, OFFICER)
    db_session.rollback()
    # Hidden from the claimable list; the task itself is still there, marked suspended.
    assert inbox(db_session, OFFICER, InboxFilters(scope="claimable")).tasks == []
    assert db_session.get(HumanTask, task.id).suspended is True  # type: ignore[union-attr]

    resume(db_session, ADMIN, lead.id, "审查结束，恢复办理")
    db_session.commit()
    assert [t.id for t in inbox(db_session, OFFICER, InboxFilters(scope="claimable")).tasks] == [task.id]
    complete_task(db_session, task.id, OFFICER, {})
    db_session.commit()
    assert db_session.get(ProcessInstance, lead.id).status == "completed"  # type: ignore[union-attr]
    actions = [(e.action, e.actor, e.data.get("reason")) for e in audit_history(db_session, lead.id)]
    assert ("instance_suspended", "admin", "案件移交审查，暂停办理") in actions
    assert ("instance_resumed", "admin", "审查结束，恢复办理") in actions
    assert verify_audit(db_session).ok


def test_an_assignee_still_sees_their_task_of_a_suspended_case(db_session: Session, lead: ProcessInstance) -> None:
    [task] = _ready(db_session, lead.id)
    claim(db_session, task.id, OFFICER)
    db_session.commit()
    suspend(db_session, ADMIN, lead.id, "暂停")
    db_session.commit()
    [mine] = inbox(db_session, OFFICER, InboxFilters(scope="assigned")).tasks
    assert mine.id == task.id and mine.suspended


def test_set_variable_changes_what_the_next_gateway_sees(db_session: Session, lead: ProcessInstance) -> None:
    [task] = _ready(db_session, lead.id)
    set_variable(db_session, ADMIN, lead.id, "amount", "20000", "罚没金额核定有误，更正为20000元")
    db_session.commit()
    assert instance_data(db_session, lead.id, ADMIN)["amount"] == 20000
    complete_task(db_session, task.id, OFFICER, {})
    db_session.commit()
    assert [t.task_name for t in _ready(db_session, lead.id)] == ["approve"]  # amount > 10000: approval
    [event] = [e for e in audit_history(db_session, lead.id) if e.action == "variable_set"]
    assert event.data == {"name": "amount", "had_value": True, "old": 500, "new": 20000,
                          "reason": "罚没金额核定有误，更正为20000元"}


def test_without_the_change_the_gateway_takes_the_minor_path(db_session: Session, lead: ProcessInstance) -> None:
    [task] = _ready(db_session, lead.id)
    complete_task(db_session, task.id, OFFICER, {})
    db_session.commit()
    assert db_session.get(ProcessInstance, lead.id).status == "completed"  # type: ignore[union-attr]


@pytest.mark.parametrize(("name", "value", "reason", "error"), [
    ("amount", "20000", "", InvalidData),             # no reason
    ("amount", "20000", "   ", InvalidData),
    ("amount", "{not json", "更正", InvalidData),
    ("amount", "NaN", "更正", InvalidData),
    ("_secret", "1", "更正", InvalidData),            # leading underscore
    ("two words", "1", "更正", InvalidData),          # not an identifier
])
def test_bad_variable_changes_are_refused_and_write_nothing(db_session: Session, lead: ProcessInstance, name: str,
                                                             value: str, reason: str,
                                                             error: type[Exception]) -> None:
    before, version = _events(db_session), lead.row_version
    with pytest.raises(error):
        set_variable(db_session, ADMIN, lead.id, name, value, reason)
    db_session.rollback()
    assert _events(db_session) == before
    assert db_session.get(ProcessInstance, lead.id).row_version == version  # type: ignore[union-attr]
    assert instance_data(db_session, lead.id, ADMIN)["amount"] == 500


def test_only_an_administrator_may_suspend_or_change_a_case(db_session: Session, lead: ProcessInstance) -> None:
    before = _events(db_session)
    for attempt in (lambda: suspend(db_session, HEAD, lead.id, "暂停"),
                    lambda: set_variable(db_session, HEAD, lead.id, "amount", "1", "更正")):
        with pytest.raises(PermissionDenied):
            attempt()
        db_session.rollback()
    with pytest.raises(InvalidData):
        suspend(db_session, ADMIN, lead.id, "")
    db_session.rollback()
    with pytest.raises(TaskNotReady):
        resume(db_session, ADMIN, lead.id, "not suspended")
    db_session.rollback()
    assert _events(db_session) == before
    assert db_session.get(ProcessInstance, lead.id).status == "running"  # type: ignore[union-attr]


def test_a_suspended_case_can_be_cancelled_and_then_not_resumed(db_session: Session, lead: ProcessInstance) -> None:
    suspend(db_session, ADMIN, lead.id, "暂停")
    db_session.commit()
    cancel(db_session, lead.id, ADMIN, "重复立案，撤销")
    db_session.commit()
    row = db_session.get(ProcessInstance, lead.id)
    assert row is not None and row.status == "cancelled" and row.cancel_reason == "重复立案，撤销"
    with pytest.raises(TaskNotReady):
        resume(db_session, ADMIN, lead.id, "恢复")
    db_session.rollback()
    with pytest.raises(TaskNotReady):
        set_variable(db_session, ADMIN, lead.id, "amount", "1", "更正")


def test_due_timers_of_a_suspended_case_wait_for_the_resume(db_session: Session) -> None:
    deploy_fixture(db_session, "timers")
    timed = start(db_session, "timed", OFFICER, {"start_date": "2025-09-30", "deadline_days": 3,
                                                 "cooling_period": "PT2H"}, now=SEPT30)
    other = start(db_session, "timed", OFFICER, {"start_date": "2025-09-30", "deadline_days": 3,
                                                 "cooling_period": "PT2H"}, now=SEPT30)
    db_session.commit()
    suspend(db_session, ADMIN, timed.id, "暂停", now=SEPT30 + timedelta(hours=1))
    db_session.commit()
    late = SEPT30 + timedelta(days=20)  # the reminder and the deadline are both due
    report = fire_due_timers(db_session, late)
    db_session.commit()
    assert report.fired == [other.id]
    assert [t.task_name for t in _ready(db_session, timed.id)] == ["review"]
    assert [t.task_name for t in _ready(db_session, other.id)] == ["escalate"]
    resume(db_session, ADMIN, timed.id, "恢复", now=late)
    db_session.commit()
    assert fire_due_timers(db_session, late + timedelta(minutes=1)).fired == [timed.id]
    db_session.commit()
    assert [t.task_name for t in _ready(db_session, timed.id)] == ["escalate"]


def test_jobs_of_a_suspended_case_stay_pending_until_the_resume(db_session: Session) -> None:
    CALLS.clear()
    FAIL["on"] = False
    deploy_fixture(db_session, "service")
    instance = start(db_session, "with_service", OFFICER, {"name": "张三"})
    db_session.commit()
    db_session.info.pop("weijian_new_outbox_jobs", None)  # what the relay takes after a commit
    [job] = db_session.scalars(select(OutboxJob)).all()
    suspend(db_session, ADMIN, instance.id, "暂停")
    db_session.commit()
    far = datetime(2100, 1, 1, tzinfo=SH)
    assert due_jobs(db_session, far) == []
    assert run_job(db_session, job.id) == "skipped"
    db_session.commit()
    assert CALLS == [] and db_session.get(OutboxJob, job.id).status == "pending"  # type: ignore[union-attr]
    resume(db_session, ADMIN, instance.id, "恢复")
    queued = list(db_session.info.get("weijian_new_outbox_jobs", []))
    db_session.commit()
    assert queued == [job.id] and due_jobs(db_session, far) == [job.id]
    assert run_job(db_session, job.id) == "done"
    db_session.commit()
    assert [t.task_name for t in _ready(db_session, instance.id)] == ["check"]


def test_a_message_for_a_suspended_case_is_refused_to_the_sender(db_session: Session) -> None:
    deploy_fixture(db_session, "messages")
    intake = start(db_session, "complaint_intake", CLERK, {"case_no": "TS-9"})
    db_session.commit()
    [route] = _ready(db_session, intake.id)
    complete_task(db_session, route.id, CLERK, {"target_unit": "U2", "note": ""})
    db_session.commit()
    suspend(db_session, ADMIN, intake.id, "暂停")
    db_session.commit()
    before = _events(db_session)
    with pytest.raises(InstanceSuspended, match="suspended"):
        deliver_message(db_session, "feedback", {"complaint": {"case_no": "TS-9"}}, {"result": "反馈"})
    db_session.rollback()
    assert _events(db_session) == before
    resume(db_session, ADMIN, intake.id, "恢复")
    db_session.commit()
    assert deliver_message(db_session, "feedback", {"complaint": {"case_no": "TS-9"}}, {"result": "反馈"}) \
        == [intake.id]
    db_session.commit()
    assert [t.task_name for t in _ready(db_session, intake.id)] == ["review"]


def test_a_suspended_case_is_not_stalled(db_session: Session, lead: ProcessInstance) -> None:
    suspend(db_session, ADMIN, lead.id, "暂停")
    db_session.commit()
    assert scan_stalled(db_session, ADMIN) == []
    assert db_session.get(ProcessInstance, lead.id).status == "suspended"  # type: ignore[union-attr]

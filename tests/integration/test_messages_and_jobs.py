"""Messages between instances, and asynchronous service tasks through the outbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import (
    JobFailed,
    MessageNotDelivered,
    PermissionDenied,
    complete_task,
    deliver_message,
    incidents,
    record_failure,
    resolve_incident,
    retry_incident,
    run_job,
    start,
)
from engine.clock import now as clock_now
from engine.models import HumanTask, OutboxJob, ProcessInstance
from tests.engine_helpers import ADMIN, CLERK, OFFICER, deploy_fixture
from tests.operators import CALLS, FAIL


def _ready(session: Session, instance_id: str) -> list[HumanTask]:
    return list(session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                        HumanTask.status == "ready")))


def test_thrown_message_starts_the_handling_case_and_feedback_returns(db_session: Session) -> None:
    deploy_fixture(db_session, "messages")
    intake = start(db_session, "complaint_intake", CLERK, {"case_no": "TS-2026-0001"}, business_key="TS-2026-0001")
    db_session.commit()
    [route] = _ready(db_session, intake.id)
    complete_task(db_session, route.id, CLERK, {"target_unit": "U2", "note": "请核查"})
    db_session.commit()
    handling = db_session.scalar(select(ProcessInstance).where(ProcessInstance.process_key == "complaint_handling"))
    assert handling is not None and handling.unit_id == "U2" and handling.business_key == "TS-2026-0001"
    [handle] = _ready(db_session, handling.id)
    assert handle.unit_id == "U2" and handle.candidate_role == "officer"
    other = start(db_session, "complaint_intake", CLERK, {"case_no": "TS-2026-0002"})
    db_session.commit()
    u2_officer = OFFICER.__class__.of("officer_u2", ["officer"], ["U2"])
    complete_task(db_session, handle.id, u2_officer, {"result": "属实，已立案"})
    db_session.commit()
    [review] = _ready(db_session, intake.id)
    assert review.task_name == "review"
    assert [t.task_name for t in _ready(db_session, other.id)] == ["route"]  # not the other complaint


def test_deliver_message_from_outside_reaches_the_waiting_case(db_session: Session) -> None:
    deploy_fixture(db_session, "messages")
    intake = start(db_session, "complaint_intake", CLERK, {"case_no": "TS-9"})
    db_session.commit()
    [route] = _ready(db_session, intake.id)
    complete_task(db_session, route.id, CLERK, {"target_unit": "U2", "note": ""})
    db_session.commit()
    with pytest.raises(MessageNotDelivered):
        deliver_message(db_session, "feedback", {"complaint": {"case_no": "TS-404"}}, {"result": "x"})
    db_session.rollback()
    reached = deliver_message(db_session, "feedback", {"complaint": {"case_no": "TS-9"}}, {"result": "外部反馈"})
    db_session.commit()
    assert reached == [intake.id]
    assert [t.task_name for t in _ready(db_session, intake.id)] == ["review"]


@pytest.fixture
def service_case(db_session: Session) -> ProcessInstance:
    CALLS.clear()
    FAIL["on"] = False
    deploy_fixture(db_session, "service")
    instance = start(db_session, "with_service", OFFICER, {"name": "张三"})
    db_session.commit()
    return instance


def test_service_task_waits_in_the_outbox_then_runs_once(db_session: Session, service_case: ProcessInstance) -> None:
    [job] = db_session.scalars(select(OutboxJob)).all()
    assert job.status == "pending" and job.params == {"text": "你好 张三"} and CALLS == []
    assert _ready(db_session, service_case.id) == []
    assert run_job(db_session, job.id) == "done"
    db_session.commit()
    assert run_job(db_session, job.id) == "skipped"  # re-delivery does nothing
    assert len(CALLS) == 1
    [check] = _ready(db_session, service_case.id)
    assert check.task_name == "check"


def test_failures_back_off_then_become_an_incident_an_admin_resolves(db_session: Session,
                                                                     service_case: ProcessInstance) -> None:
    FAIL["on"] = True
    [job] = db_session.scalars(select(OutboxJob)).all()
    waits = []
    for _ in range(job.max_attempts):
        before = clock_now()
        with pytest.raises(JobFailed):
            run_job(db_session, job.id)
        db_session.rollback()
        record_failure(db_session, job.id, "the document service is down", base_seconds=10, now=before)
        db_session.commit()
        waits.append(job.next_attempt_at - before)
    assert waits[:3] == [timedelta(seconds=10), timedelta(seconds=20), timedelta(seconds=40)]
    assert job.status == "incident" and [i.id for i in incidents(db_session)] == [job.id]
    with pytest.raises(PermissionDenied):
        retry_incident(db_session, job.id, OFFICER)
    retry_incident(db_session, job.id, ADMIN)
    db_session.commit()
    assert job.status == "pending" and job.attempts == 0
    FAIL["on"] = True
    with pytest.raises(JobFailed):
        run_job(db_session, job.id)
    db_session.rollback()
    for _ in range(job.max_attempts):
        record_failure(db_session, job.id, "down again")
    db_session.commit()
    resolve_incident(db_session, job.id, ADMIN, {"text": "人工生成"}, "文书由管理员手工生成并上传")
    db_session.commit()
    assert job.status == "resolved"
    [check] = _ready(db_session, service_case.id)
    assert check.task_name == "check"

"""Starting and completing cases: data flows, lanes become candidate roles, bad input writes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import (
    InvalidData,
    PermissionDenied,
    TaskNotReady,
    UnknownTask,
    audit_history,
    cancel,
    complete_task,
    start,
)
from engine.models import AuditEvent, HumanTask, ProcessInstance
from tests.engine_helpers import HEAD, OFFICER, OFFICER2, OUTSIDER, deploy_fixture


def _ready(session: Session, instance_id: str) -> list[HumanTask]:
    return list(session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                        HumanTask.status == "ready")))


def _snapshot(session: Session) -> tuple[int, int, int, list[tuple[str, str]]]:
    return (session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
            session.scalar(select(func.count()).select_from(HumanTask)) or 0,
            session.scalar(select(func.count()).select_from(ProcessInstance)) or 0,
            [(h.id, h.status) for h in session.scalars(select(HumanTask).order_by(HumanTask.id))])


@pytest.fixture
def lead(db_session: Session) -> ProcessInstance:
    deploy_fixture(db_session, "lead")
    instance = start(db_session, "case_lead", OFFICER, {"source": "complaint"}, business_key="LEAD-1",
                     entity_id="E1", entity_name="某某宾馆")
    db_session.commit()
    return instance


def test_start_materializes_the_first_task_for_the_lane(db_session: Session, lead: ProcessInstance) -> None:
    [task] = _ready(db_session, lead.id)
    assert (task.task_name, task.title, task.candidate_role, task.unit_id) == ("register", "登记案源", "officer", "U1")
    assert task.form_key == "lead.register"
    assert task.instructions == "核实线索来源并登记违法事实。"
    assert task.business_key == "LEAD-1" and task.entity_name == "某某宾馆"
    assert task.due_at is not None and task.due_at > task.created_at


def test_completion_follows_the_condition_and_runs_the_script(db_session: Session, lead: ProcessInstance) -> None:
    [register] = _ready(db_session, lead.id)
    complete_task(db_session, register.id, OFFICER, {"amount": 50000, "facts": "无证经营"})
    db_session.commit()
    [approve] = _ready(db_session, lead.id)
    assert approve.task_name == "approve" and approve.candidate_role == "head"
    with pytest.raises(PermissionDenied):
        complete_task(db_session, approve.id, OFFICER2, {"approved": True})
    db_session.rollback()
    complete_task(db_session, approve.id, HEAD, {"approved": True})
    db_session.commit()
    db_session.refresh(lead)
    assert lead.status == "completed"
    assert {"register", "approve", "decide", "end_done"} <= set(lead.completed_elements)
    actions = [e.action for e in audit_history(db_session, lead.id)]
    assert actions == ["instance_started", "task_completed", "task_completed", "instance_completed"]
    assert db_session.get(HumanTask, register.id).completed_by == "officer1"  # type: ignore[union-attr]


def test_minor_case_takes_the_default_flow(db_session: Session, lead: ProcessInstance) -> None:
    [register] = _ready(db_session, lead.id)
    complete_task(db_session, register.id, OFFICER, {"amount": 100})
    db_session.commit()
    db_session.refresh(lead)
    assert lead.status == "completed" and "end_minor" in lead.completed_elements


@pytest.mark.parametrize(("actor", "task_id", "data", "error"), [
    (OFFICER, "not-a-uuid", {}, UnknownTask),
    (OFFICER, "00000000-0000-0000-0000-000000000000", {}, UnknownTask),
    (OUTSIDER, None, {"amount": 1}, PermissionDenied),
    (OFFICER, None, {"__class__": 1}, InvalidData),
    (OFFICER, None, ["not", "a", "dict"], InvalidData),
    (OFFICER, None, {"blob": object()}, InvalidData),
    (OFFICER, None, {"amount": float("nan")}, InvalidData),
    (OFFICER, None, {"amount": 1, "detail": {"ratio": float("inf"), "note": None}}, InvalidData),
    (OFFICER, None, {"amount": 1, "attachment": "x" * (256 * 1024)}, InvalidData),
])
def test_bad_completions_get_typed_errors_and_change_nothing(db_session: Session, lead: ProcessInstance,
                                                            actor: object, task_id: str | None, data: object,
                                                            error: type[Exception]) -> None:
    [register] = _ready(db_session, lead.id)
    before = _snapshot(db_session)
    with pytest.raises(error):
        complete_task(db_session, task_id or register.id, actor, data)  # type: ignore[arg-type]
    db_session.rollback()
    assert _snapshot(db_session) == before


def test_submitted_values_are_stored_as_json_values(db_session: Session, lead: ProcessInstance) -> None:
    """Dates become ISO text, tuples lists, nested keys text, null stays null; integers beyond
    64 bits survive; the caller's own dict is not what the case keeps."""
    from datetime import UTC, date, datetime

    from engine import instance_data

    [register] = _ready(db_session, lead.id)
    form = {"amount": 100, "found_on": date(2026, 11, 30), "at": datetime(2026, 11, 30, 9, 30, tzinfo=UTC),
            "items": ("药品", "器械"), "codes": {1: "一"}, "remark": None, "serial": 2**70}
    complete_task(db_session, register.id, OFFICER, form)
    db_session.commit()
    form["items"] = ("changed",)
    data = instance_data(db_session, lead.id, OFFICER)
    assert data["found_on"] == "2026-11-30" and data["at"] == "2026-11-30T09:30:00+00:00"
    assert data["items"] == ["药品", "器械"] and data["codes"] == {"1": "一"}
    assert data["remark"] is None and data["serial"] == 2**70


def test_completed_task_cannot_be_completed_again(db_session: Session, lead: ProcessInstance) -> None:
    [register] = _ready(db_session, lead.id)
    complete_task(db_session, register.id, OFFICER, {"amount": 50000})
    db_session.commit()
    before = _snapshot(db_session)
    with pytest.raises(TaskNotReady):
        complete_task(db_session, register.id, OFFICER, {"amount": 1})
    db_session.rollback()
    assert _snapshot(db_session) == before


def test_cancel_needs_a_reason_and_a_head(db_session: Session, lead: ProcessInstance) -> None:
    with pytest.raises(InvalidData):
        cancel(db_session, lead.id, HEAD, "  ")
    with pytest.raises(PermissionDenied):
        cancel(db_session, lead.id, OFFICER, "重复登记")
    db_session.rollback()
    cancel(db_session, lead.id, HEAD, "重复登记")
    db_session.commit()
    db_session.refresh(lead)
    assert lead.status == "cancelled" and lead.cancel_reason == "重复登记"
    assert _ready(db_session, lead.id) == []
    assert audit_history(db_session, lead.id)[-1].data == {"reason": "重复登记"}


def test_business_key_extension_and_case_data(db_session: Session, lead: ProcessInstance) -> None:
    from datetime import UTC, datetime

    from engine import instance_data, set_business_key, set_due

    [register] = _ready(db_session, lead.id)
    set_business_key(db_session, lead.id, HEAD, "宝卫医罚〔2026〕12号")
    db_session.commit()
    assert db_session.get(HumanTask, register.id).business_key == "宝卫医罚〔2026〕12号"  # type: ignore[union-attr]
    new_due = datetime(2026, 12, 31, 15, 59, 59, tzinfo=UTC)
    with pytest.raises(PermissionDenied):
        set_due(db_session, register.id, OFFICER, new_due, "延期")
    with pytest.raises(InvalidData):
        set_due(db_session, register.id, HEAD, new_due, "")
    db_session.rollback()
    set_due(db_session, register.id, HEAD, new_due, "负责人批准延长办案期限")
    db_session.commit()
    assert db_session.get(HumanTask, register.id).due_at == new_due  # type: ignore[union-attr]
    assert instance_data(db_session, lead.id, OFFICER)["source"] == "complaint"
    with pytest.raises(PermissionDenied):
        instance_data(db_session, lead.id, OUTSIDER)
    actions = [e.action for e in audit_history(db_session, lead.id)]
    assert actions[-2:] == ["business_key_set", "task_due_changed"]

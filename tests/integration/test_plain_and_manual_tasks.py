"""A plain ``bpmn:task`` passes straight through; a ``bpmn:manualTask`` is an inbox task without a
form, completed like any other. Before, SpiffWorkflow treated both as manual: no inbox row, and
the case sat ``running`` with nothing that could move it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import complete_task, start
from engine.models import HumanTask, ProcessInstance
from tests.engine_helpers import OFFICER, deploy_fixture


def test_plain_task_passes_and_manual_task_waits_in_the_inbox(db_session: Session) -> None:
    [definition] = deploy_fixture(db_session, "manual")
    assert definition.summary["user_tasks"] == [
        {"id": "visit", "name": "到现场核查", "lane": "officer", "form_key": None}]
    instance = start(db_session, "manual_check", OFFICER, {})
    db_session.commit()
    assert instance.status == "running"
    assert "prepare" in (instance.completed_elements or [])
    [task] = db_session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id))
    assert (task.task_name, task.title, task.form_key, task.status) == ("visit", "到现场核查", None, "ready")
    assert task.candidate_role == "officer" and task.instructions == "携带执法证件到现场，核查完毕后确认。"

    complete_task(db_session, task.id, OFFICER, {})
    db_session.commit()
    row = db_session.get(ProcessInstance, instance.id)
    assert row is not None and row.status == "completed"
    assert db_session.get(HumanTask, task.id).status == "completed"  # type: ignore[union-attr]

"""A manual task (no form key) shows the generic task page with a "done" button, and completing
it there goes through the normal ``engine.complete_task``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import start
from engine.models import HumanTask, ProcessInstance
from tests.engine_helpers import deploy_fixture
from tests.web.conftest import actor, ready_task


def test_manual_task_is_confirmed_on_the_task_page(as_user: Any, session: Session) -> None:
    deploy_fixture(session, "manual")
    who = actor(session, "officer.a")
    instance = start(session, "manual_check", who, {}, "M-1", unit_id=who.primary_unit)
    session.commit()
    task = ready_task(session, instance.id)
    officer = as_user("officer.a")
    html = officer.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "到现场核查" in html and "携带执法证件到现场" in html
    assert "该任务无需填写表单" in html and "办理完毕" in html and 'id="submit"' in html

    done = officer.post(f"/tasks/{task.id}", {})
    assert done.status_code == 302
    session.expire_all()
    assert session.get(HumanTask, task.id).status == "completed"  # type: ignore[union-attr]
    assert session.scalar(select(ProcessInstance.status).where(ProcessInstance.id == instance.id)) == "completed"

"""Scripts and conditions in deployed BPMN run in the sandbox: escapes are refused, nothing written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import InvalidDefinition, ScriptRejected, complete_task, deploy, start
from engine.actor import SYSTEM
from engine.models import AuditEvent, HumanTask, ProcessDefinition, ProcessInstance
from tests.engine_helpers import HEAD, OFFICER, bundle


def _with(script: str | None = None, condition: str | None = None) -> dict[str, bytes]:
    files = bundle("lead")
    xml = files["lead.bpmn"].decode()
    if script is not None:
        xml = xml.replace("decision = 'approved' if approved else 'rejected'", script)
    if condition is not None:
        xml = xml.replace("amount &gt; 10000", condition)
    return {"lead.bpmn": xml.encode()}


@pytest.mark.parametrize(("script", "condition"), [
    (None, "().__class__.__base__.__subclasses__()"),
    (None, "__import__('os').system('id')"),
    ("import os\ndecision = os.getcwd()", None),
    ("decision = (lambda: 0).__globals__", None),
])
def test_escaping_scripts_are_refused_at_deploy_naming_the_element(db_session: Session, script: str | None,
                                                                   condition: str | None) -> None:
    with pytest.raises(InvalidDefinition) as err:
        deploy(db_session, _with(script, condition), SYSTEM)
    db_session.rollback()
    assert err.value.element_id == ("decide" if script else "serious")
    assert db_session.scalar(select(func.count()).select_from(ProcessDefinition)) == 0


@pytest.mark.parametrize("script", [
    "decision = '{0.__class__.__mro__}'.format(amount)",
    "decision = open('/etc/passwd').read()",
])
def test_escape_only_visible_at_run_time_is_refused_and_writes_nothing(db_session: Session, script: str) -> None:
    deploy(db_session, _with(script=script), SYSTEM)
    instance = start(db_session, "case_lead", OFFICER, {})
    db_session.commit()
    [register] = db_session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id))
    complete_task(db_session, register.id, OFFICER, {"amount": 20000})
    db_session.commit()
    [approve] = db_session.scalars(select(HumanTask).where(HumanTask.status == "ready"))
    events = db_session.scalar(select(func.count()).select_from(AuditEvent))
    state = db_session.get(ProcessInstance, instance.id).state  # type: ignore[union-attr]
    with pytest.raises(ScriptRejected) as err:
        complete_task(db_session, approve.id, HEAD, {"approved": True})
    db_session.rollback()
    assert err.value.task_name == "decide"
    assert db_session.scalar(select(func.count()).select_from(AuditEvent)) == events
    assert db_session.get(ProcessInstance, instance.id).state == state  # type: ignore[union-attr]
    assert db_session.get(HumanTask, approve.id).status == "ready"  # type: ignore[union-attr]

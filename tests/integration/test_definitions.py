"""Deploying BPMN: versions by content hash, no-op redeploys, clear errors that store nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import InvalidDefinition, UnknownProcess, UnsafeXml, deploy, start
from engine.actor import SYSTEM
from engine.models import AuditEvent, ProcessDefinition, ProcessInstance
from tests.engine_helpers import OFFICER, bundle, deploy_fixture


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_deploy_stores_a_version_and_redeploying_same_content_is_a_noop(db_session: Session) -> None:
    first = deploy_fixture(db_session, "lead")
    again = deploy_fixture(db_session, "lead")
    assert [d.id for d in first] == [d.id for d in again]
    assert first[0].version == 1
    assert first[0].summary["lanes"] == ["head", "officer"]
    assert _count(db_session, ProcessDefinition) == 1


def test_new_version_leaves_running_instances_on_theirs(db_session: Session) -> None:
    v1 = deploy_fixture(db_session, "lead")[0]
    running = start(db_session, "case_lead", OFFICER, {"amount": 1})
    db_session.commit()
    files = bundle("lead")
    files["lead.bpmn"] = files["lead.bpmn"].replace("登记案源".encode(), "登记案源（新版）".encode())
    v2 = deploy(db_session, files, SYSTEM)[0]
    db_session.commit()
    assert v2.version == 2 and v2.id != v1.id
    newer = start(db_session, "case_lead", OFFICER, {"amount": 1})
    db_session.commit()
    assert running.definition_id == v1.id
    assert newer.definition_id == v2.id


@pytest.mark.parametrize(("xml", "fragment"), [
    (b"<bpmn:definitions xmlns:bpmn='http://www.omg.org/spec/BPMN/20100524/MODEL'><bpmn:process id='p'",
     "not well-formed"),
    (b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&lol2;</bpmn:definitions>""",
     "DOCTYPE"),
    (b"""<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&xxe;</bpmn:definitions>""",
     "DOCTYPE"),
])
def test_malformed_and_hostile_xml_is_refused_and_nothing_stored(db_session: Session, xml: bytes,
                                                                 fragment: str) -> None:
    with pytest.raises(UnsafeXml) as err:
        deploy(db_session, {"bad.bpmn": xml}, SYSTEM)
    db_session.rollback()
    assert "bad.bpmn" in err.value.message and fragment in err.value.message
    assert _count(db_session, ProcessDefinition) == 0
    assert _count(db_session, AuditEvent) == 0


def test_invalid_bpmn_names_file_and_element(db_session: Session) -> None:
    files = bundle("lead")
    broken = files["lead.bpmn"].replace(b'targetRef="approve"', b'targetRef="nowhere"')
    with pytest.raises(InvalidDefinition) as err:
        deploy(db_session, {"lead.bpmn": broken}, SYSTEM)
    db_session.rollback()
    assert err.value.filename == "lead.bpmn"
    assert err.value.element_id == "f_serious"
    assert _count(db_session, ProcessDefinition) == 0


def test_schema_violation_names_the_element(db_session: Session) -> None:
    files = bundle("lead")
    broken = files["lead.bpmn"].replace(b'<bpmn:userTask id="approve" name="',
                                        b'<bpmn:userTask id="approve" bogus="1" name="')
    with pytest.raises(InvalidDefinition) as err:
        deploy(db_session, {"lead.bpmn": broken}, SYSTEM)
    db_session.rollback()
    assert err.value.element_id == "approve"
    assert "bogus" in err.value.problem


def test_unknown_process_key_is_a_typed_error_and_writes_nothing(db_session: Session) -> None:
    deploy_fixture(db_session, "lead")
    with pytest.raises(UnknownProcess):
        start(db_session, "no_such_process", OFFICER, {})
    db_session.rollback()
    assert _count(db_session, ProcessInstance) == 0

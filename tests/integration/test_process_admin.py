"""Process administration in the engine: validation of a whole bundle, versions with a diff and
a reason, rollback as a new version, and moving running instances to another version."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import complete_task, deploy, start
from engine.actor import SYSTEM
from engine.errors import InvalidData
from engine.migration import MigrationRefused, migrate, plan
from engine.models import AuditEvent, HumanTask, ProcessInstance
from engine.validation import Context, blocking, validate_bundle
from tests.engine_helpers import ADMIN, HEAD, OFFICER, bundle

LEAD = bundle("lead")["lead.bpmn"]
CONTEXT = Context(forms=frozenset({"lead.register", "lead.approve", "lead.review"}),
                  roles=frozenset({"officer", "head"}), operators=frozenset({"penalty.close_lead"}))

# v2: a review step between register and the gateway (register -> review -> serious).
REVIEW = b"""<bpmn:userTask id="review" name="\xe5\xa4\x8d\xe6\xa0\xb8">
      <bpmn:extensionElements><spiffworkflow:properties>
          <spiffworkflow:property name="formKey" value="lead.register"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f2b</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2b" sourceRef="review" targetRef="serious"/>
    <bpmn:exclusiveGateway id="serious\""""


def with_review(source: bytes = LEAD) -> bytes:
    return (source.replace(b'<bpmn:sequenceFlow id="f2" sourceRef="register" targetRef="serious"/>',
                           b'<bpmn:sequenceFlow id="f2" sourceRef="register" targetRef="review"/>')
            .replace(b'<bpmn:exclusiveGateway id="serious"', REVIEW, 1)
            .replace(b"<bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f_serious",
                     b"<bpmn:incoming>f2b</bpmn:incoming><bpmn:outgoing>f_serious")
            .replace(b"<bpmn:flowNodeRef>register</bpmn:flowNodeRef>",
                     b"<bpmn:flowNodeRef>register</bpmn:flowNodeRef><bpmn:flowNodeRef>review</bpmn:flowNodeRef>"))


def codes(files: dict[str, bytes], context: Context = CONTEXT) -> set[tuple[str, str | None]]:
    return {(p.code, p.element) for p in validate_bundle(files, context)}


def test_the_fixture_and_its_edit_are_valid() -> None:
    assert blocking(validate_bundle({"lead.bpmn": LEAD}, CONTEXT)) == []
    assert blocking(validate_bundle({"lead.bpmn": with_review()}, CONTEXT)) == []


def test_every_problem_is_reported_on_its_element_at_once() -> None:
    broken = (LEAD.replace(b'value="lead.approve"', b'value="lead.nowhere"')
              .replace(b'name="head"', b'name="chief_of_everything"')
              .replace(b'<bpmn:sequenceFlow id="f4" sourceRef="decide" targetRef="end_done"/>', b"")
              .replace(b"amount &gt; 10000", b"__import__('os').system('x')"))
    found = codes({"lead.bpmn": broken})
    assert ("unknown_form", "approve") in found
    assert ("unknown_role", "lane_head") in found
    assert ("no_way_out", "decide") in found
    assert ("expression_refused", "f_serious") in found
    problem = next(p for p in validate_bundle({"lead.bpmn": broken}, CONTEXT) if p.code == "unknown_form")
    assert problem.name == "负责人审批" and "lead.nowhere" in problem.message and "<" not in problem.message


def test_literal_timers_must_parse_and_expressions_compile() -> None:
    timer = LEAD.replace(b'<bpmn:endEvent id="end_minor">',
                         b'<bpmn:intermediateCatchEvent id="wait"><bpmn:incoming>f_minor</bpmn:incoming>'
                         b'<bpmn:outgoing>f_w</bpmn:outgoing><bpmn:timerEventDefinition id="td">'
                         b"<bpmn:timeDuration>'P3X'</bpmn:timeDuration></bpmn:timerEventDefinition>"
                         b'</bpmn:intermediateCatchEvent><bpmn:sequenceFlow id="f_w" sourceRef="wait" '
                         b'targetRef="end_minor"/><bpmn:endEvent id="end_minor">')
    timer = timer.replace(b'targetRef="end_minor"/>\n', b'targetRef="wait"/>\n', 1)
    assert ("bad_timer", "wait") in codes({"lead.bpmn": timer})
    assert ("bad_timer", "wait") not in codes({"lead.bpmn": timer.replace(b"'P3X'", b"'P3D'")})


CALLER = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d_%(a)s" targetNamespace="x">
  <bpmn:process id="%(a)s" isExecutable="true">
    <bpmn:startEvent id="s_%(a)s"><bpmn:outgoing>fa_%(a)s</bpmn:outgoing></bpmn:startEvent>
    <bpmn:callActivity id="call_%(a)s" name="call" calledElement="%(b)s">
      <bpmn:incoming>fa_%(a)s</bpmn:incoming><bpmn:outgoing>fb_%(a)s</bpmn:outgoing></bpmn:callActivity>
    <bpmn:endEvent id="e_%(a)s"><bpmn:incoming>fb_%(a)s</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="fa_%(a)s" sourceRef="s_%(a)s" targetRef="call_%(a)s"/>
    <bpmn:sequenceFlow id="fb_%(a)s" sourceRef="call_%(a)s" targetRef="e_%(a)s"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_call_activities_that_call_each_other_in_a_circle_are_refused() -> None:
    files = {"a.bpmn": CALLER % {b"a": b"pa", b"b": b"pb"}, "b.bpmn": CALLER % {b"a": b"pb", b"b": b"pa"}}
    found = codes(files)
    assert ("call_cycle", "call_pa") in found and ("call_cycle", "call_pb") in found
    itself = codes({"a.bpmn": CALLER % {b"a": b"pa", b"b": b"pa"}})
    assert ("call_cycle", "call_pa") in itself
    missing = codes({"a.bpmn": CALLER % {b"a": b"pa", b"b": b"nowhere"}})
    assert ("call_unknown", "call_pa") in missing
    # a called process must come with its caller: SpiffWorkflow builds it from the same bundle
    deployed = Context(processes=frozenset({"pz"}), calls={"pz": frozenset()})
    assert ("call_unknown", "call_pa") in codes({"a.bpmn": CALLER % {b"a": b"pa", b"b": b"pz"}}, deployed)


def test_a_thrown_message_needs_a_catcher() -> None:
    thrower = LEAD.replace(b'<bpmn:endEvent id="end_minor"><bpmn:incoming>f_minor</bpmn:incoming></bpmn:endEvent>',
                           b'<bpmn:endEvent id="end_minor"><bpmn:incoming>f_minor</bpmn:incoming>'
                           b'<bpmn:messageEventDefinition id="med" messageRef="m1"/></bpmn:endEvent>'
                           ).replace(b'<bpmn:process id="case_lead"', b'<bpmn:message id="m1" name="lead_closed"/>'
                                     b'<bpmn:process id="case_lead"')
    assert ("message_uncaught", "end_minor") in codes({"lead.bpmn": thrower})
    caught = Context(forms=CONTEXT.forms, roles=CONTEXT.roles, catchers=frozenset({"lead_closed"}))
    assert ("message_uncaught", "end_minor") not in codes({"lead.bpmn": thrower}, caught)


def test_unsafe_xml_is_a_problem_not_a_crash() -> None:
    found = validate_bundle({"x.bpmn": b'<!DOCTYPE x [<!ENTITY a "b">]><x/>'}, CONTEXT)
    assert [p.code for p in found] == ["unsafe_xml"]


def _start(db_session: Session) -> str:
    row = start(db_session, "case_lead", OFFICER, {"amount": 50000, "unit_id": "U1"})
    db_session.commit()
    return row.id


def _ready(db_session: Session, instance_id: str) -> list[HumanTask]:
    return list(db_session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                           HumanTask.status == "ready")))


def test_versions_record_their_diff_and_reason_and_a_rollback_is_a_new_version(db_session: Session) -> None:
    (v1,) = deploy(db_session, {"lead.bpmn": LEAD}, SYSTEM)
    (v2,) = deploy(db_session, {"lead.bpmn": with_review()}, ADMIN, reason="复核环节")
    assert v2.version == 2
    assert v2.summary["diff"]["added"] == ["f2b", "review"]
    assert "serious" in v2.summary["diff"]["changed"] and "f2" in v2.summary["diff"]["changed"]
    assert "register" not in v2.summary["diff"]["changed"]
    assert v2.summary["reason"] == "复核环节"
    (same,) = deploy(db_session, {"lead.bpmn": with_review()}, ADMIN, reason="again")
    assert same.id == v2.id
    (from_disk,) = deploy(db_session, {"lead.bpmn": LEAD}, SYSTEM)  # a package deployed at start
    assert from_disk.id == v1.id
    (v3,) = deploy(db_session, {"lead.bpmn": LEAD}, ADMIN, reason="回退", rollback=True)
    assert (v3.version, v3.summary["rollback_to"], v3.content_hash) == (3, 1, v1.content_hash)
    assert v3.summary["diff"]["removed"] == ["f2b", "review"]
    events = list(db_session.scalars(select(AuditEvent).where(AuditEvent.action == "deploy")
                                     .order_by(AuditEvent.id)))
    assert [(e.actor, e.data["version"], e.data.get("reason")) for e in events] == [
        ("system", 1, None), ("admin", 2, "复核环节"), ("admin", 3, "回退")]
    assert events[-1].data["rollback_to"] == 1


def test_a_running_case_moves_to_the_new_version_and_follows_its_flow(db_session: Session) -> None:
    deploy(db_session, {"lead.bpmn": LEAD}, SYSTEM)
    db_session.commit()
    instance_id = _start(db_session)
    (v2,) = deploy(db_session, {"lead.bpmn": with_review()}, ADMIN, reason="复核")
    db_session.commit()
    preview = plan(db_session, instance_id, v2.id)
    assert preview.can_move and preview.unmapped == []
    with pytest.raises(InvalidData):
        migrate(db_session, ADMIN, instance_id, v2.id, reason=" ")
    db_session.rollback()
    migrate(db_session, ADMIN, instance_id, v2.id, reason="采用新流程")
    db_session.commit()
    row = db_session.get(ProcessInstance, instance_id)
    assert row is not None and row.definition_id == v2.id
    (register,) = _ready(db_session, instance_id)
    assert register.task_name == "register"
    complete_task(db_session, register.id, OFFICER, {})
    db_session.commit()
    (review,) = _ready(db_session, instance_id)
    assert (review.task_name, review.form_key) == ("review", "lead.register")
    complete_task(db_session, review.id, OFFICER, {})
    db_session.commit()
    assert [t.task_name for t in _ready(db_session, instance_id)] == ["approve"]
    complete_task(db_session, _ready(db_session, instance_id)[0].id, HEAD, {"approved": True})
    db_session.commit()
    done = db_session.get(ProcessInstance, instance_id)
    assert done is not None and done.status == "completed"


def test_a_task_whose_element_was_removed_needs_a_mapping(db_session: Session) -> None:
    deploy(db_session, {"lead.bpmn": with_review()}, SYSTEM)
    db_session.commit()
    instance_id = _start(db_session)
    complete_task(db_session, _ready(db_session, instance_id)[0].id, OFFICER, {})
    db_session.commit()
    assert [t.task_name for t in _ready(db_session, instance_id)] == ["review"]
    (v2,) = deploy(db_session, {"lead.bpmn": LEAD}, ADMIN, reason="取消复核")
    db_session.commit()
    refused = plan(db_session, instance_id, v2.id)
    assert not refused.can_move and refused.unmapped == ["review"] and "review" in refused.reason
    with pytest.raises(MigrationRefused):
        migrate(db_session, ADMIN, instance_id, v2.id, reason="取消复核")
    db_session.rollback()
    row = db_session.get(ProcessInstance, instance_id)
    assert row is not None and row.definition_id != v2.id
    moved = migrate(db_session, ADMIN, instance_id, v2.id, reason="取消复核", mapping={"review": "approve"})
    db_session.commit()
    assert moved.mapped == {"review": "approve"}
    assert [t.task_name for t in _ready(db_session, instance_id)] == ["approve"]


def test_a_diff_ignores_what_a_modeler_rewrites_in_form_only() -> None:
    from engine.definition_diff import diff_sources

    old = LEAD.decode()
    rewritten = (old.replace('<bpmn:exclusiveGateway id="serious" name="是否需要审批" default="f_minor">',
                             '<bpmn:exclusiveGateway  default="f_minor"\n   name="是否需要审批" id="serious" '
                             'gatewayDirection="Unspecified">')
                 .replace("<bpmn:script>decision", "<bpmn:script>\n      decision"))
    assert diff_sources({"lead.bpmn": old}, {"lead.bpmn": rewritten}) == {"added": [], "removed": [], "changed": []}
    renamed = old.replace('name="记录决定"', 'name="记录审批决定"')
    assert diff_sources({"lead.bpmn": old}, {"lead.bpmn": renamed})["changed"] == ["decide"]

"""Camunda Modeler files: converted, deployed with ``engine.deploy`` and run to the end; decisions
as Camunda takes them; what cannot be converted is named element by element and never deployed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import Actor, InvalidDefinition, WorkflowFailed, complete_task, deploy, instance_data, start
from engine.actor import SYSTEM
from engine.camunda_import import ImportResult, convert, deployable
from engine.models import HumanTask, ProcessDefinition, ProcessInstance, TimerRow
from tests.engine_helpers import FIXTURES

CAMUNDA = FIXTURES / "camunda"
STARTER = Actor.of("officer1", ["officer"], ["U1"])
HEAD = Actor.of("head1", ["head"], ["U1"])


def _files(folder: str) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((CAMUNDA / folder).iterdir())}


def _converted_approval(platform: str = "camunda7") -> ImportResult:
    files = _files("approval")
    if platform == "camunda8":  # the same process modelled for Camunda 8, with the same DMN
        files = {"fine_level.dmn": files["fine_level.dmn"], **_files("zeebe")}
    result = convert(files)
    assert result.problems == []
    assert deployable(result)
    return result


def _ready(session: Session, instance_id: str) -> list[HumanTask]:
    return list(session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                        HumanTask.status == "ready")))


def _one_ready(session: Session, instance_id: str) -> HumanTask:
    ready = _ready(session, instance_id)
    assert len(ready) == 1, [t.task_name for t in ready]
    return ready[0]


def _register(session: Session, amount: float | None, party: str | None, repeat: bool = False,
              process: str = "camunda_fine_approval") -> str:
    instance = start(session, process, STARTER,
                     {"initiator": "officer1", "register_due": "2026-12-31"}, unit_id="U1")
    session.commit()
    task = _one_ready(session, instance.id)
    assert (task.task_name, task.candidate_role, task.form_key) == ("Activity_register", "officer", "fine.proposal")
    assert task.due_at is not None
    complete_task(session, task.id, STARTER, {"amount": amount, "party_type": party, "repeat_offence": repeat})
    session.commit()
    return instance.id


def _status(session: Session, instance_id: str) -> tuple[str, list[str]]:
    row = session.get(ProcessInstance, instance_id, populate_existing=True)
    assert row is not None
    return row.status, list(row.completed_elements or [])


@pytest.mark.parametrize(("platform", "process"), [("camunda7", "camunda_fine_approval"),
                                                  ("camunda8", "zeebe_fine_approval")])
def test_converted_process_deploys_and_runs_both_ways_through_each_gateway(db_session: Session, platform: str,
                                                                           process: str) -> None:
    deploy(db_session, _converted_approval(platform).files, SYSTEM)
    db_session.commit()

    # small fine: the officer lane; the assignee is the converted ${initiator} (=initiator)
    small = _register(db_session, 200, "person", process=process)
    confirm = _one_ready(db_session, small)
    assert (confirm.task_name, confirm.candidate_role, confirm.assignee) == ("Activity_confirm", "officer", "officer1")
    assert confirm.form_key == "fine.confirm"
    complete_task(db_session, confirm.id, STARTER, {})
    db_session.commit()
    assert _status(db_session, small)[0] == "completed"
    assert "Event_confirmed" in _status(db_session, small)[1]

    # large fine: candidateGroups "head" becomes the task's role; approved and not approved
    for approved, end in ((True, "Event_approved"), (False, "Event_rejected")):
        large = _register(db_session, 20000, "organisation", process=process)
        approve = _one_ready(db_session, large)
        assert (approve.task_name, approve.candidate_role, approve.assignee) == ("Activity_approve", "head", None)
        reminder = db_session.scalars(select(TimerRow).where(TimerRow.instance_id == large)).one()  # 'P5D'
        waited = reminder.due_at.replace(tzinfo=None) - approve.created_at.replace(tzinfo=None)
        assert abs(waited - timedelta(days=5)) < timedelta(minutes=1)
        complete_task(db_session, approve.id, HEAD, {"approved": approved})
        db_session.commit()
        status, completed = _status(db_session, large)
        assert status == "completed" and end in completed
        assert db_session.scalar(select(TimerRow.id).where(TimerRow.instance_id == large)) is None


# Camunda's answer for each case, read off the table with FEEL's rules (FIRST hit policy):
# [250..1000] includes both ends, (250..1000] excludes 250, ]1000..50000] excludes 1000.
CAMUNDA_DECISIONS = [
    (249.99, "person", False, "officer"),       # < 250
    (250, "person", False, "officer"),          # [250..1000] includes 250
    (1000, "person", False, "officer"),         # ... and 1000
    (1000.01, "person", False, "head"),         # ]1000..50000]
    (250, "organisation", False, "officer"),    # (250..1000] excludes 250: falls to the next rule
    (250.01, "organisation", False, "head"),    # (250..1000]
    (1000, "other", False, "head"),             # (250..1000] includes 1000
    (50000, "organisation", False, "head"),     # ]1000..50000] includes 50000
    (50000.01, "organisation", False, "collective"),  # > 50000, not("person")
    (60000, "person", False, "head"),           # > 50000, person
    (100, "person", True, "head"),              # repeat offence first
    (10, None, False, "officer"),               # party not tested by the matching rule
]


def test_decision_table_decides_as_camunda_on_both_sides_of_each_boundary(db_session: Session) -> None:
    deploy(db_session, _converted_approval().files, SYSTEM)
    db_session.commit()
    decided = {}
    for amount, party, repeat, _expected in CAMUNDA_DECISIONS:
        instance_id = _register(db_session, amount, party, repeat)
        decided[(amount, party, repeat)] = instance_data(db_session, instance_id, SYSTEM)["approval_level"]
    assert decided == {(a, p, r): level for a, p, r, level in CAMUNDA_DECISIONS}


def test_no_matching_rule_gives_none_like_camundas_null(db_session: Session) -> None:
    """FEEL never matches a comparison against null; the converted table must not raise instead."""
    deploy(db_session, _converted_approval().files, SYSTEM)
    db_session.commit()
    instance = start(db_session, "camunda_fine_approval", STARTER, {"initiator": "officer1", "register_due": ""},
                     unit_id="U1")
    db_session.commit()
    task = _one_ready(db_session, instance.id)
    with pytest.raises(WorkflowFailed, match="No conditions satisfied for Gateway_level"):
        complete_task(db_session, task.id, STARTER, {"amount": None, "party_type": "person",
                                                     "repeat_offence": False})
    db_session.rollback()


def test_unconvertible_parts_are_named_and_refused(db_session: Session) -> None:
    result = convert(_files("unconvertible"))
    assert not deployable(result)
    by_element: dict[str, list[str]] = {}
    for problem in result.problems:
        by_element.setdefault(problem["element"], []).append(problem["message"])
    expected = {
        "Task_java": "no operator",               # camunda:class
        "Task_external": "no operator",           # camunda:type="external"
        "Task_delegate": "no operator",           # camunda:delegateExpression
        "Task_expression": "no operator",         # camunda:expression
        "Task_users": "candidateUsers",
        "Task_groups": "2 groups",
        "Task_due": "computes a date in Java",
        "Task_embedded": "Camunda form location",
        "Task_listeners": "task listeners",
        "Task_io": "input/output mappings",
        "Task_groovy": "groovy",
        "Task_js": "javascript",
        "Flow_getvariable": "Camunda engine object",
        "Flow_bean": "method call",
        "Flow_ternary": "ternary",
        "StartEvent_1": "initiator",
        "Activity_check": "execution listeners",
        "Activity_formdata": "embedded form fields",
        "UnaryTests_func": "FEEL function",
        "LiteralExpression_context": "literal outputs",
        "DecisionTable_sum": "aggregation",
    }
    for element, fragment in expected.items():
        messages = by_element.get(element, [])
        assert any(fragment in m for m in messages), (element, messages)
    names = {p["element"]: p["name"] for p in result.problems}
    assert names["Task_java"] == "推送至省平台"
    # what is harmless is listed, not reported
    ignored = {"file": "legacy_inspection.bpmn", "element": "Process_legacy",
               "what": "ignored camunda:historyTimeToLive"}
    assert ignored in result.converted
    assert not any(p["element"] == "Task_ok" for p in result.problems)


def test_a_half_converted_upload_is_refused_by_deploy_too(db_session: Session) -> None:
    """A caller that ignored ``deployable`` still cannot deploy a Java service task as a no-op:
    the converted task has no operator and ``engine.deploy`` refuses it, storing nothing."""
    result = convert(_files("unconvertible"))
    bpmn_only = {"legacy_inspection.bpmn": result.files["legacy_inspection.bpmn"]}
    with pytest.raises(InvalidDefinition, match="operator"):
        deploy(db_session, bpmn_only, SYSTEM)
    db_session.rollback()
    assert db_session.scalar(select(ProcessInstance.id)) is None


@pytest.mark.parametrize("bad", [b"<bpmn:definitions", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x/>'])
def test_unreadable_files_are_problems_not_exceptions(bad: bytes) -> None:
    result = convert({"broken.bpmn": bad, "notes.txt": b"hello"})
    assert not deployable(result)
    assert {p["file"] for p in result.problems} == {"broken.bpmn", "notes.txt"}


def test_source_fixtures_are_not_cold_warm_bundles() -> None:
    """tests/integration/test_cold_warm.py treats fixtures/*/ with a .bpmn as a bundle; these are one
    level deeper because they only deploy after conversion."""
    bundles = {p.parent for p in FIXTURES.glob("*/*.bpmn")}  # test_every_bundle_has_a_scenario's rule
    assert CAMUNDA not in bundles and not any(CAMUNDA in b.parents for b in bundles)
    assert len(list(CAMUNDA.glob("*/*.bpmn"))) == 3


def test_cli_refuses_to_deploy_with_problems_and_names_each(db_url: str, db_session: Session,
                                                            monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from web.cli import main

    monkeypatch.setenv("DATABASE_URL", db_url)
    folder = CAMUNDA / "unconvertible"
    refused = CliRunner().invoke(main, ["import-camunda", *(str(p) for p in sorted(folder.iterdir())),
                                        "--out", str(tmp_path / "out"), "--deploy"])
    assert refused.exit_code == 1
    assert "legacy_inspection.bpmn: Task_java (推送至省平台): no operator" in refused.output
    assert "risk_score.dmn: UnaryTests_func (DecisionRule_1): cell" in refused.output
    assert not (tmp_path / "out").exists()
    assert db_session.scalar(select(ProcessDefinition.id)) is None


def test_cli_converts_writes_and_deploys(db_url: str, db_session: Session, monkeypatch: pytest.MonkeyPatch,
                                         tmp_path: Path) -> None:
    from click.testing import CliRunner

    from web.cli import main

    monkeypatch.setenv("DATABASE_URL", db_url)
    folder = CAMUNDA / "approval"
    done = CliRunner().invoke(main, ["import-camunda", *(str(p) for p in sorted(folder.iterdir())),
                                     "--out", str(tmp_path / "out"), "--deploy"])
    assert done.exit_code == 0, done.output
    assert "camunda_fine_approval v1" in done.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["fine_approval.bpmn", "fine_level.dmn"]
    assert b"camunda:" not in (tmp_path / "out" / "fine_approval.bpmn").read_bytes()
    keys = db_session.scalars(select(ProcessDefinition.process_key)).all()
    assert keys == ["camunda_fine_approval"]


ZEEBE_UNCONVERTIBLE = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" xmlns:modeler="http://camunda.org/schema/modeler/1.0"
  id="Definitions_0c8" targetNamespace="http://bpmn.io/schema/bpmn" exporter="Camunda Modeler"
  exporterVersion="5.17.0" modeler:executionPlatform="Camunda Cloud" modeler:executionPlatformVersion="8.3.0">
  <bpmn:process id="Process_c8" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:serviceTask id="Task_worker" name="push">
      <bpmn:extensionElements>
        <zeebe:taskDefinition type="push-province" retries="3" />
        <zeebe:ioMapping><zeebe:input source="=case.id" target="caseId" /></zeebe:ioMapping>
      </bpmn:extensionElements>
      <bpmn:incoming>Flow_1</bpmn:incoming><bpmn:outgoing>Flow_2</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:userTask id="Task_form" name="form">
      <bpmn:extensionElements>
        <zeebe:formDefinition formKey="camunda-forms:bpmn:UserTaskForm_1" />
        <zeebe:assignmentDefinition candidateGroups="=groups" />
      </bpmn:extensionElements>
      <bpmn:incoming>Flow_2</bpmn:incoming><bpmn:outgoing>Flow_3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="End_1"><bpmn:incoming>Flow_3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_worker" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_worker" targetRef="Task_form" />
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_form" targetRef="End_1">
      <bpmn:conditionExpression>=count(items) &gt; 1</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
  </bpmn:process>
</bpmn:definitions>
"""


def test_camunda8_job_workers_mappings_and_feel_functions_are_problems() -> None:
    result = convert({"c8.bpmn": ZEEBE_UNCONVERTIBLE})
    assert not deployable(result)
    messages = "\n".join(f"{p['element']}: {p['message']}" for p in result.problems)
    assert "Task_worker: zeebe:taskDefinition" in messages
    assert "Task_worker: zeebe:ioMapping" in messages
    assert "Task_worker: no operator" in messages
    assert "Task_form: zeebe:formKey 'camunda-forms:bpmn:UserTaskForm_1'" in messages
    assert "Task_form: zeebe:candidateGroups '=groups' is an expression" in messages
    assert "Flow_3: condition '=count(items) > 1': FEEL function 'count(...)'" in messages


C7_DETAILS = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Definitions_d" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="Process_d" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_1" name="officer"><bpmn:flowNodeRef>Sub_1</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="Lane_2" name="Sachbearbeiter"><bpmn:flowNodeRef>Task_lane</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:subProcess id="Sub_1">
      <bpmn:userTask id="Task_inner" name="inner" />
    </bpmn:subProcess>
    <bpmn:userTask id="Task_lane" name="in a lane named for people" />
    <bpmn:userTask id="Task_votes" name="votes" camunda:candidateGroups="head">
      <bpmn:multiInstanceLoopCharacteristics camunda:collection="${members}" camunda:elementVariable="member">
        <bpmn:completionCondition>${nrOfCompletedInstances >= 2}</bpmn:completionCondition>
      </bpmn:multiInstanceLoopCharacteristics>
    </bpmn:userTask>
    <bpmn:startEvent id="Start_1" name="Invoice&#10;received" camunda:formKey="embedded:app:forms/start.html" />
    <bpmn:callActivity id="Call_1" calledElement="${subprocessKey}" camunda:async="true">
      <bpmn:extensionElements>
        <camunda:in source="amount" target="amount" />
        <camunda:in source="creditor" target="creditor" />
      </bpmn:extensionElements>
    </bpmn:callActivity>
    <bpmn:intermediateCatchEvent id="Timer_1">
      <bpmn:timerEventDefinition id="TimerDef_1">
        <bpmn:timeCycle>0 0 9 * * ?</bpmn:timeCycle>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def test_lanes_subprocesses_loops_and_attribute_expressions() -> None:
    result = convert({"details.bpmn": C7_DETAILS})
    assert ("Lane_2", "lane name is not a Weijian role name (lower case, digits, _); Weijian offers the lane's "
                      "tasks to the role it names") in {(p["element"], p["message"]) for p in result.problems}
    assert not any(p["element"] == "Task_inner" for p in result.problems)  # the subprocess's lane
    assert {"file": "details.bpmn", "element": "Task_inner", "what": "role from lane 'officer'"} in result.converted
    texts = "\n".join(f"{p['element']}: {p['message']}" for p in result.problems)
    assert "Task_votes: completionCondition '${nrOfCompletedInstances >= 2}'" in texts
    assert "camunda:collection='${members}' is not supported" in texts
    assert "Call_1: calledElement='${subprocessKey}': expressions in BPMN attributes" in texts
    assert "Timer_1: timer '0 0 9 * * ?' is not an ISO 8601 cycle" in texts
    assert texts.count("Call_1: camunda:in:") == 1  # one thing to fix, however many mappings
    start = next(p for p in result.problems if p["element"] == "Start_1")
    assert start["name"] == "Invoice received" and "start form" in start["message"]
    assert {"file": "details.bpmn", "element": "Call_1", "what": "ignored camunda:async"} in result.converted


def test_camunda_files_are_recognised_for_the_upload_page() -> None:
    from engine.camunda_import import looks_like_camunda

    assert looks_like_camunda(_files("approval"))
    assert looks_like_camunda(_files("zeebe"))
    assert looks_like_camunda({"c8.bpmn": ZEEBE_UNCONVERTIBLE})
    weijian = {p.name: p.read_bytes() for p in (FIXTURES / "lead").iterdir()}
    assert not looks_like_camunda(weijian)


def test_deployable_means_spiffworkflow_builds_it() -> None:
    """What converts cleanly but SpiffWorkflow would refuse (schema, a flow to nowhere, no process)
    is a problem too: ``deployable`` promises that ``engine.deploy`` takes the files."""
    files = _files("approval")
    schema = dict(files, **{"fine_approval.bpmn": files["fine_approval.bpmn"].replace(
        b'<bpmn:userTask id="Activity_approve"', b'<bpmn:userTask bogus="1" id="Activity_approve"')})
    refused = convert(schema)
    assert not deployable(refused)
    assert [(p["file"], p["element"]) for p in refused.problems] == [("fine_approval.bpmn", "Activity_approve")]
    assert "bogus" in refused.problems[0]["message"]

    dangling = dict(files, **{"fine_approval.bpmn": files["fine_approval.bpmn"].replace(
        b'targetRef="Event_rejected"', b'targetRef="Event_nowhere"')})
    assert not deployable(convert(dangling))

    decisions_only = convert({"fine_level.dmn": files["fine_level.dmn"]})
    assert not deployable(decisions_only)
    assert "no BPMN file" in decisions_only.problems[0]["message"]


SINGLE_RESULT_DMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="Definitions_sr" name="DRD"
  namespace="http://camunda.org/schema/1.0/dmn">
  <decision id="hearing" name="hearing">
    <decisionTable id="DecisionTable_sr">
      <input id="Input_1" label="fine"><inputExpression id="InputExpression_1" typeRef="double">
        <text>fine</text></inputExpression></input>
      <output id="Output_1" label="right" name="right" typeRef="boolean" />
      <output id="Output_2" label="basis" name="basis" typeRef="string" />
      <rule id="Rule_1">
        <inputEntry id="In_1"><text>&gt;= 10000</text></inputEntry>
        <outputEntry id="Out_1"><text>true</text></outputEntry>
        <outputEntry id="Out_2"><text>"Art. 63: a larger fine; the party may ask for a hearing"</text></outputEntry>
      </rule>
      <rule id="Rule_2">
        <inputEntry id="In_2"><text>[0..10000)</text></inputEntry>
        <outputEntry id="Out_3"><text>false</text></outputEntry>
        <outputEntry id="Out_4"><text></text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
"""

SINGLE_RESULT_BPMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Definitions_srp" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="camunda_hearing_right" isExecutable="true">
    <bpmn:startEvent id="Start_1"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:businessRuleTask id="Rule_hearing" camunda:decisionRef="hearing" camunda:resultVariable="hearing"
        camunda:mapDecisionResult="singleResult">
      <bpmn:incoming>Flow_1</bpmn:incoming><bpmn:outgoing>Flow_2</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:userTask id="Task_look" camunda:candidateGroups="officer">
      <bpmn:incoming>Flow_2</bpmn:incoming><bpmn:outgoing>Flow_3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="End_1"><bpmn:incoming>Flow_3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="Start_1" targetRef="Rule_hearing" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Rule_hearing" targetRef="Task_look" />
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_look" targetRef="End_1" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_single_result_variable_holds_the_outputs_or_none(db_session: Session) -> None:
    """``mapDecisionResult="singleResult"``: the variable is a map of the outputs, null (None) when no
    rule matches; an empty output cell is null, as in Camunda."""
    result = convert({"hearing.dmn": SINGLE_RESULT_DMN, "hearing.bpmn": SINGLE_RESULT_BPMN})
    assert result.problems == []
    deploy(db_session, result.files, SYSTEM)
    db_session.commit()
    seen = {}
    for fine in (20000, 500, -1):
        instance = start(db_session, "camunda_hearing_right", STARTER, {"fine": fine}, unit_id="U1")
        db_session.commit()
        seen[fine] = instance_data(db_session, instance.id, SYSTEM)["hearing"]
    assert seen == {20000: {"right": True, "basis": "Art. 63: a larger fine; the party may ask for a hearing"},
                    500: {"right": False, "basis": None},
                    -1: None}


def _dmn(body: str, namespace: str = "https://www.omg.org/spec/DMN/20191111/MODEL/") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<definitions xmlns="{namespace}" id="D" name="DRD" '
            f'namespace="http://camunda.org/schema/1.0/dmn">{body}</definitions>').encode()


NAMED = "name='r'"
TABLE = ('<decisionTable id="T_{n}" hitPolicy="{policy}"><input id="I_{n}"><inputExpression id="E_{n}" '
         'typeRef="string"><text>x</text></inputExpression></input><output id="O_{n}" {name} typeRef="string" />'
         '</decisionTable>')


@pytest.mark.parametrize(("dmn", "element", "fragment"), [
    (_dmn(f'<decision id="a">{TABLE.format(n=1, policy="UNIQUE", name=NAMED)}</decision>'
          f'<decision id="b">{TABLE.format(n=2, policy="UNIQUE", name=NAMED)}</decision>'),
     "", "2 decisions in one file"),
    (_dmn(f'<decision id="a">{TABLE.format(n=1, policy="PRIORITY", name=NAMED)}</decision>'),
     "T_1", "hit policy PRIORITY"),
    (_dmn(f'<decision id="a">{TABLE.format(n=1, policy="RULE ORDER", name=NAMED)}</decision>'),
     "T_1", "hit policy RULE ORDER"),
    (_dmn(f'<decision id="a">{TABLE.format(n=1, policy="UNIQUE", name="")}</decision>'),
     "O_1", "no name"),
    (_dmn('<decision id="a" name="literal"><literalExpression id="L_1"><text>x * 2</text></literalExpression>'
          '</decision>'), "a", "only decision tables"),
    (_dmn(f'<decision id="a">{TABLE.format(n=1, policy="UNIQUE", name=NAMED)}</decision>',
          "https://www.omg.org/spec/DMN/20230324/MODEL/"), "", "save it as DMN 1.3"),
])
def test_decision_tables_spiffworkflow_cannot_run_are_named(dmn: bytes, element: str, fragment: str) -> None:
    result = convert({"table.dmn": dmn})
    assert not deployable(result)
    assert any(p["file"] == "table.dmn" and p["element"] == element and fragment in p["message"]
               for p in result.problems), result.problems

"""BPMN from other modelling tools: what never executes is ignored with a warning, not refused;
a bundle that executes nothing is refused; warnings are stored with the deployed version."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import InvalidDefinition, complete_task, deploy, start
from engine.actor import SYSTEM
from engine.definitions import bundle_warnings
from engine.models import HumanTask, ProcessDefinition, ProcessInstance
from tests.engine_helpers import OFFICER

# As Camunda Modeler 5 writes a task reading and writing a data store, plus a diagram attribute
# from a Chinese bpmn.io-based tool (label) that the BPMN DI schema does not have.
CAMUNDA_STYLE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="Definitions_1" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:collaboration id="Collaboration_1">
    <bpmn:participant id="Participant_bureau" name="卫生监督所" processRef="check" />
    <bpmn:participant id="Participant_clinic" name="被检查单位" processRef="clinic" />
  </bpmn:collaboration>
  <bpmn:dataStore id="DataStore_registry" name="执业登记库" />
  <bpmn:process id="check" name="日常检查" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_officer" name="officer">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>lookup</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>visit</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:task id="lookup" name="查询执业登记">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:property id="Property_1" name="__targetRef_placeholder" />
      <bpmn:dataInputAssociation id="DataInputAssociation_1">
        <bpmn:sourceRef>DataStoreReference_1</bpmn:sourceRef>
        <bpmn:targetRef>Property_1</bpmn:targetRef>
      </bpmn:dataInputAssociation>
      <bpmn:dataOutputAssociation id="DataOutputAssociation_1">
        <bpmn:targetRef>DataStoreReference_1</bpmn:targetRef>
      </bpmn:dataOutputAssociation>
    </bpmn:task>
    <bpmn:dataStoreReference id="DataStoreReference_1" name="执业登记库" dataStoreRef="DataStore_registry" />
    <bpmn:manualTask id="visit" name="现场检查">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:manualTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="lookup" />
    <bpmn:sequenceFlow id="f2" sourceRef="lookup" targetRef="visit" />
    <bpmn:sequenceFlow id="f3" sourceRef="visit" targetRef="end" />
  </bpmn:process>
  <bpmn:process id="clinic" name="被检查单位流程" isExecutable="false" />
  <bpmndi:BPMNDiagram id="BPMNDiagram_1">
    <bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="Collaboration_1" label="日常检查图">
      <bpmndi:BPMNShape id="lookup_di" bpmnElement="lookup" label="查询">
        <dc:Bounds x="270" y="80" width="100" height="80" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="DataStoreReference_1_di" bpmnElement="DataStoreReference_1">
        <dc:Bounds x="295" y="215" width="50" height="50" />
      </bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ProcessDefinition)) or 0


def test_diagram_extras_and_data_stores_are_ignored_with_warnings_and_the_process_runs(db_session: Session) -> None:
    files = {"check.bpmn": CAMUNDA_STYLE.encode()}
    [definition] = deploy(db_session, files, SYSTEM)
    db_session.commit()
    warnings = definition.summary["warnings"]
    assert warnings == bundle_warnings(files)
    assert all(w["file"] == "check.bpmn" and set(w) == {"file", "element", "message"} for w in warnings)
    by_element = {w["element"]: w["message"] for w in warnings}
    assert set(by_element) == {"lookup", "DataStoreReference_1", "DataStore_registry", "BPMNPlane_1", "lookup_di",
                               "clinic"}
    assert "data store 'DataStoreReference_1'" in by_element["lookup"]
    assert "attribute 'label'" in by_element["BPMNPlane_1"] and "attribute 'label'" in by_element["lookup_di"]
    assert "isExecutable" in by_element["clinic"] and "被检查单位流程" in by_element["clinic"]
    assert not any("<Element" in w["message"] or " at 0x" in w["message"] for w in warnings)  # no reprs
    assert definition.sources["check.bpmn"] == CAMUNDA_STYLE  # the modeler gets its file back as written

    instance = start(db_session, "check", OFFICER, {})
    db_session.commit()
    [task] = db_session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id))
    assert task.task_name == "visit"
    complete_task(db_session, task.id, OFFICER, {})
    db_session.commit()
    assert db_session.get(ProcessInstance, instance.id).status == "completed"  # type: ignore[union-attr]


def test_a_clean_bundle_deploys_without_warnings(db_session: Session) -> None:
    xml = CAMUNDA_STYLE.replace(' label="日常检查图"', "").replace(' label="查询"', "")
    start_at, end_at = xml.index("<bpmn:collaboration"), xml.index("</bpmn:collaboration>")
    xml = xml[:start_at] + xml[end_at + len("</bpmn:collaboration>"):]
    xml = xml.replace('<bpmn:process id="clinic" name="被检查单位流程" isExecutable="false" />', "")
    xml = xml.replace('bpmnElement="Collaboration_1"', 'bpmnElement="check"')
    for start_tag, end_tag in (("<bpmn:property", "</bpmn:dataOutputAssociation>"),
                               ("<bpmn:dataStoreReference", "/>"), ("<bpmn:dataStore ", "/>"),
                               ('<bpmndi:BPMNShape id="DataStoreReference_1_di"', "</bpmndi:BPMNShape>")):
        cut = xml.index(start_tag)
        xml = xml[:cut] + xml[xml.index(end_tag, cut) + len(end_tag):]
    [definition] = deploy(db_session, {"check.bpmn": xml.encode()}, SYSTEM)
    assert definition.summary["warnings"] == []


def test_a_bundle_with_no_executable_process_is_refused(db_session: Session) -> None:
    xml = CAMUNDA_STYLE.replace('isExecutable="true"', 'isExecutable="false"')
    with pytest.raises(InvalidDefinition) as err:
        deploy(db_session, {"check.bpmn": xml.encode()}, SYSTEM)
    db_session.rollback()
    assert "no executable process" in err.value.message and err.value.filename == "check.bpmn"
    with pytest.raises(InvalidDefinition):
        bundle_warnings({"check.bpmn": xml.encode()})
    assert _count(db_session) == 0


def test_schema_errors_in_what_executes_are_still_refused(db_session: Session) -> None:
    xml = CAMUNDA_STYLE.replace('<bpmn:manualTask id="visit" name="现场检查">',
                                '<bpmn:manualTask id="visit" name="现场检查" label="x">')
    with pytest.raises(InvalidDefinition) as err:
        deploy(db_session, {"check.bpmn": xml.encode()}, SYSTEM)
    db_session.rollback()
    assert err.value.element_id == "visit" and "attribute 'label'" in err.value.message
    assert _count(db_session) == 0


def test_an_ad_hoc_sub_process_is_deployed_with_a_warning_that_the_engine_cannot_drive_it() -> None:
    xml = CAMUNDA_STYLE.replace(
        '<bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>',
        '<bpmn:adHocSubProcess id="extra" name="补充调查"><bpmn:incoming>f3</bpmn:incoming>'
        '<bpmn:outgoing>f4</bpmn:outgoing><bpmn:userTask id="ask" name="询问"/></bpmn:adHocSubProcess>'
        '<bpmn:endEvent id="end"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>'
        '<bpmn:sequenceFlow id="f4" sourceRef="extra" targetRef="end" />').replace(
        '<bpmn:sequenceFlow id="f3" sourceRef="visit" targetRef="end" />',
        '<bpmn:sequenceFlow id="f3" sourceRef="visit" targetRef="extra" />')
    [warning] = [w for w in bundle_warnings({"check.bpmn": xml.encode()}) if w["element"] == "extra"]
    assert "ad-hoc sub-process 'extra' (补充调查)" in warning["message"]


def test_a_data_association_to_nothing_is_refused_naming_the_task_and_the_id(db_session: Session) -> None:
    xml = CAMUNDA_STYLE.replace("<bpmn:targetRef>DataStoreReference_1</bpmn:targetRef>",
                                "<bpmn:targetRef>DataObjectReference_gone</bpmn:targetRef>")
    with pytest.raises(InvalidDefinition) as err:
        deploy(db_session, {"check.bpmn": xml.encode()}, SYSTEM)
    db_session.rollback()
    assert err.value.element_id == "lookup"
    assert "'DataObjectReference_gone'" in err.value.message and "查询执业登记" in err.value.message
    assert "<Element" not in err.value.message

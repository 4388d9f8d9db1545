"""A process whose service task records the request id its job runs under (request-id tests)."""

from __future__ import annotations

from typing import Any

from engine import OperatorContext, operator
from integrations.logs import current_request_id

TRACED: list[str | None] = []
TRACED_BPMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs_traced"
  targetNamespace="http://weijian.example/bpmn">
  <bpmn:process id="traced" name="Traced" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_officer" name="officer">
        <bpmn:flowNodeRef>ask</bpmn:flowNodeRef><bpmn:flowNodeRef>after</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="ask" name="Ask">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:serviceTask id="trace" name="Trace">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="test.trace_request" resultVariable="traced">
          <spiffworkflow:parameters/>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:userTask id="after" name="After">
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="ask"/>
    <bpmn:sequenceFlow id="f2" sourceRef="ask" targetRef="trace"/>
    <bpmn:sequenceFlow id="f3" sourceRef="trace" targetRef="after"/>
    <bpmn:sequenceFlow id="f4" sourceRef="after" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


@operator("test.trace_request", "Record the request id the job runs under (tests).")
def trace_request(_params: dict[str, Any], _ctx: OperatorContext) -> dict[str, Any]:
    TRACED.append(current_request_id())
    return {"request_id": current_request_id()}

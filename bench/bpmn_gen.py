"""Generate BPMN for benchmarks and tests: a sequential chain of user tasks in one lane."""

from __future__ import annotations

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  id="defs_{key}" targetNamespace="http://weijian.example/bpmn">
"""


def sequential_user_tasks(key: str, count: int, lane: str = "officer") -> bytes:
    """``count`` user tasks one after the other, all in lane ``lane``, each with a form key."""
    nodes = ['<bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>']
    refs = []
    for i in range(1, count + 1):
        refs.append(f"<bpmn:flowNodeRef>task{i}</bpmn:flowNodeRef>")
        nodes.append(
            f'<bpmn:userTask id="task{i}" name="步骤 {i}"><bpmn:extensionElements><spiffworkflow:properties>'
            f'<spiffworkflow:property name="formKey" value="bench.step"/></spiffworkflow:properties>'
            f'</bpmn:extensionElements><bpmn:incoming>f{i - 1}</bpmn:incoming>'
            f'<bpmn:outgoing>f{i}</bpmn:outgoing></bpmn:userTask>')
    nodes.append(f'<bpmn:endEvent id="end"><bpmn:incoming>f{count}</bpmn:incoming></bpmn:endEvent>')
    flows = ['<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="task1"/>']
    for i in range(1, count + 1):
        target = f"task{i + 1}" if i < count else "end"
        flows.append(f'<bpmn:sequenceFlow id="f{i}" sourceRef="task{i}" targetRef="{target}"/>')
    body = (
        f'<bpmn:process id="{key}" name="{key}" isExecutable="true">'
        f'<bpmn:laneSet id="lanes"><bpmn:lane id="lane_{lane}" name="{lane}">{"".join(refs)}</bpmn:lane></bpmn:laneSet>'
        + "".join(nodes) + "".join(flows) + "</bpmn:process></bpmn:definitions>"
    )
    return (HEADER.format(key=key) + body).encode()


def form_payload(step: int, fields: int = 10) -> dict[str, object]:
    """About 0.6 KB of form data, namespaced by step as a real case accumulates it."""
    return {f"step{step}": {f"field{j}": f"第{step}步 字段{j} 记录内容 abcdefghij" for j in range(fields)}}

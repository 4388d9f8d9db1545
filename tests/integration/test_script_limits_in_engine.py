"""A condition, script or decision-table cell that would hang the worker stops the command with
``ScriptRejected`` naming the element, within a bound, and writes nothing; the penalty package's
decision-table editor refuses the same cells before they are saved."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import ScriptRejected, complete_task, deploy, fire_due_timers, start
from engine.actor import SYSTEM
from engine.models import AuditEvent, HumanTask, ProcessInstance, TimerRow
from processes.penalty.dmn_overrides import PENALTY_DIR
from processes.penalty.dmn_tables import DmnTableError, read_table, validate
from tests.engine_helpers import HEAD, OFFICER, bundle
from tests.unit.test_sandbox_limits import other_thread_counting

BOUND_SECONDS = 6.0


def _lead(script: str | None = None, condition: str | None = None) -> dict[str, bytes]:
    xml = bundle("lead")["lead.bpmn"].decode()
    if script is not None:
        xml = xml.replace("decision = 'approved' if approved else 'rejected'", script)
    if condition is not None:
        xml = xml.replace("amount &gt; 10000", condition)
    return {"lead.bpmn": xml.encode()}


def _counts(session: Session) -> tuple[int, int, int]:
    return (session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
            session.scalar(select(func.count()).select_from(ProcessInstance)) or 0,
            session.scalar(select(func.count()).select_from(HumanTask)) or 0)


@pytest.mark.parametrize("condition", [
    "sum(range(10**15)) &gt; 0",
    "len(str(9**9**9)) &gt; 0",
    "len('x' * 10**10) &gt; amount",
    "sum(1 for a in range(10**6) for b in range(10**6)) &gt; 0",
])
def test_a_hostile_gateway_condition_is_rejected_naming_the_gateway(db_session: Session, condition: str) -> None:
    deploy(db_session, _lead(condition=condition), SYSTEM)
    instance = start(db_session, "case_lead", OFFICER, {})
    db_session.commit()
    [register] = db_session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id))
    before = _counts(db_session)
    state = db_session.get(ProcessInstance, instance.id).state  # type: ignore[union-attr]
    with other_thread_counting() as counted:
        started, progress = time.monotonic(), counted()
        with pytest.raises(ScriptRejected) as err:
            complete_task(db_session, register.id, OFFICER, {"amount": 20000})
        elapsed, progress = time.monotonic() - started, counted() - progress
    db_session.rollback()
    assert elapsed < BOUND_SECONDS
    assert err.value.task_name == "serious"
    assert err.value.message.startswith("'serious' (是否需要审批): script refused:")
    assert "object at 0x" not in err.value.message
    if elapsed > 0.1:  # a loop ran until the budget stopped it: the other thread ran meanwhile
        assert progress > 0
    assert _counts(db_session) == before
    assert db_session.get(ProcessInstance, instance.id).state == state  # type: ignore[union-attr]
    assert db_session.get(HumanTask, register.id).status == "ready"  # type: ignore[union-attr]


def test_an_endless_script_task_is_rejected_within_the_bound_while_other_threads_run(db_session: Session) -> None:
    deploy(db_session, _lead(script="n = 0\nwhile True:\n    n = n + 1"), SYSTEM)
    instance = start(db_session, "case_lead", OFFICER, {})
    db_session.commit()
    [register] = db_session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id))
    complete_task(db_session, register.id, OFFICER, {"amount": 20000})
    db_session.commit()
    [approve] = db_session.scalars(select(HumanTask).where(HumanTask.status == "ready"))
    before = _counts(db_session)
    with other_thread_counting() as counted:
        started, progress = time.monotonic(), counted()
        with pytest.raises(ScriptRejected) as err:
            complete_task(db_session, approve.id, HEAD, {"approved": True})
        elapsed, progress = time.monotonic() - started, counted() - progress
    db_session.rollback()
    assert elapsed < BOUND_SECONDS and progress > 0
    assert err.value.task_name == "decide"
    assert "steps" in err.value.message or " s " in err.value.message
    assert _counts(db_session) == before
    assert db_session.get(HumanTask, approve.id).status == "ready"  # type: ignore[union-attr]


_DMN_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs_rated" targetNamespace="x">
  <bpmn:process id="rated" name="Rated" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:businessRuleTask id="rate" name="Rate the fine">
      <bpmn:extensionElements><spiffworkflow:calledDecisionId>rate_table</spiffworkflow:calledDecisionId>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="rate"/>
    <bpmn:sequenceFlow id="f2" sourceRef="rate" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""

_DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="defs_rate" name="Rate" namespace="x">
  <decision id="rate_table" name="Rate">
    <decisionTable id="t" hitPolicy="FIRST">
      <input id="in1" label="Fine">
        <inputExpression id="ie1" typeRef="number"><text>fine</text></inputExpression></input>
      <output id="out1" label="Level" name="level" typeRef="string"/>
      <rule id="r1"><inputEntry id="r1_i1"><text>{cell}</text></inputEntry>
        <outputEntry id="r1_o1"><text>'high'</text></outputEntry></rule>
      <rule id="r2"><inputEntry id="r2_i1"><text>-</text></inputEntry>
        <outputEntry id="r2_o1"><text>'low'</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>"""


@pytest.mark.parametrize("cell", [
    "&gt; sum(range(10**15))",
    "&gt; len('x' * 10**10)",
    "? &gt; len(str(9**9**9))",
    "&gt; sum(1 for a in range(10**6) for b in range(10**6))",
])
def test_a_hostile_decision_table_cell_is_rejected_at_the_business_rule_task(db_session: Session,
                                                                            cell: str) -> None:
    files = {"rated.bpmn": _DMN_BPMN.encode(), "rate.dmn": _DMN.format(cell=cell).encode()}
    deploy(db_session, files, SYSTEM)
    db_session.commit()
    before = _counts(db_session)
    started = time.monotonic()
    with pytest.raises(ScriptRejected) as err:
        start(db_session, "rated", OFFICER, {"fine": 5})
    db_session.rollback()
    assert time.monotonic() - started < BOUND_SECONDS
    assert err.value.task_name == "rate"
    assert err.value.message.startswith("'rate' (Rate the fine): script refused:")
    assert _counts(db_session) == before


def test_an_ordinary_decision_table_still_decides(db_session: Session) -> None:
    files = {"rated.bpmn": _DMN_BPMN.encode(), "rate.dmn": _DMN.format(cell="&gt; 10 ** 4 * 2").encode()}
    deploy(db_session, files, SYSTEM)
    high = start(db_session, "rated", OFFICER, {"fine": 30000})
    low = start(db_session, "rated", OFFICER, {"fine": 5})
    db_session.commit()
    assert (high.status, low.status) == ("completed", "completed")


@pytest.mark.parametrize("cell", ["> len('x' * 10**10)", "> sum(range(10**15))", "? > len(str(9**9**9))"])
def test_the_penalty_decision_table_editor_refuses_a_hostile_cell(cell: str) -> None:
    table = read_table((PENALTY_DIR / "hearing_right.dmn").read_bytes(), "hearing_right.dmn")
    fine_column = next(i for i, c in enumerate(table.inputs) if c.type_ref == "number")
    table.rows[0].inputs[fine_column] = cell
    started = time.monotonic()
    with pytest.raises(DmnTableError) as err:
        validate(table)
    assert time.monotonic() - started < BOUND_SECONDS
    assert err.value.row == 1
    assert "script refused" in err.value.message


_TIMED_LOOP = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs_wait" targetNamespace="x">
  <bpmn:process id="wait_then_loop" name="Wait then loop" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="wait" name="Wait an hour">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:scriptTask id="spin" name="Spin"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:script>while True: pass</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="spin"/>
    <bpmn:sequenceFlow id="f3" sourceRef="spin" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_the_scheduler_records_an_endless_script_on_the_timer_and_goes_on(db_session: Session) -> None:
    calm = _TIMED_LOOP.replace("wait_then_loop", "wait_then_note").replace("while True: pass", "noted = True")
    deploy(db_session, {"wait.bpmn": _TIMED_LOOP.encode()}, SYSTEM)
    deploy(db_session, {"calm.bpmn": calm.encode()}, SYSTEM)
    now = datetime(2025, 9, 30, 2, 0, tzinfo=UTC)
    looping = start(db_session, "wait_then_loop", OFFICER, {}, now=now)
    calm_case = start(db_session, "wait_then_note", OFFICER, {}, now=now)
    db_session.commit()
    started = time.monotonic()
    report = fire_due_timers(db_session, now + timedelta(hours=2))
    db_session.commit()
    assert time.monotonic() - started < BOUND_SECONDS
    [(instance_id, message)] = report.failures
    assert instance_id == looping.id and message.startswith("'spin' (Spin): script refused:")
    [row] = db_session.scalars(select(TimerRow).where(TimerRow.instance_id == looping.id))
    assert (row.attempts, row.last_error) == (1, message)
    assert db_session.get(ProcessInstance, looping.id).status == "running"  # type: ignore[union-attr]
    assert report.fired == [calm_case.id]
    assert db_session.get(ProcessInstance, calm_case.id).status == "completed"  # type: ignore[union-attr]

"""The script sandbox: escapes are refused, ordinary scripts and conditions still work, and a real
BPMN run sends scripts, gateway conditions and timer expressions through it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from engine.calendar import WorkCalendar
from engine.sandbox import (
    SandboxedScriptEngine,
    SandboxError,
    ScriptRefused,
    check_script,
    current_calendar,
    use_calendar,
    yuan,
)

# 2025-09-30 10:00 in Beijing.
CLOCK = datetime(2025, 9, 30, 2, 0, tzinfo=UTC)


@pytest.fixture
def engine() -> SandboxedScriptEngine:
    return SandboxedScriptEngine(clock=lambda: CLOCK)


def evaluate(engine: SandboxedScriptEngine, expression: str, **data: Any) -> Any:
    return engine.environment.evaluate(expression, data)


def execute(engine: SandboxedScriptEngine, script: str, **data: Any) -> dict[str, Any]:
    engine.environment.execute(script, data)
    return data


# -- refused -------------------------------------------------------------------------------------

ESCAPES = [
    "().__class__.__base__.__subclasses__()",
    "__import__('os')",
    "open('/etc/passwd')",
    "getattr(x, '__class__')",
    "(lambda: 0).__globals__",
    "x.__dict__",
    "'{0.__class__}'.format(1)",
    "'{0.__class__}'.format_map({})",
    "str.format('{0.__class__}', 1)",
    "type(1)",
    "vars()",
    "globals()",
    "eval('1')",
    "compile('1', '', 'eval')",
    "(i for i in ()).gi_frame",
    "date.mro()",
    "datetime.now()",
    "date.today()",
    "SystemExit",
    "print(1)",
]


@pytest.mark.parametrize("expression", ESCAPES)
def test_escape_expressions_are_refused(engine: SandboxedScriptEngine, expression: str) -> None:
    with pytest.raises(ScriptRefused) as info:
        evaluate(engine, expression, x=[1])
    assert info.value.script is not None
    assert info.value.reason


@pytest.mark.parametrize("script", [
    "import os",
    "from os import path",
    "import os as o",
    "class A:\n    pass",
    "x = 1\nexec('import os')",
    "raise SystemExit(1)",
    "raise KeyboardInterrupt",
    "x = 1\ny = open",
    "def f(a=open):\n    return a",
    "try:\n    1 / 0\nexcept Exception as e:\n    tb = e.__traceback__",
    "f = add_workdays.__closure__",
    "g = (v for v in [1])\nframe = g.gi_frame",
    "m = [].append.__self__",
    "yield 1",
    "return 1",
    "async def f():\n    pass",
    "x = = 1",
])
def test_escape_scripts_are_refused_before_running(engine: SandboxedScriptEngine, script: str) -> None:
    data: dict[str, Any] = {"keep": 1}
    with pytest.raises(ScriptRefused):
        engine.environment.execute(script, data)
    assert data == {"keep": 1}  # nothing ran, nothing leaked into task data


def test_refusal_carries_script_reason_and_line(engine: SandboxedScriptEngine) -> None:
    script = "a = 1\nb = x.__class__"
    with pytest.raises(ScriptRefused) as info:
        execute(engine, script, x=1)
    err = info.value
    assert err.script == script
    assert "__class__" in err.reason
    assert err.line_number == 2
    assert err.error_line == "b = x.__class__"
    assert isinstance(err, SandboxError)
    assert isinstance(err, WorkflowTaskException)


def test_runtime_refusal_reports_its_line(engine: SandboxedScriptEngine) -> None:
    script = "a = 1\nb = 2\nc = 'x{}'.format(a)"
    with pytest.raises(ScriptRefused) as info:
        execute(engine, script)
    assert info.value.line_number == 3
    assert info.value.error_line == "c = 'x{}'.format(a)"


def test_check_script_refuses_at_deployment() -> None:
    check_script("fine = yuan(amount * 0.03)")
    check_script("amount > 10000", "eval")
    with pytest.raises(ScriptRefused, match="import"):
        check_script("import subprocess")


def test_builtins_and_guards_are_out_of_reach(engine: SandboxedScriptEngine) -> None:
    for expression in ("__builtins__", "_getattr_", "setattr(x, 'a', 1)", "hasattr(x, '__class__')"):
        with pytest.raises(ScriptRefused):
            evaluate(engine, expression, x={})


# -- allowed -------------------------------------------------------------------------------------

def test_conditions(engine: SandboxedScriptEngine) -> None:
    assert evaluate(engine, "amount > 10000 and party_type == 'org'", amount=12000, party_type="org") is True
    assert evaluate(engine, "amount > 10000 and party_type == 'org'", amount=200, party_type="org") is False
    # BPMN XML indents condition text.
    assert evaluate(engine, "\n    amount >= 3000\n  ", amount=3000) is True
    assert evaluate(engine, "len([v for v in items if v > limit])", items=[1, 5, 9], limit=4) == 2


def test_data_may_use_words_that_are_forbidden_builtins(engine: SandboxedScriptEngine) -> None:
    assert evaluate(engine, "type == 'org'", type="org") is True
    assert execute(engine, "type = 'person'\nis_person = type == 'person'")["is_person"] is True


def test_scripts_mutate_task_data(engine: SandboxedScriptEngine) -> None:
    data = execute(engine, (
        "evidence.append({'kind': 'photo', 'n': 3})\n"
        "party['name'] = party['name'].strip()\n"
        "total = 0\n"
        "for kind, n in counts.items():\n"
        "    total += n\n"
        "del kind, n\n"
        "names = sorted(p['name'] for p in people)\n"
        "first, *rest = names\n"
    ), evidence=[], party={"name": " 某医院 "}, counts={"a": 1, "b": 2},
        people=[{"name": "王"}, {"name": "李"}])
    assert data["evidence"] == [{"kind": "photo", "n": 3}]
    assert data["party"] == {"name": "某医院"}
    assert data["total"] == 3
    assert data["names"] == ["李", "王"]
    assert (data["first"], data["rest"]) == ("李", ["王"])
    assert "add_workdays" not in data
    assert "__builtins__" not in data
    assert "_getattr_" not in data


def test_functions_defined_in_a_script_work_and_are_not_stored(engine: SandboxedScriptEngine) -> None:
    data = execute(engine, "def double(v):\n    return v * 2\nr = double(21)")
    assert data == {"r": 42}


def test_add_workdays_across_national_day(engine: SandboxedScriptEngine) -> None:
    assert evaluate(engine, "add_workdays(date(2025, 9, 30), 5)") == "2025-10-14"
    assert evaluate(engine, "add_workdays('2025-09-30', 5)") == "2025-10-14"
    assert evaluate(engine, "add_workdays(now(), 5)") == "2025-10-14T10:00:00+08:00"
    assert evaluate(engine, "add_days(served_on, 15)", served_on="2025-09-20") == "2025-10-09"
    assert evaluate(engine, "workdays_between(today(), '2025-10-14')") == 5


def test_clock_helpers_follow_the_engine_clock(engine: SandboxedScriptEngine) -> None:
    assert evaluate(engine, "today()") == date(2025, 9, 30)
    assert evaluate(engine, "now().isoformat()") == "2025-09-30T10:00:00+08:00"
    assert evaluate(engine, "today() > parse_date(due)", due="2025-09-29") is True
    late = SandboxedScriptEngine(clock=lambda: datetime(2025, 9, 30, 17, 0, tzinfo=UTC))
    assert evaluate(late, "today()") == date(2025, 10, 1)  # already October 1st in Beijing


def test_naive_clock_is_rejected() -> None:
    engine = SandboxedScriptEngine(clock=lambda: datetime(2025, 9, 30, 10, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate(engine, "now()")


def test_parse_date_forms(engine: SandboxedScriptEngine) -> None:
    for text in ("2025-10-09", "2025/10/09", "2025年10月9日", "2025-10-09T01:00:00+08:00",
                 "2025-10-08T20:00:00+00:00"):
        assert evaluate(engine, "parse_date(s)", s=text) == date(2025, 10, 9)


def test_yuan_rounds_half_up_and_stays_json() -> None:
    assert yuan(2.675) == 2.68
    assert yuan("1234.565") == 1234.57
    assert yuan(3) == 3.0
    assert yuan(-0.005) == -0.01
    assert isinstance(yuan(1), float)
    with pytest.raises(TypeError):
        yuan(True)
    with pytest.raises(ValueError, match="not an amount"):
        yuan(float("nan"))


def test_non_json_values_left_in_task_data_fail_at_the_script(engine: SandboxedScriptEngine) -> None:
    with pytest.raises(TypeError, match=r"received holds a date.*isoformat"):
        execute(engine, "received = today()")
    with pytest.raises(TypeError, match="tuple"):
        execute(engine, "pair = (1, 2)")
    with pytest.raises(TypeError, match="function"):
        execute(engine, "callbacks = [lambda: 1]")
    with pytest.raises(TypeError, match="non-string key"):
        execute(engine, "counts = {1: 'a'}")
    data = execute(engine, "t = today()\nreceived = t.isoformat()\nfine = yuan(Decimal('10.005'))\ndel t")
    assert data == {"received": "2025-09-30", "fine": 10.01}


def test_task_data_cannot_shadow_helpers_in_scripts(engine: SandboxedScriptEngine) -> None:
    with pytest.raises(ValueError, match="overwrites a predefined"):
        execute(engine, "x = 1", today="2025-01-01")


# -- calendar reaching the sandbox ---------------------------------------------------------------

def test_use_calendar_wins_over_the_engine_calendar_and_collects_guesses(
        engine: SandboxedScriptEngine) -> None:
    extra_day_off = WorkCalendar({date(2025, 10, 9): False})
    with use_calendar(extra_day_off) as use:
        assert evaluate(engine, "add_workdays('2025-09-30', 5)") == "2025-10-15"
        assert current_calendar.get() is use
        assert evaluate(engine, "add_workdays('2031-01-06', 5)") == "2031-01-13"
    assert use.unknown_years == {2031}
    assert current_calendar.get() is None
    assert evaluate(engine, "add_workdays('2025-09-30', 5)") == "2025-10-14"


def test_constructor_calendar_is_the_fallback() -> None:
    engine = SandboxedScriptEngine(WorkCalendar({date(2025, 10, 9): False}), clock=lambda: CLOCK)
    assert evaluate(engine, "add_workdays('2025-09-30', 5)") == "2025-10-15"
    with use_calendar(None) as use:
        assert evaluate(engine, "add_days('2026-12-20', 15)") == "2027-01-04"
    assert use.unknown_years == {2027}


# -- a real BPMN run -----------------------------------------------------------------------------

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs" targetNamespace="weijian-test">
  <bpmn:process id="penalty" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="compute" />
    <bpmn:scriptTask id="compute" name="Compute fine and deadline">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>SCRIPT</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="compute" targetRef="wait" />
    <bpmn:intermediateCatchEvent id="wait" name="Statement period ends">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:timerEventDefinition>
        <bpmn:timeDate>add_workdays(served_on, 5)</bpmn:timeDate>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="wait" targetRef="gw" />
    <bpmn:exclusiveGateway id="gw" name="Hearing right?" default="small">
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>big</bpmn:outgoing><bpmn:outgoing>small</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="big" sourceRef="gw" targetRef="hearing">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">CONDITION</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="small" sourceRef="gw" targetRef="no_hearing" />
    <bpmn:scriptTask id="hearing"><bpmn:incoming>big</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
      <bpmn:script>route = 'hearing'</bpmn:script></bpmn:scriptTask>
    <bpmn:scriptTask id="no_hearing"><bpmn:incoming>small</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing>
      <bpmn:script>route = 'no hearing'</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f4" sourceRef="hearing" targetRef="end" />
    <bpmn:sequenceFlow id="f5" sourceRef="no_hearing" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f4</bpmn:incoming><bpmn:incoming>f5</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""

SCRIPT = """fine = yuan(amount * 0.1)
due = add_workdays(served_on, 5)
steps.append('computed')"""

CONDITION = "fine &gt; 10000 and party_type == 'org' and workdays_between(served_on, due) == 5"


def run(script: str = SCRIPT, condition: str = CONDITION, **data: Any) -> BpmnWorkflow:
    parser = SpiffBpmnParser()
    xml = BPMN.replace("SCRIPT", script).replace("CONDITION", condition)
    parser.add_bpmn_str(xml.encode(), "penalty.bpmn")
    engine = SandboxedScriptEngine(clock=lambda: CLOCK)
    workflow = BpmnWorkflow(parser.get_spec("penalty"), script_engine=engine)
    start = workflow.get_tasks(state=TaskState.READY)[0]
    start.data.update({"amount": 150000, "party_type": "org", "served_on": "2025-09-30", "steps": []} | data)
    workflow.do_engine_steps()
    return workflow


def completed(workflow: BpmnWorkflow, bpmn_id: str) -> Any:
    return next(t for t in workflow.get_tasks(state=TaskState.COMPLETED) if t.task_spec.bpmn_id == bpmn_id)


def test_bpmn_scripts_conditions_and_timers_run_in_the_sandbox() -> None:
    workflow = run()
    assert workflow.is_completed()
    assert workflow.data["route"] == "hearing"
    assert workflow.data["fine"] == 15000.0
    assert workflow.data["due"] == "2025-10-14"
    assert workflow.data["steps"] == ["computed"]
    assert completed(workflow, "wait").internal_data["event_value"] == "2025-10-14"


def test_bpmn_default_flow_when_condition_is_false() -> None:
    workflow = run(party_type="person")
    assert workflow.data["route"] == "no hearing"


def test_bpmn_hostile_gateway_condition_is_refused() -> None:
    with pytest.raises(ScriptRefused) as info:
        run(condition="().__class__.__base__.__subclasses__()")
    assert info.value.task is not None
    assert info.value.task.task_spec.bpmn_id == "gw"


def test_bpmn_hostile_script_is_refused_with_task_and_line() -> None:
    with pytest.raises(ScriptRefused) as info:
        run(script="fine = 1\nimport os")
    err = info.value
    assert err.task.task_spec.bpmn_id == "compute"
    assert err.line_number == 2
    assert err.error_line == "import os"


def test_bpmn_runtime_error_keeps_spiffs_path() -> None:
    with pytest.raises(WorkflowTaskException) as info:
        run(script="fine = 1\ndue = amount / 0")
    err = info.value
    assert not isinstance(err, SandboxError)
    assert err.task.task_spec.bpmn_id == "compute"
    assert err.line_number == 2
    assert err.error_line == "due = amount / 0"
    assert err.error_type == "ZeroDivisionError"


def test_indented_condition_refusal_points_at_the_right_line(engine: SandboxedScriptEngine) -> None:
    with pytest.raises(ScriptRefused) as info:
        evaluate(engine, "\n    (amount > 1 and\n     x.__class__)\n", amount=2, x=1)
    assert info.value.line_number == 2
    assert info.value.error_line.strip() == "x.__class__)"


def test_validate_keeps_spiffs_syntax_error_contract_for_dmn(engine: SandboxedScriptEngine) -> None:
    # DMN's needs_eq() relies on SyntaxError for entries such as "> 5" to add the left-hand side.
    with pytest.raises(SyntaxError):
        engine.validate("> 5")
    engine.validate("v > 5")
    with pytest.raises(ScriptRefused):
        engine.validate("v.__class__")


def test_end_of_day_is_the_last_second_of_that_day_in_china() -> None:
    from engine.sandbox import script_helpers

    helpers = script_helpers(WorkCalendar, lambda: datetime(2025, 9, 30, tzinfo=UTC))
    assert helpers["end_of_day"]("2025-10-11") == "2025-10-11T23:59:59+08:00"
    assert helpers["end_of_day"]("2025-10-10T20:00:00+00:00") == "2025-10-11T23:59:59+08:00"

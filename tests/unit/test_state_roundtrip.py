"""Stored state loads back into the same workflow, whatever the cache did in between.

The serializer writes predicted tasks without data and reuses their dicts while they do not
change; a workflow loaded from the stored bytes (another process, a cache miss) must behave
exactly like the one that stayed in memory, and store the same bytes.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import orjson
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from bench.bpmn_gen import form_payload, sequential_user_tasks
from engine.state import (
    COMPRESS_OVER,
    SERIALIZER,
    SERIALIZER_VERSION,
    LeanWorkflowConverter,
    dump_state,
    load_state,
    prune_history,
)
from engine.xmlsafe import parse_xml


def _spec(steps: int) -> tuple[object, dict[str, object]]:
    parser = SpiffBpmnParser()
    parser.add_bpmn_xml(parse_xml(sequential_user_tasks("seq", steps), "seq.bpmn"), "seq.bpmn")
    return parser.get_spec("seq"), parser.get_subprocess_specs("seq")


def _step(workflow: BpmnWorkflow, step: int) -> None:
    [task] = workflow.get_tasks(state=TaskState.READY, manual=True)
    task.data.update(form_payload(step))
    task.run()
    workflow.do_engine_steps()


def test_memory_and_stored_state_run_the_same_case() -> None:
    spec, subs = _spec(6)
    kept = BpmnWorkflow(spec, subs)  # type: ignore[arg-type]
    kept.do_engine_steps()
    for step in range(1, 7):
        prune_history(kept)
        blob = dump_state(kept)
        assert dump_state(kept) == blob  # the reused dicts change nothing
        loaded = load_state(blob, spec, subs, SERIALIZER_VERSION)  # type: ignore[arg-type]
        assert dump_state(loaded) == blob
        ready_kept = [(t.task_spec.name, t.data) for t in kept.get_tasks(state=TaskState.READY)]
        ready_loaded = [(t.task_spec.name, t.data) for t in loaded.get_tasks(state=TaskState.READY)]
        assert ready_kept == ready_loaded
        predicted = list(loaded.get_tasks(state=TaskState.FUTURE))
        assert predicted and all(t.data == {} for t in predicted)
        _step(kept, step)
        _step(loaded, step)
        assert kept.is_completed() == loaded.is_completed()
    assert kept.is_completed()
    blob = dump_state(kept)
    final = orjson.loads(zlib.decompress(blob[1:]) if blob[:1] == b"z" else blob)
    assert all(f"step{n}" in final["data"] or any(f"step{n}" in t["data"] for t in final["tasks"].values())
               for n in range(1, 7))


def _generic_dict(workflow: BpmnWorkflow) -> dict[str, object]:
    """What SpiffWorkflow's own converters give (tasks through the registry's dispatch)."""
    from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnSubWorkflowConverter, WorkflowConverter

    registry = SERIALIZER.registry
    converter = LeanWorkflowConverter.__new__(LeanWorkflowConverter)
    converter.registry = registry
    dct: dict[str, object] = WorkflowConverter.to_dict(converter, workflow)
    subs = {}
    for key, sub in workflow.subprocesses.items():
        sub_converter = BpmnSubWorkflowConverter.__new__(BpmnSubWorkflowConverter)
        sub_converter.registry = registry
        subs[str(key)] = {**BpmnSubWorkflowConverter.to_dict(sub_converter, sub), "typename": "BpmnSubWorkflow"}
    dct["subprocesses"] = subs
    dct["bpmn_events"] = registry.convert(workflow.bpmn_events)
    dct["typename"] = "BpmnWorkflow"
    return dct


def _encoded(dct: object) -> bytes:
    return orjson.dumps(dct, default=str, option=orjson.OPT_NON_STR_KEYS)


def test_the_one_loop_conversion_writes_what_spiffworkflow_writes() -> None:
    """Tasks (and subprocess tasks) converted in one loop give SpiffWorkflow's own dicts, in its
    key order, at every step of a case with parallel branches, an embedded subprocess and a call
    activity."""
    parser = SpiffBpmnParser()
    path = Path(__file__).parents[1] / "fixtures" / "structures" / "structures.bpmn"
    parser.add_bpmn_xml(parse_xml(path.read_bytes(), path.name), path.name)
    workflow = BpmnWorkflow(parser.get_spec("structured_case"), parser.get_subprocess_specs("structured_case"))
    workflow.do_engine_steps()
    seen_subprocess = False
    for _ in range(12):
        registry = SERIALIZER.registry
        registry._encoder_mode = True
        try:
            fast, generic = SERIALIZER.to_dict(workflow), _generic_dict(workflow)
        finally:
            registry._encoder_mode = False
        assert _encoded(fast) == _encoded(generic)
        seen_subprocess = seen_subprocess or bool(workflow.subprocesses)
        ready = workflow.get_tasks(state=TaskState.READY, manual=True)
        if not ready:
            break
        ready[0].data.update({"note": "x", "agree": True, "checked": True})
        ready[0].run()
        workflow.do_engine_steps()
        prune_history(workflow)
    assert workflow.is_completed() and seen_subprocess


def test_a_large_state_is_stored_compressed_and_loads_back() -> None:
    spec, subs = _spec(3)
    workflow = BpmnWorkflow(spec, subs)  # type: ignore[arg-type]
    workflow.do_engine_steps()
    small = dump_state(workflow)
    assert small[:1] == b"{"  # small states stay plain JSON
    [task] = workflow.get_tasks(state=TaskState.READY, manual=True)
    task.data.update({f"note{i}": f"现场检查记录 {i} " * 20 for i in range(200)})
    blob = dump_state(workflow)
    assert blob[:1] == b"z" and len(blob) < COMPRESS_OVER
    loaded = load_state(blob, spec, subs, SERIALIZER_VERSION)  # type: ignore[arg-type]
    assert dump_state(loaded) == blob
    [again] = loaded.get_tasks(state=TaskState.READY, manual=True)
    assert again.data == task.data


def test_a_finished_case_is_stored_compressed() -> None:
    spec, subs = _spec(4)
    workflow = BpmnWorkflow(spec, subs)  # type: ignore[arg-type]
    workflow.do_engine_steps()
    for step in range(1, 5):
        _step(workflow, step)
    prune_history(workflow)
    assert workflow.is_completed()
    blob = dump_state(workflow)
    assert blob[:1] == b"z"
    assert load_state(blob, spec, subs, SERIALIZER_VERSION).is_completed()  # type: ignore[arg-type]

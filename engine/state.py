"""Workflow state as stored: SpiffWorkflow's serializer output without the spec, history pruned.

Why pruned: SpiffWorkflow keeps every finished task in its tree, so loading and saving a case
would cost more with each step. The engine keeps its own history (audit trail, finished
human-task rows, ``completed_elements``), so the stored tree only needs the part still alive:
the subtree under the lowest common ancestor of the unfinished tasks. SpiffWorkflow finds a
task's parent by id in ``workflow.tasks``, so a task whose parent was dropped simply becomes the
root and the serializer stores its full data.

Why without the spec: the spec is immutable per definition version and cached in memory
(``engine.definitions.load_spec``); storing it in every instance would multiply the row size.
"""

from __future__ import annotations

import json
import threading
import zlib
from collections import OrderedDict
from typing import Any
from uuid import UUID

import orjson
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnSubWorkflowConverter,
    BpmnWorkflowConverter,
    TaskConverter,
)
from SpiffWorkflow.bpmn.serializer.workflow import VERSION, BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

SERIALIZER_VERSION = f"spiff-{VERSION}+lean1"
_ZLIB_PREFIX = b"z"
# Compress only large states. zlib at level 1 costs about 4 us per KB of state, while writing a
# KB less saves SQLite well under 1 us (bench.engine: the 8 KB threshold this replaced made the
# last steps of a 15-task case the dearest); PostgreSQL compresses large values itself (TOAST).
# What compression is for is the rare case with tens of KB of form data, and the final state of
# a finished case: written once, kept for years, and holding the case's data twice (the last
# task's and the workflow's), so it is compressed from a small size on.
COMPRESS_OVER = 32 * 1024
COMPRESS_FINISHED_OVER = 1024


class LeanWorkflowConverter(BpmnWorkflowConverter):
    """Top-level workflow converter that neither writes nor parses the spec.

    ``from_dict`` expects the caller to have put the live spec objects under ``spec`` and
    ``subprocess_specs``; ``DictionaryConverter.restore`` passes non-dict values through.
    Its tasks are converted in one loop (``tasks_to_dict``) instead of through the registry's
    per-object dispatch: the same dicts, a third less time for a case's state.
    """

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = workflow_fields(self.registry, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct


class LeanSubWorkflowConverter(BpmnSubWorkflowConverter):
    """A subprocess's workflow, its tasks converted like the top level's."""

    def to_dict(self, workflow: Any) -> dict[str, Any]:
        dct = workflow_fields(self.registry, workflow)
        dct["parent_task_id"] = str(workflow.parent_task_id)
        dct["spec"] = workflow.spec.name
        return dct


def workflow_fields(registry: Any, workflow: Any) -> dict[str, Any]:
    """What SpiffWorkflow's ``WorkflowConverter.to_dict`` writes for a workflow or subprocess, in
    its key order, with the tasks converted in one loop."""
    return {
        "data": registry.convert(registry.clean(workflow.data)),
        "correlations": workflow.correlations,
        "last_task": str(workflow.last_task.id) if workflow.last_task is not None else None,
        "success": workflow.success,
        "completed": workflow.completed,
        "tasks": tasks_to_dict(registry, workflow.tasks),
        "root": str(workflow.task_tree.id),
    }


def tasks_to_dict(registry: Any, tasks: dict[UUID, Task]) -> dict[str, Any]:
    """``{task id: task dict}``, each exactly as the registry would give it (``typename`` last)."""
    convert = registry.convert_to_dict[TASK_TYPENAME]
    out: dict[str, Any] = {}
    for task in tasks.values():
        dct = _kept_dict(task) or convert(task)
        out[dct["id"]] = dct
    return out


class LeanTaskConverter(TaskConverter):
    """A task with no data of its own (a predicted or waiting task) is written as empty data.

    SpiffWorkflow stores a child's data as a delta against its parent; for an empty child that
    delta lists every key of the parent as deleted, and computing it walks the parent's data
    once per predicted task. Loading ``{"data": {}, "delta": {}}`` restores the same empty
    dict, so the round trip is exact.
    """

    def to_dict(self, task: Task) -> dict[str, Any]:
        if not _is_lean(task):
            dct: dict[str, Any] = super().to_dict(task)
            return dct
        kept = _kept_dict(task)
        if kept is not None:
            return kept
        dct = {
            "id": str(task.id), "parent": str(task._parent),
            "children": [str(child) for child in task._children],
            "last_state_change": task.last_state_change, "state": task.state,
            "task_spec": task.task_spec.name, "triggered": task.triggered,
            "internal_data": {}, "data": {}, "delta": {}, "typename": TASK_TYPENAME,
        }
        task.__dict__["_weijian_dict"] = (_memo_key(task), dct)
        return dct


TASK_TYPENAME = "Task"


def _is_lean(task: Task) -> bool:
    """No data of its own and not the root: written as empty data (``LeanTaskConverter``)."""
    return not (task.data or task.internal_data) and task.parent is not None


def _kept_dict(task: Task) -> dict[str, Any] | None:
    """The dict kept on a lean task whose state, parent and children have not changed since.

    A predicted task looks the same from one command to the next, and the workflow cache keeps
    the task objects, so its dict is kept on it until any of these change."""
    memo = task.__dict__.get("_weijian_dict")
    if memo is None or not _is_lean(task) or memo[0] != _memo_key(task):
        return None
    kept: dict[str, Any] = memo[1]
    return kept


def _memo_key(task: Task) -> tuple[Any, ...]:
    return (task._state, task.last_state_change, task.triggered, task._parent, tuple(task._children))


def _make_serializer() -> BpmnWorkflowSerializer:
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = LeanWorkflowConverter
    config[Task] = LeanTaskConverter
    config[BpmnSubWorkflow] = LeanSubWorkflowConverter
    registry = BpmnWorkflowSerializer.configure(config)
    assert registry.typenames[Task] == TASK_TYPENAME
    return BpmnWorkflowSerializer(registry, version=SERIALIZER_VERSION)


SERIALIZER = _make_serializer()


def dump_state(workflow: BpmnWorkflow) -> bytes:
    """Serialize ``workflow`` (already pruned) to compact bytes; zlib when it pays."""
    registry = SERIALIZER.registry
    registry._encoder_mode = True
    try:
        dct = SERIALIZER.to_dict(workflow)
    finally:
        registry._encoder_mode = False
    raw = _encode(dct)
    if len(raw) > (COMPRESS_FINISHED_OVER if workflow.is_completed() else COMPRESS_OVER):
        return _ZLIB_PREFIX + zlib.compress(raw, 1)
    return raw


def _encode(dct: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON. orjson encodes a case's state in a seventh of the time the json
    module takes; integers beyond 64 bits (which a script may compute) fall back to json."""
    try:
        return orjson.dumps(dct, default=_json_default, option=orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError:
        return json.dumps(dct, separators=(",", ":"), ensure_ascii=False, default=_json_default).encode()


def _json_default(value: object) -> object:
    if hasattr(value, "isoformat"):
        return value.isoformat()  # dates put in task data by scripts
    raise TypeError(f"task data value of type {type(value).__name__} is not JSON-serializable")


def load_state(blob: bytes, spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec],
               serializer_version: str) -> BpmnWorkflow:
    if serializer_version != SERIALIZER_VERSION:
        migrate_state_version(serializer_version)
    raw = zlib.decompress(blob[1:]) if blob[:1] == _ZLIB_PREFIX else blob
    dct = orjson.loads(raw)
    dct["spec"] = spec
    dct["subprocess_specs"] = subprocess_specs
    workflow: BpmnWorkflow = SERIALIZER.from_dict(dct)
    return workflow


class WorkflowCache:
    """Deserialized workflows kept between commands, keyed by (instance id, row version).

    A command *takes* its workflow out of the cache, so a command that fails half-way can
    never leave a half-run workflow behind; ``runtime.save`` puts it back under the row
    version it wrote. If the caller then rolls back, the database keeps the old version and
    the cached entry simply never matches again. Other processes change the row version, so
    a stale entry is never used.
    """

    def __init__(self, size: int = 2000) -> None:
        self.size = size
        self._items: OrderedDict[str, tuple[int, BpmnWorkflow]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, instance_id: str, version: int) -> BpmnWorkflow | None:
        with self._lock:
            item = self._items.pop(instance_id, None)
        return item[1] if item is not None and item[0] == version else None

    def put(self, instance_id: str, version: int, workflow: BpmnWorkflow) -> None:
        with self._lock:
            self._items[instance_id] = (version, workflow)
            self._items.move_to_end(instance_id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


WORKFLOW_CACHE = WorkflowCache()


def migrate_state_version(version: str) -> None:
    """Old serializer versions are migrated on load; there is only one so far."""
    raise ValueError(f"unknown workflow state serializer version {version!r}")


def _unfinished(workflow: Any) -> list[Task]:
    return [t for t in workflow.tasks.values() if not t.has_state(TaskState.FINISHED_MASK)]


def _lowest_common_ancestor(tasks: list[Task]) -> Task:
    chain: list[Task] = []
    node: Task | None = tasks[0]
    while node is not None:
        chain.append(node)
        node = node.parent
    index = {t.id: i for i, t in enumerate(chain)}
    deepest_allowed = 0
    for task in tasks[1:]:
        walk: Task | None = task
        while walk is not None and walk.id not in index:
            walk = walk.parent
        if walk is None:  # disjoint trees cannot happen in one workflow; keep everything
            return chain[-1]
        deepest_allowed = max(deepest_allowed, index[walk.id])
    return chain[deepest_allowed]


def _frontier(unfinished: list[Task]) -> list[Task]:
    """The unfinished tasks whose parent is finished (or absent). Every unfinished task lies
    under one of them, so their common ancestor is everyone's; and there are only a few of them,
    where all the predicted tasks of a long sequence would make the ancestor search quadratic."""
    roots = []
    for task in unfinished:
        parent = task.parent
        if parent is None or parent.has_state(TaskState.FINISHED_MASK):
            roots.append(task)
    return roots or unfinished


def _prune_one(workflow: Any) -> None:
    unfinished = _frontier(_unfinished(workflow))
    if unfinished:
        # Keep one finished task above the live part: SpiffWorkflow tasks copy their parent's
        # data when they are updated, so a waiting task must never become the root.
        lca = _lowest_common_ancestor(unfinished)
        new_root = lca.parent if lca.parent is not None else lca
    else:
        last = workflow.last_task if workflow.last_task is not None else None
        new_root = last if last is not None and last.id in workflow.tasks else workflow.task_tree
    if new_root is workflow.task_tree:
        return
    keep: dict[UUID, Task] = {}
    stack = [new_root]
    while stack:
        task = stack.pop()
        keep[task.id] = task
        stack.extend(task.children)
    workflow.tasks = keep
    workflow.task_tree = new_root
    if workflow.last_task is not None and workflow.last_task.id not in keep:
        workflow.last_task = None


def prune_history(workflow: BpmnWorkflow) -> None:
    """Drop finished tasks above the live part of the tree, in the workflow and its subprocesses."""
    _prune_one(workflow)
    for subprocess in list(workflow.subprocesses.values()):
        _prune_one(subprocess)
    # Subprocesses whose calling task is gone from every tree are finished history too.
    changed = True
    while changed:
        changed = False
        live_ids: set[UUID] = set(workflow.tasks)
        for sp in workflow.subprocesses.values():
            live_ids.update(sp.tasks)
        for sp_id in list(workflow.subprocesses):
            if sp_id not in live_ids:
                del workflow.subprocesses[sp_id]
                changed = True

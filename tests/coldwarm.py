"""Cold/warm differential driving: the same case run twice, once with every process cache kept
warm and once with every cache cleared before each session, compared step by step.

Any process may run any step of any instance (several web and worker processes), so a workflow
loaded cold from the database must behave exactly like the one a process kept warm. What is
compared after each command is what a user or the law would see change: each instance's status,
its ready human tasks, timers, subscriptions and jobs, and its whole stored workflow state (task
tree, states, data, internal data), with random ids replaced by their order of appearance.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine import clear_caches
from engine.models import HumanTask, MessageSubscription, OutboxJob, ProcessInstance, TimerRow

# Random ids: UUIDs, the 8-hex-digit short form some business keys use (案源-d6e2b1b6), and
# SHA-256 digests (documents and archives embed random ids, so their digests differ per run).
UUID_RE = re.compile(r"(?<![0-9a-f])(?:[0-9a-f]{64}|[0-9a-f]{8}(?:-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})?)"
                     r"(?![0-9a-f])")
Snapshot = list[dict[str, Any]]


class Tracer:
    """A session factory that records a snapshot whenever the stored cases changed, and in cold
    mode forgets every cache of this process before each session (as a fresh process would)."""

    def __init__(self, factory: sessionmaker[Session], cold: bool) -> None:
        self.factory, self.cold = factory, cold
        self.trace: list[Snapshot] = []

    def __call__(self) -> Session:
        self.observe()
        if self.cold:
            clear_caches()
        return self.factory()

    def observe(self) -> None:
        with self.factory() as session:
            snap = snapshot(session)
        if not self.trace or self.trace[-1] != snap:
            self.trace.append(snap)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self() as session:
            yield session


def snapshot(session: Session) -> Snapshot:
    """Every instance as a user would see it, random ids replaced by their order of appearance."""
    ids = _Ids()
    instances = sorted(session.scalars(select(ProcessInstance)),
                       key=lambda r: (r.started_at, r.process_key, r.business_key or "", r.id))
    out = []
    for row in instances:
        state = canonical_state(row.state, ids) if row.state else None
        tasks = sorted(session.scalars(select(HumanTask).where(HumanTask.instance_id == row.id,
                                                               HumanTask.status == "ready")),
                       key=lambda t: ids.order(t.id))
        out.append(ids.normalize({
            "process": row.process_key, "status": row.status, "business_key": row.business_key,
            "completed_elements": sorted(row.completed_elements or []), "state": state,
            "ready": [(t.id, t.task_name, t.assignee, t.candidate_role, t.form_key, t.lane,
                       t.due_at.isoformat() if t.due_at else None, t.due_uncertain) for t in tasks],
            "timers": sorted((t.element_id, t.due_at.isoformat(), t.task_id) for t in session.scalars(
                select(TimerRow).where(TimerRow.instance_id == row.id))),
            "subscriptions": sorted((s.message_name, s.correlation_key, s.correlation_value) for s in session.scalars(
                select(MessageSubscription).where(MessageSubscription.instance_id == row.id))),
            "jobs": sorted((j.element_id, j.operator, j.status, j.attempts, orjson.dumps(j.params).decode())
                           for j in session.scalars(select(OutboxJob).where(OutboxJob.instance_id == row.id))),
        }))
    return out


class _Ids:
    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def order(self, value: str) -> int:
        return self.seen.setdefault(value, len(self.seen))

    def normalize(self, value: Any) -> Any:
        if isinstance(value, str):
            return UUID_RE.sub(lambda m: f"#{self.order(m.group(0))}", value)
        if isinstance(value, dict):
            return {self.normalize(k): self.normalize(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.normalize(v) for v in value]
        return value


def canonical_state(blob: bytes, ids: _Ids) -> dict[str, Any]:
    """The stored workflow as a tree walked from its root (ids numbered in walk order); the
    time each task last changed state is left out (wall-clock, not the case's time)."""
    raw = zlib.decompress(blob[1:]) if blob[:1] == b"z" else blob
    dct = orjson.loads(raw)

    def tree(workflow: dict[str, Any]) -> dict[str, Any]:
        tasks = workflow["tasks"]

        def node(task_id: str) -> dict[str, Any]:
            ids.order(task_id)
            task = tasks[task_id]
            return {"spec": task["task_spec"], "state": task["state"], "triggered": task["triggered"],
                    "data": task["data"], "delta": task.get("delta"), "internal": task["internal_data"],
                    "children": [node(c) for c in task["children"] if c in tasks]}

        return {"data": workflow["data"], "correlations": workflow.get("correlations"),
                "completed": workflow["completed"], "success": workflow["success"], "root": node(workflow["root"])}

    top = tree(dct)
    subprocesses = {}
    for parent_id in sorted(dct["subprocesses"], key=ids.order):
        subprocesses[parent_id] = tree(dct["subprocesses"][parent_id])
    return {"workflow": top, "subprocesses": subprocesses}


def first_difference(warm: list[Snapshot], cold: list[Snapshot]) -> str | None:
    """Where two traces part, as a readable message (None when they are the same)."""
    for step, (a, b) in enumerate(zip(warm, cold, strict=False)):
        if a != b:
            found: list[str] = []
            _diffs(a, b, "", found)
            return f"step {step}: " + "; ".join(found[:6])
    if len(warm) != len(cold):
        return (f"warm ran {len(warm)} steps, cold {len(cold)}; "
                f"last warm: {_brief(warm[-1])}, last cold: {_brief(cold[-1])}")
    return None


def _brief(snap: Snapshot) -> list[tuple[str, str, list[str]]]:
    return [(i["process"], i["status"], [r[1] for r in i["ready"]]) for i in snap]


def _diffs(a: Any, b: Any, path: str, found: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            if a.get(key) != b.get(key):
                _diffs(a.get(key), b.get(key), f"{path}.{key}", found)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                _diffs(x, y, f"{path}[{index}]", found)
    else:
        found.append(f"{path or '<root>'}: warm {a!r:.300}, cold {b!r:.300}")


def run_both(drive: Callable[[Tracer], None], make_factory: Callable[[], sessionmaker[Session]]) -> list[Snapshot]:
    """Drive a fresh database warm, another cold; assert the traces match; return the warm one."""
    traces = []
    for cold in (False, True):
        clear_caches()
        tracer = Tracer(make_factory(), cold)
        drive(tracer)
        tracer.observe()
        traces.append(tracer.trace)
    clear_caches()
    difference = first_difference(*traces)
    assert difference is None, difference
    return traces[0]

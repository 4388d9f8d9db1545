"""A case's audit trail grouped by stage for the case page.

A closed penalty case writes 50 to 100 audit events; listed flat they made the page 10,000 px
tall and hid where the case stands. The process packages have no stage mapping of their own and
BPMN lanes are roles (officer, head), not phases, so a stage here is what the case list's
"stage" filter already means: a human step. A stage begins with the first event of a user task
and holds, in time order, every following event up to the next user task's: the automatic steps
its completion set off (a generated document, the case number), timers, comments. The events
before the first user task (the start) form a stage of their own.

Finished stages are collapsed on the page. Open are the stage the case stands in (the last one,
and any whose task is ready) while it runs, and every stage with an incident (a service task
that failed and waits for an administrator, or was resolved by hand; a stalled process).

Element ids become their BPMN names (``doc_filing_report`` -> 生成立案报告) from the parsed spec,
which ``engine.definitions`` caches per definition; the name table is kept beside it, so a page
adds no query per event and none per definition once warm.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from engine.definitions import LoadedSpec, load_spec
from engine.models import AuditEvent, OutboxJob, ProcessDefinition, ProcessInstance

from .audit_labels import action_text
from .extensions import dbs

INCIDENT_ACTIONS = frozenset({"incident_resolved", "instance_stalled", "instance_repaired"})
"""Events that mean something went wrong in a stage (the stage stays open on the page)."""
NAMES_CACHE_MAX = 256  # definitions; each table is a few hundred short strings

_names: dict[int, tuple[LoadedSpec, dict[str, str]]] = {}
_names_lock = threading.Lock()


def element_names(definition: ProcessDefinition | None) -> Mapping[str, str]:
    """Element id -> BPMN name for every named element of the definition and the processes it
    calls. Kept per parsed spec (the spec cache is per database and definition id, and a deployed
    version never changes), so the table is built once per definition."""
    if definition is None:
        return {}
    loaded = load_spec(definition)
    entry = _names.get(id(loaded))
    if entry is not None and entry[0] is loaded:
        return entry[1]
    names: dict[str, str] = {}
    for spec in (loaded.spec, *loaded.subprocess_specs.values()):
        for task_spec in spec.task_specs.values():
            element, name = getattr(task_spec, "bpmn_id", None), getattr(task_spec, "bpmn_name", None)
            if element and name:
                names.setdefault(element, name)
    with _names_lock:
        if len(_names) >= NAMES_CACHE_MAX:
            _names.clear()
        _names[id(loaded)] = (loaded, names)
    return names


@dataclass
class Stage:
    key: str  # the user task's element id; "" for the events before the first one
    name: str  # Chinese domain text (the BPMN name, or the first event's label)
    events: list[AuditEvent] = field(default_factory=list)
    current: bool = False
    incident: bool = False

    @property
    def open(self) -> bool:
        return self.current or self.incident

    @property
    def started_at(self) -> datetime:
        return self.events[0].created_at

    @property
    def ended_at(self) -> datetime:
        return self.events[-1].created_at


def group_stages(events: Iterable[AuditEvent], names: Mapping[str, str], human: set[str], *,
                 running: bool = False, ready: Iterable[str] = (), incidents: Iterable[str] = ()) -> list[Stage]:
    """The events (in chain order) as stages; see the module's docstring for the rule.

    ``human``: the user-task element ids; ``ready``: element ids of the case's ready tasks;
    ``incidents``: element ids of its service tasks with an open incident.
    """
    stages: list[Stage] = []
    failing = set(incidents)
    for event in events:
        element = event.task_name or ""
        if element in human and (not stages or stages[-1].key != element):
            stages.append(Stage(element, names.get(element, element)))
        elif not stages:
            stages.append(Stage("", action_text(event.action)))
        stage = stages[-1]
        stage.events.append(event)
        if event.action in INCIDENT_ACTIONS or (element and element in failing):
            stage.incident = True
    if running and stages:
        waiting = set(ready)
        stages[-1].current = True
        for stage in stages:
            stage.current = stage.current or stage.key in waiting
    return stages


def case_stages(instance: ProcessInstance, definition: ProcessDefinition | None,
                events: list[AuditEvent], ready: Iterable[str]) -> list[Stage]:
    """The case page's history. One query for open incidents, and only for a case not yet
    completed (a completed case has none: its jobs all ran)."""
    incidents: list[str] = []
    if instance.status != "completed":
        incidents = list(dbs().scalars(select(OutboxJob.element_id).where(OutboxJob.instance_id == instance.id,
                                                                          OutboxJob.status == "incident")))
    human = {task["id"] for task in (definition.summary.get("user_tasks", []) if definition else [])}
    return group_stages(events, element_names(definition), human,
                        running=instance.status in ("running", "stalled", "suspended"), ready=ready,
                        incidents=incidents)

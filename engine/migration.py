"""Moving running instances to another version of their process.

A deployed version never changes and an instance keeps the version it started on. When an
administrator fixes a flow, the cases already running can be moved: SpiffWorkflow's own diff
(``SpiffWorkflow.bpmn.util.diff``) aligns each live task with the element of the same id in the
new version, and ``migrate_workflow`` re-predicts what lies ahead. A task whose element is gone
cannot move unless the administrator maps it to an element of the new version; the preview says
so per instance, and an instance that cannot move stays where it is, with the reason.

Ready inbox rows are rebuilt from the new version (title, form, role, due date may have changed):
the rows of the moved tasks are replaced, keeping who had claimed a task when its role is the
same. Every move is one command through the usual path (locked load, save, audit event).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.util.diff import WorkflowDiff, diff_workflow, migrate_workflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from .actor import Actor
from .definitions import LoadedSpec, spec_by_id
from .errors import ConflictError, InvalidData, NotFound
from .models import HumanTask, ProcessDefinition, ProcessInstance
from .runtime import Command, Loaded, advance, load, save
from .state import SERIALIZER, load_state

_MOVABLE = ("running", "suspended", "stalled")


class MigrationRefused(ConflictError):
    """The instance cannot move to that version as it stands (the reason says why)."""

    code = "migration_refused"


@dataclass
class Plan:
    """What moving one instance would do."""

    instance_id: str
    can_move: bool
    reason: str = ""
    unmapped: list[str] = field(default_factory=list)  # live elements missing from the new version
    changed: list[str] = field(default_factory=list)  # live elements whose definition changed
    mapped: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"instance_id": self.instance_id, "can_move": self.can_move, "reason": self.reason,
                "unmapped": self.unmapped, "changed": self.changed, "mapped": self.mapped}


def _element(task: Any) -> str:
    return str(getattr(task.task_spec, "bpmn_id", None) or task.task_spec.name)


def _target(session: Session, row: ProcessInstance, definition_id: int) -> tuple[ProcessDefinition, LoadedSpec]:
    target = session.get(ProcessDefinition, definition_id)
    if target is None:
        raise NotFound(f"process definition {definition_id} does not exist")
    if target.process_key != row.process_key:
        raise InvalidData(f"version {target.version} belongs to '{target.process_key}', not '{row.process_key}'")
    return target, spec_by_id(session, target.id)


def _diffs(workflow: BpmnWorkflow, new: LoadedSpec) -> tuple[WorkflowDiff, dict[Any, WorkflowDiff | None]]:
    top, subs = diff_workflow(SERIALIZER.registry, workflow, new.spec, new.subprocess_specs)
    return top, subs


def _apply_mapping(diff: WorkflowDiff, spec: Any, mapping: dict[str, str], mapped: dict[str, str],
                   unmapped: list[str]) -> None:
    """Align each removed task with its mapped element, or list it as unmapped."""
    for task in list(diff.removed):
        old = _element(task)
        target = mapping.get(old)
        new_spec = spec.task_specs.get(target) if target else None
        if new_spec is None:
            unmapped.append(old)
            continue
        diff.removed.remove(task)
        diff.alignment[task] = new_spec
        mapped[old] = target or ""


def plan(session: Session, instance_id: str, definition_id: int, mapping: dict[str, str] | None = None,
         workflow: BpmnWorkflow | None = None) -> Plan:
    """Preview moving ``instance_id`` to ``definition_id`` with ``mapping`` (old element -> new)."""
    return _plan(session, instance_id, definition_id, mapping, workflow)[0]


_Diffs = tuple[WorkflowDiff, dict[Any, WorkflowDiff | None]]


def _plan(session: Session, instance_id: str, definition_id: int, mapping: dict[str, str] | None,
          workflow: BpmnWorkflow | None) -> tuple[Plan, _Diffs | None]:
    """The preview and the diffs it computed (with the mapping applied), for ``migrate`` to use:
    SpiffWorkflow's diff compares every task spec of both versions, so it is computed once."""
    row = session.get(ProcessInstance, instance_id)
    if row is None:
        raise NotFound(f"no process instance {instance_id}")
    result = Plan(instance_id, True)
    if row.status not in _MOVABLE:
        return Plan(instance_id, False, f"the instance is {row.status}"), None
    if row.definition_id == definition_id:
        return Plan(instance_id, False, "the instance already runs on that version"), None
    _target_def, new = _target(session, row, definition_id)
    if workflow is None:
        old = spec_by_id(session, row.definition_id)
        workflow = load_state(row.state, old.spec, old.subprocess_specs, row.serializer_version)
    top, subs = _diffs(workflow, new)
    _apply_mapping(top, new.spec, mapping or {}, result.mapped, result.unmapped)
    result.changed = sorted({_element(t) for t in top.changed if not t.has_state(TaskState.FINISHED_MASK)})
    for sp_id, sp_diff in subs.items():
        sp = workflow.subprocesses[sp_id]
        if sp_diff is None:
            result.unmapped.append(sp.spec.name)
            continue
        _apply_mapping(sp_diff, new.subprocess_specs[sp.spec.name], mapping or {}, result.mapped, result.unmapped)
    result.unmapped = sorted(set(result.unmapped))
    if result.unmapped:
        result.can_move = False
        result.reason = ("elements of this case are not in the new version and are not mapped: "
                         + ", ".join(result.unmapped))
    return result, (top, subs)


def migrate(session: Session, actor: Actor, instance_id: str, definition_id: int, reason: str,
            mapping: dict[str, str] | None = None) -> Plan:
    """Move one instance (one command: nothing is written if it cannot move)."""
    if not (reason or "").strip():
        raise InvalidData("a reason is required to migrate an instance")
    cmd = Command(session, actor)
    loaded = load(cmd, instance_id)
    row = loaded.row
    preview, diffs = _plan(session, instance_id, definition_id, mapping, loaded.workflow)
    if not preview.can_move or diffs is None:
        raise MigrationRefused(preview.reason, instance_id=instance_id)
    target, new = _target(session, row, definition_id)
    workflow = loaded.workflow
    top, subs = diffs
    held = _ready_rows(session, row)
    migrate_workflow(top, workflow, new.spec)
    workflow.subprocess_specs = new.subprocess_specs
    for sp_id, sp_diff in subs.items():
        if sp_diff is not None:
            sp = workflow.subprocesses[sp_id]
            migrate_workflow(sp_diff, sp, new.subprocess_specs[sp.spec.name])
    old_version = session.scalar(select(ProcessDefinition.version)
                                 .where(ProcessDefinition.id == row.definition_id))
    row.definition_id = target.id
    _forget_ready_rows(session, loaded, held)
    if row.status == "stalled":
        row.status = "running"
    cmd.record(loaded, "instance_migrated", {"from_version": old_version, "to_version": target.version,
                                             "reason": reason.strip(), "mapping": mapping or {},
                                             "changed": preview.changed})
    advance(cmd, loaded)
    save(cmd)
    _restore_claims(session, held)
    return preview


def _ready_rows(session: Session, row: ProcessInstance) -> dict[str, tuple[str | None, str | None, Any]]:
    """task id -> (assignee, candidate role, created at) of the instance's ready inbox rows."""
    rows = session.execute(select(HumanTask.id, HumanTask.assignee, HumanTask.candidate_role, HumanTask.created_at)
                           .where(HumanTask.instance_id == row.id, HumanTask.status == "ready")).all()
    return {r.id: (r.assignee, r.candidate_role, r.created_at) for r in rows}


def _forget_ready_rows(session: Session, loaded: Loaded, held: dict[str, Any]) -> None:
    """Drop the ready rows so ``save`` builds them again from the new version's elements."""
    if held:
        session.execute(delete(HumanTask).where(HumanTask.id.in_(list(held))))
    loaded.row.ready_task_ids = []
    loaded.humans.clear()


def _restore_claims(session: Session, held: dict[str, tuple[str | None, str | None, Any]]) -> None:
    """A task still ready under the same role keeps its claim and its age in the inbox."""
    for task_id, (assignee, role, created_at) in held.items():
        values: dict[str, Any] = {"created_at": created_at}
        session.execute(update(HumanTask).where(HumanTask.id == task_id, HumanTask.status == "ready")
                        .values(**values))
        if assignee:
            session.execute(update(HumanTask).where(HumanTask.id == task_id, HumanTask.status == "ready",
                                                    HumanTask.candidate_role == role, HumanTask.assignee.is_(None))
                            .values(assignee=assignee))

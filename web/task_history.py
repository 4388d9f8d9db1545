"""One task's own history for its page: created, claimed, released, reassigned, due date moved,
completed, each with who and when.

Why from the audit chain: every change of who holds a task already records an audit event with
the task's id (``engine.tasks``), so the task's history is those events, never a second record
that could disagree with the chain. Creation is the task row itself (the engine audits no
separate event for it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from engine.models import AuditEvent, HumanTask
from processes.directory.services import display_names

from .extensions import dbs

SHOWN = {"task_claimed", "task_unclaimed", "task_assigned", "task_due_changed", "task_follow_up_set",
         "task_completed", "task_substituted", "task_substitute_refused", "task_delegated", "task_resolved"}
MOVES = {"task_assigned", "task_substituted", "task_delegated", "task_resolved"}  # from someone to someone


@dataclass
class TaskEvent:
    action: str
    label: str
    who: str
    at: datetime
    detail: str = ""


def task_events(task: HumanTask) -> list[TaskEvent]:
    """The task's events, oldest first (one query for the events, one for the names)."""
    rows = list(dbs().scalars(select(AuditEvent).where(AuditEvent.instance_id == task.instance_id,
                                                       AuditEvent.task_id == task.id,
                                                       AuditEvent.action.in_(sorted(SHOWN)))
                              .order_by(AuditEvent.seq)))
    people: set[str | None] = {e.actor for e in rows}
    for event in rows:
        if event.action in MOVES or event.action == "task_substitute_refused":
            people |= {event.data.get("from"), event.data.get("to"), event.data.get("on_behalf_of"),
                       event.data.get("assignee"), event.data.get("substitute")}
    names = display_names(dbs(), people)

    def name(user: str | None) -> str:
        return names.get(user or "", user or "") or _("unassigned")

    events = [TaskEvent("task_created", _("Task created"), "", task.created_at)]
    for event in rows:
        detail = ""
        if event.action in MOVES:
            detail = _("from %(old)s to %(new)s", old=name(event.data.get("from")), new=name(event.data.get("to")))
            if event.data.get("on_behalf_of"):
                detail = f"{detail}（{_('on behalf of %(name)s', name=name(event.data.get('on_behalf_of')))}）"
            if event.data.get("note"):
                detail = f"{detail}；{_('note')}：{event.data['note']}"
        elif event.action == "task_substitute_refused":
            detail = _("%(substitute)s may not stand in for %(absent)s: %(why)s",
                       substitute=name(event.data.get("substitute")), absent=name(event.data.get("assignee")),
                       why=event.data.get("why", ""))
        elif event.action == "task_follow_up_set":
            on = event.data.get("on")
            detail = _("until %(day)s", day=on) if on else _("removed")
        elif event.action == "task_due_changed":
            detail = _("new due date %(day)s", day=str(event.data.get("to", ""))[:10])
        reason = event.data.get("reason") if isinstance(event.data, dict) else None
        if reason:
            detail = f"{detail}；{_('reason')}：{reason}" if detail else f"{_('reason')}：{reason}"
        events.append(TaskEvent(event.action, _label(event.action), name(event.actor), event.created_at, detail))
    return events


def _label(action: str) -> str:
    return {"task_claimed": _("Task claimed"), "task_unclaimed": _("Task released"),
            "task_assigned": _("Task reassigned"), "task_due_changed": _("Due date changed"),
            "task_follow_up_set": _("Follow-up date set"),
            "task_substituted": _("Routed to the substitute"),
            "task_substitute_refused": _("Kept: the substitute may not hold it"),
            "task_delegated": _("Task delegated"), "task_resolved": _("Handed back by the delegate"),
            "task_completed": _("Task completed")}.get(action, action)

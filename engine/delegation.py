"""Delegation with return (Camunda's delegate/resolve), and handing a held task to a substitute.

Why not a plain reassignment: a head who delegates an approval still owns it. The delegate
works on it (fills in the form, may save it) but cannot complete it; resolving sends it back
to the owner, who reviews what the delegate entered and completes it. The row keeps ``owner``
and ``delegation`` ("pending", then "resolved") so inboxes show both sides without another
query. Every step is an event on the case's audit chain with the task's id.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from . import permissions
from .actor import Actor
from .errors import ConflictError, InvalidData, PermissionDenied
from .instances import get_ready_task
from .models import HumanTask
from .runtime import Command, load, save
from .tasks import _reason, _reassignable

PENDING, RESOLVED = "pending", "resolved"


def delegate(session: Session, task_id: str, actor: Actor, delegate_to: str, note: str | None = None,
             *, now: datetime | None = None) -> HumanTask:
    """The holder asks ``delegate_to`` to work on the task; it comes back to them to complete.
    Whether ``delegate_to`` may hold this task is the caller's check (the web's eligibility)."""
    text = _reason(note, required=False)
    to = (delegate_to or "").strip()
    task = get_ready_task(session, task_id)
    if task.assignee != actor.user_id:
        raise PermissionDenied("only the holder of a task may delegate it")
    if not to or to == actor.user_id:
        raise InvalidData("choose a colleague to delegate the task to")
    return _move(session, task, actor, to, owner=actor.user_id, delegation=PENDING, action="task_delegated",
                 data={"from": actor.user_id, "to": to, "note": text}, now=now)


def resolve(session: Session, task_id: str, actor: Actor, note: str | None = None,
            *, now: datetime | None = None) -> HumanTask:
    """The delegate hands the worked task back to its owner, who completes it."""
    text = _reason(note, required=False)
    task = get_ready_task(session, task_id)
    if task.delegation != PENDING or task.assignee != actor.user_id or not task.owner:
        raise PermissionDenied("only the delegate of a delegated task may hand it back")
    return _move(session, task, actor, task.owner, owner=task.owner, delegation=RESOLVED, action="task_resolved",
                 data={"from": actor.user_id, "to": task.owner, "note": text}, now=now)


def hand_over(session: Session, task_id: str, actor: Actor, substitute: str, reason: str | None = None,
              *, now: datetime | None = None) -> HumanTask:
    """An absent holder's task goes to their substitute, owned by the holder ("代 X 办理").
    The holder does it, or a head of the task's unit. Eligibility is the caller's check."""
    text = _reason(reason, required=False)
    task = get_ready_task(session, task_id)
    if task.assignee is None or task.delegation == PENDING:
        raise ConflictError(f"task {task.title} is not held by one person now")
    if task.assignee != actor.user_id and not permissions.can_reassign(actor, task):
        raise PermissionDenied("only the holder or a head may hand this task over")
    holder = task.assignee
    return _move(session, task, actor, substitute, owner=holder, delegation=None, action="task_assigned",
                 data={"from": holder, "to": substitute, "reason": text, "on_behalf_of": holder}, now=now)


def _move(session: Session, task: HumanTask, actor: Actor, to: str, *, owner: str | None, delegation: str | None,
          action: str, data: dict[str, str | None], now: datetime | None) -> HumanTask:
    cmd = Command(session, actor) if now is None else Command(session, actor, now=now)
    loaded = load(cmd, task.instance_id)  # locks / versions the instance: no race with completion
    session.refresh(task)
    if task.status != "ready":
        raise ConflictError(f"task {task.title} was just {task.status}")
    if action != "task_resolved" and not _reassignable(loaded, task):
        raise PermissionDenied(f"task {task.title} is {task.assignee}'s own (a personal declaration, opinion or "
                               "signature) and cannot be passed to anyone else")
    task.assignee, task.owner, task.delegation = to, owner, delegation
    loaded.row.updated_at = cmd.now
    cmd.record(loaded, action, dict(data), task.id, task.task_name)
    save(cmd)
    return task

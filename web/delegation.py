"""Delegation with return on the task page (Camunda's delegate/resolve), and the task page's
and inbox's "on behalf of" marks.

The holder (typically a head on an approval) delegates the task with a note to a colleague of
their units; the delegate fills in the form and may save it, and "hand back" returns it to the
owner with what they entered (``TaskDelegationDraft``), which the owner's form shows prefilled
for review before they complete it. The delegate need not hold the task's role (the owner
completes it), but must otherwise be someone who could hold a task of that case: active, in the
task's unit or above, not recused in it, and the task not bound to its member.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from engine import Actor, ConflictError, InvalidData, PermissionDenied
from engine.db import utcnow
from engine.delegation import PENDING, delegate, resolve
from engine.models import HumanTask
from forms import get_form
from integrations.celery_app import dispatch_after_commit
from processes.directory.models import User
from processes.directory.notifications import announce_assigned
from processes.directory.services import staff_in_units
from processes.directory.substitution import holder_problem

from .casework import visible_task
from .extensions import dbs
from .i18n import domain_text
from .models import TaskDelegationDraft
from .security import current_actor

bp = Blueprint("delegation", __name__)


def delegate_problem(task: HumanTask, user: User | None) -> str | None:
    return holder_problem(dbs(), user, candidate_role=None, unit_id=task.unit_id, instance_id=task.instance_id,
                          process_key=task.process_key)


def delegate_candidates(actor: Actor, task: HumanTask) -> list[User]:
    """Whom the task page offers for a delegation: colleagues of the actor's units who pass
    ``delegate_problem`` (one query for the staff, and the unit and recusal checks)."""
    return [u for u in staff_in_units(dbs(), actor.unit_ids)
            if u.id != actor.user_id and delegate_problem(task, u) is None]


def can_delegate(actor: Actor, task: HumanTask) -> bool:
    return task.status == "ready" and task.assignee == actor.user_id and task.delegation != PENDING


def draft_values(task: HumanTask) -> dict[str, Any]:
    """What the delegate entered, for the form of whoever holds the task now."""
    row = dbs().get(TaskDelegationDraft, task.id)
    return dict(row.values) if row is not None else {}


@bp.post("/tasks/<task_id>/delegate")
@login_required
def delegate_task(task_id: str) -> Response:
    actor = current_actor()
    task = visible_task(actor, task_id)
    back = redirect(url_for("tasks.show", task_id=task.id) + "#delegate")
    if not can_delegate(actor, task):
        abort(403)
    to = request.form.get("delegate", "").strip()
    note = request.form.get("note", "").strip()
    user = dbs().get(User, to) if to else None
    problem = (_("Choose the colleague to delegate the task to.") if not to or to == actor.user_id else
               _("The note is longer than 1000 characters.") if len(note) > 1000 else
               _("The chosen person is not an active member of staff.") if user is None else
               _("%(name)s is not in your units.", name=user.display_name)
               if user.unit_id not in actor.unit_ids else delegate_problem(task, user))
    if problem:
        flash(problem, "error")
        return back
    try:
        delegate(dbs(), task.id, actor, to, note)
    except (ConflictError, PermissionDenied, InvalidData) as exc:
        dbs().rollback()
        flash(exc.message if isinstance(exc, InvalidData) else _("This task cannot be delegated now."), "error")
        return back
    announce_assigned(dbs(), [(task, to)], utcnow())
    dbs().commit()
    dispatch_after_commit(dbs())
    flash(_("The task was delegated to %(name)s; it comes back to you to complete.", name=user.display_name
            if user else to), "success")
    return redirect(url_for("inbox.index", tab="delegated"))


@bp.post("/tasks/<task_id>/delegation")
@login_required
def work_delegated(task_id: str) -> Response:
    """The delegate saves what they entered, or saves it and hands the task back."""
    from .tasks import read_html_submission

    actor = current_actor()
    task = visible_task(actor, task_id)
    if task.status != "ready" or task.delegation != PENDING or task.assignee != actor.user_id:
        abort(403)
    form = get_form(task.form_key)
    raw, _errors = read_html_submission(form) if form is not None else ({}, {})
    values = json.loads(json.dumps(raw, default=str))  # what was typed, kept as text for review
    row = dbs().get(TaskDelegationDraft, task.id)
    if row is None:
        dbs().add(TaskDelegationDraft(task_id=task.id, user_id=actor.user_id, values=values, saved_at=utcnow()))
    else:
        row.user_id, row.values, row.saved_at = actor.user_id, values, utcnow()
    if request.form.get("action") != "resolve":
        dbs().commit()
        flash(_("Saved. Hand the task back when you are done."), "success")
        return redirect(url_for("tasks.show", task_id=task.id))
    owner = task.owner
    try:
        resolve(dbs(), task.id, actor, request.form.get("note", ""))
    except (ConflictError, PermissionDenied, InvalidData) as exc:
        dbs().rollback()
        flash(exc.message if isinstance(exc, InvalidData) else _("This task cannot be handed back now."), "error")
        return redirect(url_for("tasks.show", task_id=task.id))
    if owner:
        announce_assigned(dbs(), [(task, owner)], utcnow())
    dbs().commit()
    dispatch_after_commit(dbs())
    flash(_("“%(title)s” was handed back to its owner to review and complete.", title=domain_text(task.title)),
          "success")
    return redirect(url_for("inbox.index"))

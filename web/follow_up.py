"""Follow-up dates (Camunda's follow-up date, 跟进日期): the holder of a task puts it off until a
day; until then it is out of their default inbox tab and listed under 已推迟, and on that day
(China time) it is back. Setting it after the task's due date is allowed, with a warning (the
holder may be waiting on the party); a day that is not after today is refused.

Why a web table and not a workflow variable: it is the holder's own scheduling, nothing the
process decides on, so it never touches the workflow; it is still audited on the case's chain.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from engine import audit
from engine.db import utcnow
from engine.models import HumanTask, ProcessInstance

from .casework import LOCAL_TZ, visible_task
from .extensions import dbs
from .models import TaskFollowUp
from .security import current_actor

bp = Blueprint("follow_up", __name__)


def current_follow_up(task: HumanTask) -> date | None:
    """The follow-up day in force on the task: set by its present holder."""
    row = dbs().get(TaskFollowUp, task.id)
    return row.follow_up_on if row is not None and row.user_id == task.assignee else None


@bp.post("/tasks/<task_id>/follow-up")
@login_required
def set_follow_up(task_id: str) -> Response:
    actor = current_actor()
    task = visible_task(actor, task_id)
    back = redirect(url_for("tasks.show", task_id=task.id) + "#follow-up")
    if task.status != "ready" or task.assignee != actor.user_id:
        abort(403)
    text = request.form.get("follow_up_on", "").strip()
    now = utcnow()
    today = now.astimezone(LOCAL_TZ).date()
    day: date | None = None
    if text:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            flash(_("Enter the follow-up date as a date."), "error")
            return back
        if day <= today:
            flash(_("Choose a follow-up date after today."), "error")
            return back
    # Joins the case's audit chain: lock the case row as every engine command does.
    instance = dbs().get(ProcessInstance, task.instance_id, with_for_update=True, populate_existing=True)
    assert instance is not None
    row = dbs().get(TaskFollowUp, task.id)
    if day is None:
        if row is not None:
            dbs().delete(row)
    elif row is None:
        dbs().add(TaskFollowUp(task_id=task.id, user_id=actor.user_id, follow_up_on=day, set_at=now))
    else:
        row.user_id, row.follow_up_on, row.set_at = actor.user_id, day, now
    audit.append(dbs(), actor.user_id, "task_follow_up_set", instance=instance, task_id=task.id,
                 task_name=task.task_name, data={"on": day.isoformat() if day else None})
    dbs().commit()
    if day is None:
        flash(_("The follow-up date was removed; the task is back in your inbox."), "success")
        return back
    flash(_("The task is put off until %(day)s and listed under “Deferred” until then.", day=day.isoformat()),
          "success")
    if task.due_at is not None and day > task.due_at.astimezone(LOCAL_TZ).date():
        flash(_("Note: the follow-up date is after the task's due date (%(due)s).",
                due=task.due_at.astimezone(LOCAL_TZ).date().isoformat()), "warning")
    return back

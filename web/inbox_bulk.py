"""Bulk actions on the rows selected in the inbox: claim, release, reassign (heads), export.

Why one row at a time: a selection mixes tasks that can and cannot take the action (one was
claimed by a colleague a moment ago, another belongs to a suspended case). Each row runs in a
savepoint of its own, so a refused row is reported with a sentence and stays as it was while the
others go through. The export is the selection as CSV or XLSX through ``processes.spreadsheet``
(cells that could start a formula are quoted), limited to tasks the person may see.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from engine import (
    Actor,
    ConflictError,
    InstanceSuspended,
    NotFound,
    PermissionDenied,
    TaskNotReady,
    claim,
    unclaim,
)
from engine import permissions as perm
from engine.db import utcnow
from engine.models import HumanTask
from integrations.celery_app import dispatch_after_commit
from processes.directory.services import display_names
from processes.spreadsheet import to_csv, to_xlsx

from .casework import deadline, process_names
from .extensions import dbs
from .i18n import domain_text
from .oversight import MAX_SELECTED, is_head, reassign_many
from .security import current_actor

bp = Blueprint("inbox_bulk", __name__)
LOCAL_TZ = ZoneInfo("Asia/Shanghai")
ACTIONS = ("claim", "release", "reassign", "export_csv", "export_xlsx")


def selected_tasks(actor: Actor, task_ids: list[str]) -> list[HumanTask]:
    """The selected tasks the actor may see, soonest due first (others are silently absent:
    an id from another unit must look like one that does not exist)."""
    if not task_ids:
        return []
    rows = dbs().scalars(select(HumanTask).where(HumanTask.id.in_(task_ids)))
    return sorted((t for t in rows if perm.can_see_task(actor, t)), key=lambda t: (t.due_sort, t.id))


def _each(tasks: list[HumanTask], step: Callable[[HumanTask], None]) -> list[tuple[HumanTask, str | None]]:
    session = dbs()
    outcomes: list[tuple[HumanTask, str | None]] = []
    for task in tasks:
        savepoint = session.begin_nested()
        try:
            step(task)
            savepoint.commit()
            outcomes.append((task, None))
        except InstanceSuspended:
            savepoint.rollback()
            outcomes.append((task, _("The case is suspended by an administrator.")))
        except TaskNotReady:
            savepoint.rollback()
            outcomes.append((task, _("This task is already done.")))
        except ConflictError:
            savepoint.rollback()
            outcomes.append((task, _("Someone else holds this task.")))
        except PermissionDenied:
            savepoint.rollback()
            outcomes.append((task, _("You may not do this with this task.")))
        except NotFound:
            savepoint.rollback()
            outcomes.append((task, _("This task no longer exists.")))
    return outcomes


def _claim(task: HumanTask, actor: Actor) -> None:
    claim(dbs(), task.id, actor)


def _release(task: HumanTask, actor: Actor) -> None:
    unclaim(dbs(), task.id, actor)


@bp.post("/inbox/bulk")
@login_required
def bulk() -> Response:
    actor = current_actor()
    action = request.form.get("action", "")
    back = redirect(request.form.get("next", "") if request.form.get("next", "").startswith("/inbox")
                    else url_for("inbox.index"))
    if action not in ACTIONS:
        flash(_("Choose what to do with the selected tasks."), "error")
        return back
    if action == "reassign" and not is_head(actor):
        abort(403)
    ids = [t for t in request.form.getlist("task_id") if t][:MAX_SELECTED]
    tasks = selected_tasks(actor, ids)
    if not tasks:
        flash(_("Select at least one task.") if not ids else _("None of the selected tasks is one you may see."),
              "error")
        return back
    if action.startswith("export_"):
        return export(tasks, action.removeprefix("export_"))
    if action == "reassign":
        assignee, reason = request.form.get("assignee", "").strip(), request.form.get("reason", "").strip()
        if not assignee or not reason or len(reason) > 1000:
            flash(_("Choose the person to give the tasks to.") if not assignee else
                  _("Give the reason for reassigning these tasks.") if not reason else
                  _("The reason is longer than 1000 characters."), "error")
            return back
        outcomes = [(o.task, o.error) for o in reassign_many(actor, [t.id for t in tasks], assignee, reason)]
        done_text, failed_text = _("%(n)s tasks reassigned."), _("Not reassigned: %(task)s (%(case)s): %(why)s")
    elif action == "claim":
        outcomes = _each(tasks, lambda t: _claim(t, actor))
        done_text, failed_text = _("%(n)s tasks claimed."), _("Not claimed: %(task)s (%(case)s): %(why)s")
    else:
        outcomes = _each(tasks, lambda t: _release(t, actor))
        done_text, failed_text = _("%(n)s tasks released."), _("Not released: %(task)s (%(case)s): %(why)s")
    dbs().commit()
    dispatch_after_commit(dbs())
    done = sum(1 for _task, error in outcomes if error is None)
    if done:
        flash(done_text % {"n": done}, "success")
    for task, error in outcomes:
        if error:
            flash(failed_text % {"task": domain_text(task.title), "case": task.business_key or "—", "why": error},
                  "error")
    return back


def export(tasks: list[HumanTask], kind: str) -> Response:
    now = utcnow()
    names = process_names()
    people = display_names(dbs(), [t.assignee or t.completed_by for t in tasks])
    header = [_("Task"), _("Case number"), _("Entity"), _("Credit code"), _("Process"), _("Assignee"), _("Due"),
              _("Overdue working days")]
    lines: list[list[Any]] = []
    for t in tasks:
        late = deadline(t.due_at, now, t.due_uncertain) if t.status == "ready" else None
        overdue = -late.remaining if late and late.state == "overdue" and late.remaining is not None else ""
        lines.append([domain_text(t.title), t.business_key or "", t.entity_name or "", t.entity_id or "",
                      domain_text(names.get(t.process_key, t.process_key)),
                      people.get(t.assignee or "", t.assignee or ""), _local(t.due_at), overdue])
    stamp = f"{datetime.now(LOCAL_TZ):%Y%m%d-%H%M}"
    if kind == "csv":
        body, mimetype = to_csv(header, lines), "text/csv; charset=utf-8"
    else:
        body = to_xlsx(_("Tasks"), header, lines)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="tasks-{stamp}.{kind}"'
    response.headers["X-Rows"] = str(len(lines))
    return response


def _local(moment: datetime | None) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M") if moment else ""

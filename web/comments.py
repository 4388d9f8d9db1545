"""Comments on a case and on its tasks: who said what, when, for everyone who can see the case.

An officer asking the head a question, a reviewer noting what to fix: today that happens by
phone and is lost. A comment is kept with the case, shown on the case page and on every task
page of the case, and appended to the case's audit chain (its text's SHA-256), so the record
shows it was there. Comments are never edited or removed; a correction is a new comment.
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, Flask, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from engine import audit
from engine.models import ProcessInstance
from processes.directory.services import display_names

from .casework import visible_instance, visible_task
from .extensions import dbs
from .models import CaseComment
from .security import current_actor

bp = Blueprint("comments", __name__)
MAX_COMMENT = 2000
SHOWN = 200  # newest comments shown on a page


@bp.post("/cases/<instance_id>/comments")
@login_required
def add(instance_id: str) -> Response:
    actor = current_actor()
    instance = visible_instance(actor, instance_id)
    task_id = (request.form.get("task_id") or "").strip() or None
    task = visible_task(actor, task_id) if task_id else None
    if task is not None and task.instance_id != instance.id:
        task = None
    back = url_for("tasks.show", task_id=task.id) if task else url_for("cases.show", instance_id=instance.id)
    body = (request.form.get("body") or "").strip()
    if not body:
        flash(_("Write a comment first."), "error")
        return redirect(back + "#comments")
    if len(body) > MAX_COMMENT:
        flash(_("A comment may have at most %(n)s characters.", n=MAX_COMMENT), "error")
        return redirect(back + "#comments")
    # The comment joins the case's audit chain: lock the case row as every engine command does.
    locked = dbs().get(ProcessInstance, instance.id, with_for_update=True, populate_existing=True)
    instance = locked if locked is not None else instance
    comment = CaseComment(instance_id=instance.id, task_id=task.id if task else None,
                          task_title=task.title if task else None, author=actor.user_id, body=body)
    dbs().add(comment)
    dbs().flush()
    audit.append(dbs(), actor.user_id, "case_comment", instance=instance, task_id=task.id if task else None,
                 task_name=task.task_name if task else None,
                 data={"comment": comment.id, "sha256": hashlib.sha256(body.encode("utf-8")).hexdigest()})
    dbs().commit()
    flash(_("Comment added."), "success")
    return redirect(back + "#comments")


def case_comments(instance_id: str) -> list[tuple[CaseComment, str]]:
    """The case's comments with their authors' names, oldest first (the newest ``SHOWN``)."""
    rows = list(dbs().scalars(select(CaseComment).where(CaseComment.instance_id == instance_id)
                              .order_by(CaseComment.id.desc()).limit(SHOWN)))[::-1]
    names = display_names(dbs(), (c.author for c in rows))
    return [(c, names.get(c.author, c.author)) for c in rows]


def init_comments(app: Flask) -> None:
    app.register_blueprint(bp)
    app.add_template_global(case_comments, "case_comments")

"""The bell: a person's notices about their tasks, and how they want to be told.

The notices are written by the scheduler (``processes.directory.notifications``); here a person
reads them (opening one marks it read and goes to the task), marks all read, and sets an email
address for immediate notices and/or a daily digest, and which kinds they want.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from engine.db import utcnow
from processes.directory.models import Notification, NotificationPreference
from processes.directory.notifications import KINDS, mark_read, unread_count

from .extensions import dbs
from .security import current_actor

bp = Blueprint("notifications", __name__)
SHOWN = 100
MAX_EMAIL = 200


def kind_labels() -> dict[str, str]:
    return {"assigned": _("Assigned to you"), "due_soon": _("Due soon"), "overdue": _("Overdue")}


@bp.get("/notifications")
@login_required
def index() -> str:
    rows = list(dbs().scalars(select(Notification).where(Notification.user_id == current_actor().user_id)
                              .order_by(Notification.id.desc()).limit(SHOWN)))
    return render_template("notifications.html", notices=rows, kinds=kind_labels())


@bp.get("/notifications/<int:notice_id>")
@login_required
def open_notice(notice_id: int) -> Response:
    notice = dbs().get(Notification, notice_id)
    if notice is None or notice.user_id != current_actor().user_id:
        abort(404)
    mark_read(dbs(), notice.user_id, utcnow(), notice.id)
    dbs().commit()
    return redirect(url_for("tasks.show", task_id=notice.task_id))


@bp.post("/notifications/read")
@login_required
def read_all() -> Response:
    changed = mark_read(dbs(), current_actor().user_id, utcnow())
    dbs().commit()
    flash(_("%(n)s notices marked read.", n=changed), "success")
    return redirect(url_for(".index"))


@bp.route("/account/notifications", methods=["GET", "POST"])
@login_required
def preferences() -> str | Response | tuple[str, int]:
    user_id = current_actor().user_id
    pref = dbs().get(NotificationPreference, user_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        email = (request.form.get("email") or "").strip()
        if email and (len(email) > MAX_EMAIL or "@" not in email or " " in email or "\n" in email):
            errors["email"] = _("Not an email address.")
        kinds = [k for k in request.form.getlist("kinds") if k in KINDS]
        immediate, digest = request.form.get("email_immediate") == "1", request.form.get("email_digest") == "1"
        if (immediate or digest) and not email and not errors:
            errors["email"] = _("Give an email address to receive email.")
        if errors:
            return render_template("notification_prefs.html", pref=pref, errors=errors, kinds=kind_labels(),
                                   form=request.form), 422
        if pref is None:
            pref = NotificationPreference(user_id=user_id)
            dbs().add(pref)
        pref.email, pref.email_immediate, pref.email_digest, pref.kinds = email or None, immediate, digest, kinds
        dbs().commit()
        flash(_("Your notification settings were saved."), "success")
        return redirect(url_for(".preferences"))
    return render_template("notification_prefs.html", pref=pref, errors=errors, kinds=kind_labels(), form=None)


def _bell() -> dict[str, Any]:
    if not getattr(current_user, "is_authenticated", False):
        return {}
    return {"unread_notifications": unread_count(dbs(), current_actor().user_id)}


def init_notifications(app: Flask) -> None:
    app.register_blueprint(bp)
    app.context_processor(_bell)

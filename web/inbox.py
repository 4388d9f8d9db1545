"""The inbox: tabs with counts, filters, sorting, keyset paging and saved filters per user."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from engine import Actor, InvalidData
from processes.directory.models import User
from processes.directory.services import staff_in_units

from .casework import SEARCH_MAX, TABS, InboxQuery, load_inbox, process_names, task_names
from .extensions import dbs
from .models import SavedFilter
from .oversight import is_head
from .security import current_actor

bp = Blueprint("inbox", __name__)
MAX_SAVED = 30


def saved_filters(user_id: str) -> list[SavedFilter]:
    return list(dbs().scalars(select(SavedFilter).where(SavedFilter.user_id == user_id)
                                   .order_by(SavedFilter.name)))


@bp.get("/inbox")
@login_required
def index() -> str | tuple[str, int]:
    actor = current_actor()
    errors: dict[str, str] = {}
    try:
        query = InboxQuery.parse(request.args)
    except InvalidData as exc:
        field = str(exc.details.get("field") or "_")
        errors[field] = _("The search was not run: write at most %(n)s characters.", n=SEARCH_MAX) \
            if field in ("q", "entity") else _("Please check this filter.")
        query = InboxQuery(tab=tab) if (tab := request.args.get("tab", "")) in TABS else InboxQuery()
    try:
        result = load_inbox(actor, query, request.args.get("cursor"), current_app.config["INBOX_PAGE_SIZE"])
    except InvalidData:  # a tampered cursor: start over at the first page
        result = load_inbox(actor, query, None, current_app.config["INBOX_PAGE_SIZE"])
    status = 422 if errors else 200
    return render_template("inbox.html", query=query, result=result, errors=errors,
                           processes=process_names(), tasks=task_names(query.process or None),
                           saved=saved_filters(actor.user_id), sort_labels=sort_labels(query.tab),
                           bulk_staff=_bulk_staff(actor, query)), status


def _bulk_staff(actor: Actor, query: InboxQuery) -> list[User]:
    """Whom a head may pick for a bulk reassignment (one query, and only for a head's open tabs);
    each task is still checked on its own when it is reassigned."""
    if query.tab == "completed" or not is_head(actor):
        return []
    return staff_in_units(dbs(), actor.unit_ids)


def sort_labels(tab: str = "assigned") -> list[tuple[str, str]]:
    """The inbox's sort orders as the select offers them (the completed tab's "due" is its natural
    order, newest completion first; its due date is "deadline")."""
    if tab == "completed":
        first = [("due", _("Completed, newest first")), ("completed", _("Completed, oldest first")),
                 ("deadline", _("Due date, soonest first")), ("-deadline", _("Due date, latest first"))]
    else:
        first = [("due", _("Due date, soonest first")), ("-due", _("Due date, latest first"))]
    return [*first,
            ("created", _("Created, oldest first")), ("-created", _("Created, newest first")),
            ("title", _("Task, A to Z")), ("-title", _("Task, Z to A")),
            ("case", _("Case number, A to Z")), ("-case", _("Case number, Z to A")),
            ("entity", _("Entity, A to Z")), ("-entity", _("Entity, Z to A")),
            ("process", _("Process, grouped")), ("-process", _("Process, grouped, reverse order")),
            *([] if tab == "completed" else
              [("assignee", _("Assignee, grouped")), ("-assignee", _("Assignee, grouped, reverse order"))])]


@bp.post("/inbox/filters")
@login_required
def save_filter() -> Response:
    actor = current_actor()
    name = request.form.get("name", "").strip()[:100]
    try:
        query = InboxQuery.parse(request.form)
    except InvalidData:
        flash(_("The filter could not be saved: check its values."), "error")
        return redirect(url_for("inbox.index"))
    if not name:
        flash(_("Give the filter a name."), "error")
        return redirect(url_for("inbox.index", **query.params()))
    existing = dbs().scalar(select(SavedFilter).where(SavedFilter.user_id == actor.user_id,
                                                           SavedFilter.name == name))
    if existing is not None:
        existing.params = query.params()
    elif len(saved_filters(actor.user_id)) >= MAX_SAVED:
        flash(_("You have too many saved filters; delete one first."), "error")
        return redirect(url_for("inbox.index", **query.params()))
    else:
        dbs().add(SavedFilter(user_id=actor.user_id, name=name, params=query.params()))
    dbs().commit()
    flash(_("Filter saved."), "success")
    return redirect(url_for("inbox.index", **query.params()))


@bp.post("/inbox/filters/<int:filter_id>/delete")
@login_required
def delete_filter(filter_id: int) -> Response:
    actor = current_actor()
    row = dbs().get(SavedFilter, filter_id)
    if row is not None and row.user_id == actor.user_id:
        dbs().delete(row)
        dbs().commit()
        flash(_("Filter deleted."), "info")
    return redirect(url_for("inbox.index"))

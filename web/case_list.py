"""The staff case list (``/cases``): every case the signed-in person may see, one search box over
case number, entity, party and facts, filters (process, status, stage, unit, officer, overdue),
sortable columns, pages, and the current search exported as CSV or XLSX (formula-safe)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _
from flask_babel import pgettext
from flask_login import login_required
from sqlalchemy import select

from engine.db import utcnow
from engine.instance_search import STATUSES
from processes.directory.models import Unit
from processes.directory.services import staff_in_units
from processes.spreadsheet import to_csv, to_xlsx

from .case_query import EXPORT_MAX, SEARCH_MAX, CasePage, CaseQuery, CaseRow, export_rows, search
from .casework import LOCAL_TZ, process_names, task_names
from .extensions import dbs
from .i18n import domain_text
from .security import current_actor

bp = Blueprint("case_list", __name__)
MAX_OFFICERS = 500


@bp.get("/cases")
@login_required
def index() -> tuple[str, int]:
    actor = current_actor()
    query = CaseQuery.parse(request.args)
    errors = error_messages(query.errors)
    # A search that cannot be run is not replaced by "every case".
    page = CasePage([], 0, False, 1, 1) if "q" in query.errors else search(dbs(), actor, query, utcnow())
    return render_template("case_list.html", query=query, page=page, errors=errors, searched=query.filtered(),
                           processes=process_names(), statuses=STATUSES, stages=task_names(query.process or None),
                           units=visible_units(), officers=officers(), export_max=EXPORT_MAX,
                           sort_columns=sort_columns()), 422 if errors else 200


@bp.get("/cases/export.csv", defaults={"kind": "csv"})
@bp.get("/cases/export.xlsx", defaults={"kind": "xlsx"})
@login_required
def export(kind: str) -> Response | tuple[str, int]:
    actor = current_actor()
    query = CaseQuery.parse(request.args)
    if "q" in query.errors:
        return index()
    rows = export_rows(dbs(), actor, query, utcnow())
    header = [_("Case number"), _("Process"), _("Entity"), _("Credit code"), _("Unit"), _("Status"),
              _("Current stage"), _("Assignee"), _("Due"), _("Overdue"), _("Started"), _("Ended")]
    names = process_names()
    lines = [export_line(row, names) for row in rows]
    stamp = f"{datetime.now(LOCAL_TZ):%Y%m%d-%H%M}"
    if kind == "csv":
        body, mimetype = to_csv(header, lines), "text/csv; charset=utf-8"
    else:
        body = to_xlsx(pgettext("case list", "Cases"), header, lines)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="cases-{stamp}.{kind}"'
    response.headers["X-Rows"] = str(len(lines))
    return response


def export_line(row: CaseRow, names: dict[str, str]) -> list[Any]:
    i = row.instance
    return [i.business_key or "", domain_text(names.get(i.process_key, i.process_key)), i.entity_name or "",
            i.entity_id or "", row.unit_name, _(i.status), "；".join(domain_text(s) for s in row.stages),
            "、".join(row.assignees), _local(row.due_at), _("yes") if row.overdue else "", _local(i.started_at),
            _local(i.ended_at)]


def _local(moment: datetime | None) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M") if moment else ""


def error_messages(errors: dict[str, str]) -> dict[str, str]:
    """What the person is told about each parameter that was not used."""
    messages = {"q": _("The search was not run: write at most %(n)s characters.", n=SEARCH_MAX),
                "status": _("Unknown status; showing every status."),
                "sort": _("Unknown sort column; sorted by start date, newest first."),
                "page": _("No such page; showing the first page.")}
    return {name: messages.get(name, _("Please check this filter.")) for name in errors}


def visible_units() -> list[tuple[int, Unit]]:
    """The units the person sees (their own and below), with their depth for the select."""
    actor = current_actor()
    stmt = select(Unit).order_by(Unit.path)
    if not actor.is_admin:
        stmt = stmt.where(Unit.id.in_(sorted(actor.unit_ids)))
    units = list(dbs().scalars(stmt))
    top = min((u.path.count("/") for u in units), default=0)
    return [(u.path.count("/") - top, u) for u in units]


def officers() -> list[tuple[str, str]]:
    """Staff of the person's units (id, name), for the officer filter."""
    units = [u.id for _depth, u in visible_units()]
    return [(u.id, u.display_name) for u in staff_in_units(dbs(), units)[:MAX_OFFICERS]]


def sort_columns() -> list[tuple[str, str]]:
    return [("case", _("Case number")), ("entity", _("Entity")), ("process", _("Process")),
            ("unit", _("Unit")), ("status", _("Status")), ("due", _("Due")), ("started", _("Started"))]

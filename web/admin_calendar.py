"""Administration of the working-day calendar: which years are known, entering a year's holiday
arrangement, correcting single days, and the open tasks whose deadlines are still guesses.

Why a page: ``chinesecalendar`` stops at the year of its release, and the State Council
announces the next year's holidays each November or December. Until an administrator enters
them here, deadlines reaching that year are counted Monday to Friday and flagged; this page shows
which years those are, takes the notice's days as typed (``web.calendar_input``), and lists the
flagged tasks so a head can confirm or move each deadline on the task page. The engine checks
and audits every entry (``engine.calendar_admin``); this module only reads the form and shows.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from engine import InvalidData, calendar_years, correct_day, enter_year, uncertain_tasks, year_status
from engine.calendar_admin import FIRST_YEAR, LAST_YEAR
from engine.clock import china_today
from processes.directory.models import Unit

from .calendar_input import DayLineError, day_lines, day_ranges, parse_day_lines
from .extensions import dbs
from .security import current_actor, require_roles

bp = Blueprint("admin_calendar", __name__, url_prefix="/admin")

YEAR_FIELDS = ("year", "holidays", "workdays", "note")
DAY_FIELDS = ("day", "kind", "note")
DAY_KINDS = {"workday": True, "holiday": False, "remove": None}
# Refusals of the form itself (the engine's are in engine.calendar_admin); English in domain.po.
YEAR_REQUIRED = "请填写年份（四位数字）"
DAY_REQUIRED = "请填写有效日期"
KIND_REQUIRED = "请选择上班、放假或撤销更正"


@bp.before_request
@login_required
@require_roles("admin")
def _admins_only() -> None:
    return None


def _page(year_values: dict[str, str] | None = None, year_errors: dict[str, str] | None = None,
          day_values: dict[str, str] | None = None, day_errors: dict[str, str] | None = None) -> Any:
    status = 422 if year_errors or day_errors else 200
    return render_template(
        "admin/calendar.html", years=calendar_years(dbs(), china_today()), day_ranges=day_ranges,
        year_values=year_values or dict.fromkeys(YEAR_FIELDS, ""), year_errors=year_errors or {},
        day_values=day_values or {**dict.fromkeys(DAY_FIELDS, ""), "kind": "holiday"},
        day_errors=day_errors or {}), status


def _prefill(year: int) -> dict[str, str]:
    """The form for re-entering ``year``: what is in force, as the textarea takes it back."""
    status = year_status(dbs(), year)
    if status.source != "entered":
        return {**dict.fromkeys(YEAR_FIELDS, ""), "year": str(year)}
    return {"year": str(year), "holidays": day_lines(status.holidays), "workdays": day_lines(status.workdays),
            "note": status.note or ""}


@bp.get("/calendar")
def calendar() -> Any:
    edit = request.args.get("year", type=int)
    return _page(_prefill(edit) if edit and FIRST_YEAR <= edit <= LAST_YEAR else None)


def read_year_form(form: dict[str, str]) -> tuple[int | None, list[date], list[date], dict[str, str]]:
    """The year and its two lists of days as posted, with an error per field that failed."""
    errors: dict[str, str] = {}
    text = form.get("year", "").strip()
    year = int(text) if text.isascii() and text.isdigit() and len(text) == 4 else None
    if year is None:
        errors["year"] = YEAR_REQUIRED
    days: dict[str, list[date]] = {"holidays": [], "workdays": []}
    for field in days:
        try:
            days[field] = parse_day_lines(form.get(field), field, year)
        except DayLineError as exc:
            errors[field] = exc.message
    return year, days["holidays"], days["workdays"], errors


@bp.post("/calendar")
def calendar_enter() -> Any:
    values = {k: request.form.get(k, "") for k in YEAR_FIELDS}
    year, holidays, workdays, errors = read_year_form(values)
    if not errors and year is not None:
        try:
            enter_year(dbs(), current_actor(), year, holidays, workdays, values["note"])
        except InvalidData as exc:
            errors[str(exc.details.get("field") or "year")] = exc.message
    if errors or year is None:
        dbs().rollback()
        return _page(values, errors)
    dbs().commit()
    flash(_("The holiday arrangement for %(year)s is saved. Deadlines reaching it are now counted on it; "
            "check the ones computed before.", year=year), "success")
    return redirect(url_for("admin_calendar.calendar"))


@bp.post("/calendar/days")
def calendar_day() -> Any:
    values = {k: request.form.get(k, "") for k in DAY_FIELDS}
    errors: dict[str, str] = {}
    try:
        day: date | None = date.fromisoformat(values["day"].strip())
    except ValueError:
        day, errors["day"] = None, DAY_REQUIRED
    if values["kind"] not in DAY_KINDS:
        errors["kind"] = KIND_REQUIRED
    if not errors and day is not None:
        try:
            correct_day(dbs(), current_actor(), day, DAY_KINDS[values["kind"]], values["note"])
        except InvalidData as exc:
            errors[str(exc.details.get("field") or "day")] = exc.message
    if errors or day is None:
        dbs().rollback()
        return _page(day_values=values, day_errors=errors)
    dbs().commit()
    flash(_("The correction of %(day)s is saved.", day=day.isoformat()), "success")
    return redirect(url_for("admin_calendar.calendar"))


@bp.get("/calendar/<int:year>/tasks")
def calendar_tasks(year: int) -> str:
    """Open tasks whose deadline in ``year`` was counted without its arrangement, soonest first."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        abort(404)
    tasks = uncertain_tasks(dbs(), year)
    units = dict(dbs().execute(select(Unit.id, Unit.name).where(Unit.id.in_({t.unit_id for t in tasks}))).all())
    return render_template("admin/calendar_tasks.html", year=year, status=year_status(dbs(), year),
                           tasks=tasks, units=units)

"""Administrator endpoints for the working-day calendar: the years and where their days come
from, entering a year's holiday arrangement, correcting a single day, and the open tasks whose
deadlines are still guesses.

The same engine verbs as the admin page (``web.admin_calendar``), for a program that reads the
State Council's notice: days are ISO dates here (the page's line-and-range syntax is for people).
A refusal is a 422 naming the field (``errors``), in the UI language, and nothing is written.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from werkzeug.wrappers import Response

from engine import (
    InvalidData,
    NotFound,
    YearStatus,
    calendar_years,
    correct_day,
    enter_year,
    uncertain_tasks,
    year_status,
)
from engine.calendar_admin import FIRST_YEAR, LAST_YEAR
from engine.clock import china_today
from engine.models import HumanTask
from web.errors import json_error
from web.extensions import dbs
from web.security import current_actor

from . import admins_only, authenticate_api
from . import schemas as s

blp = Blueprint("api_admin_calendar", __name__, url_prefix="/admin/calendar",
                description="Working-day calendar: holiday arrangements and corrections (admin role only)")
blp.before_request(authenticate_api)

blp.before_request(admins_only)


# Messages are Chinese (the source text), shown in English through the domain catalog.
_DAY = fields.Date(error_messages={"invalid": "不是有效日期（格式：2025-10-09）", "required": "此项为必填项",
                                   "null": "此项为必填项"})
_NOTE = fields.String(required=True, error_messages={"required": "此项为必填项", "null": "此项为必填项"},
                      metadata={"description": "the notice the days come from (its number), kept with them"})


class YearSchema(Schema):
    year = fields.Integer()
    source = fields.String(metadata={"description": "library (chinesecalendar knows it) | entered (by an "
                                                    "administrator) | unknown (deadlines reaching it are guesses)"})
    holidays = fields.List(fields.Date(), metadata={"description": "days off entered (corrections, for a library "
                                                                    "year)"})
    workdays = fields.List(fields.Date(), metadata={"description": "make-up working days entered"})
    note = fields.String(allow_none=True)
    entered_by = fields.String(allow_none=True)
    entered_at = fields.DateTime(allow_none=True)
    uncertain_tasks = fields.Integer(metadata={"description": "open tasks whose deadline in this year is a guess"})


class YearEntrySchema(s.StrictSchema):
    holidays = fields.List(_DAY, required=True, error_messages={"required": "此项为必填项"},
                           validate=validate.Length(max=366), metadata={"description": "every day off"})
    workdays = fields.List(_DAY, load_default=list, validate=validate.Length(max=366),
                           metadata={"description": "weekend days that are working days (调休)"})
    note = _NOTE


class DayCorrectionSchema(s.StrictSchema):
    day = fields.Date(required=True, error_messages={"invalid": "不是有效日期（格式：2025-10-09）",
                                                     "required": "此项为必填项", "null": "此项为必填项"})
    is_workday = fields.Boolean(required=True, allow_none=True, error_messages={"required": "此项为必填项"},
                                metadata={"description": "true: a working day; false: a day off; "
                                                         "null: remove the correction"})
    note = _NOTE


class UncertainTaskSchema(Schema):
    id = fields.String()
    instance_id = fields.String()
    title = fields.String()
    business_key = fields.String(allow_none=True)
    entity_name = fields.String(allow_none=True)
    unit_id = fields.String(allow_none=True)
    due_at = fields.DateTime(allow_none=True)


def _errors(view: Any) -> Any:
    for code in (401, 403, 404, 422):
        view = blp.alt_response(code, schema=s.ApiErrorSchema, description="error")(view)
    return view


def year_body(status: YearStatus) -> dict[str, Any]:
    return {"year": status.year, "source": status.source, "holidays": list(status.holidays),
            "workdays": list(status.workdays), "note": status.note, "entered_by": status.entered_by,
            "entered_at": status.entered_at, "uncertain_tasks": status.uncertain_tasks}


def _known_year(year: int) -> int:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise NotFound(f"no calendar for {year}")
    return year


def _refused(exc: InvalidData) -> Response:
    dbs().rollback()
    field = str(exc.details.get("field") or "_")
    return json_error(422, "invalid_data", exc.message, errors={field: [exc.message]})


@blp.route("")
class Years(MethodView):
    @blp.response(200, YearSchema(many=True))
    @_errors
    def get(self) -> list[dict[str, Any]]:
        """Last year, this year, the next two and every entered year: where their days come from."""
        return [year_body(y) for y in calendar_years(dbs(), china_today())]


@blp.route("/<int:year>")
class Year(MethodView):
    @blp.response(200, YearSchema)
    @_errors
    def get(self, year: int) -> dict[str, Any]:
        """One year."""
        return year_body(year_status(dbs(), _known_year(year)))

    @blp.arguments(YearEntrySchema)
    @blp.response(200, YearSchema)
    @_errors
    def put(self, body: dict[str, Any], year: int) -> Any:
        """Enter (or re-enter, replacing) a year's whole arrangement; checked as a whole, audited."""
        try:
            status = enter_year(dbs(), current_actor(), year, body["holidays"], body["workdays"], body["note"])
        except InvalidData as exc:
            return _refused(exc)
        out = year_body(status)
        dbs().commit()
        return out


@blp.route("/days")
class Days(MethodView):
    @blp.arguments(DayCorrectionSchema)
    @blp.response(200, YearSchema)
    @_errors
    def post(self, body: dict[str, Any]) -> Any:
        """Correct one date of any year (``is_workday: null`` removes the correction); the year back."""
        day: date = body["day"]
        try:
            correct_day(dbs(), current_actor(), day, body["is_workday"], body["note"])
        except InvalidData as exc:
            return _refused(exc)
        out = year_body(year_status(dbs(), day.year))
        dbs().commit()
        return out


@blp.route("/<int:year>/tasks")
class UncertainTasks(MethodView):
    @blp.response(200, UncertainTaskSchema(many=True))
    @_errors
    def get(self, year: int) -> list[HumanTask]:
        """Open tasks whose deadline in this year is a guess, soonest first (a head confirms or moves each)."""
        return uncertain_tasks(dbs(), _known_year(year))

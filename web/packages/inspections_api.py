"""The inspections package's API: a national task (国家随机监督抽查任务) posted by the system that
sends it, with its fixed entity list.

Why an endpoint and not a BPMN message start: the list must be checked row by row and every wrong
row answered to the sender at once, before anything exists; a message start would create the
process first and could only fail later, in a job nobody watches. The endpoint calls the same
``processes.inspections.national.create_national_plan`` as the new-plan page's upload, so the
checks, the locked list and the audit event are the same. The plan is a draft: the planner checks
it and submits it to the head, as for a list uploaded on the page.
"""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from engine import PermissionDenied
from processes.directory.services import DirectoryError
from processes.inspections import national
from web.api import authenticate_api
from web.api import schemas as s
from web.errors import json_error
from web.extensions import dbs
from web.security import current_actor

api_bp = Blueprint("api_inspections", __name__, url_prefix="/inspections",
                   description="Double-random inspections: national tasks")
api_bp.before_request(authenticate_api)


class WindowSchema(Schema):
    start = fields.Date(required=True, metadata={"description": "first day of the inspection window"})
    end = fields.Date(required=True, metadata={"description": "last day of the inspection window"})


class NationalEntitySchema(Schema):
    credit_code = fields.String(required=True, validate=validate.Length(max=40),
                                metadata={"description": "统一社会信用代码; must be in the entity directory"})
    name = fields.String(validate=validate.Length(max=300),
                         metadata={"description": "optional: checked against the directory's name"})
    category = fields.String(validate=validate.Length(max=40),
                             metadata={"description": "optional: category code or Chinese name, checked"})


class NationalTaskSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=60),
                         metadata={"description": "the national task's number; becomes the plan code (unique)"})
    title = fields.String(required=True, validate=validate.Length(min=1, max=300))
    unit_id = fields.String(metadata={"description": "the unit that carries it out (default: your only unit)"})
    window = fields.Nested(WindowSchema, required=True)
    entities = fields.List(fields.Nested(NationalEntitySchema), required=True,
                           validate=validate.Length(min=1, max=national.MAX_ROWS))

    @validates_schema
    def _window(self, data: dict[str, Any], **_kwargs: Any) -> None:
        window = data.get("window") or {}
        if window.get("start") and window.get("end") and window["end"] < window["start"]:
            raise ValidationError({"window": ["检查时段的结束日期不能早于开始日期"]})


class NationalPlanSchema(Schema):
    plan_id = fields.String()
    code = fields.String()
    status = fields.String(metadata={"description": "draft: the planner submits it to the head"})
    entities = fields.Integer(metadata={"description": "how many entities the locked list holds"})
    url = fields.String(metadata={"description": "the plan's staff page"})


def _where(error: national.RowError) -> str:
    """``entities[0].credit_code``: the rows are the request's list (row 2 is index 0)."""
    if error.row >= 2:
        return f"entities[{error.row - 2}].{error.column}"
    return "code" if error.column == "code" else "entities"


@api_bp.route("/national-tasks")
class NationalTasks(MethodView):
    @api_bp.arguments(NationalTaskSchema)
    @api_bp.response(201, NationalPlanSchema)
    @api_bp.alt_response(401, schema=s.ApiErrorSchema, description="error")
    @api_bp.alt_response(403, schema=s.ApiErrorSchema, description="error")
    @api_bp.alt_response(422, schema=s.ApiErrorSchema, description="every wrong entity, nothing written")
    def post(self, body: dict[str, Any]) -> Any:
        """Create a national task's plan (a draft with its locked entity list) from the sender's
        list: heads and administrators only. Every entity that is not in the directory, repeated,
        or whose name or category differs from the directory is answered at once in ``errors``
        (keyed ``entities[i].column``) and nothing is written. No entity is drawn for a national
        task; its inspectors are matched by lot when the approved plan is drawn."""
        actor = current_actor()
        if not (actor.is_admin or "head" in actor.roles):
            raise PermissionDenied("only a head or an administrator may create a national task")
        unit_id = body.get("unit_id") or (next(iter(actor.unit_ids)) if len(actor.unit_ids) == 1 else "")
        if not unit_id or not (actor.is_admin or unit_id in actor.unit_ids):
            message = "请指定承担任务的本单位"
            return json_error(422, "invalid_data", message, errors={"unit_id": [message]})
        try:
            plan = national.create_national_plan(
                dbs(), actor, title=body["title"], unit_id=unit_id, window_start=body["window"]["start"],
                window_end=body["window"]["end"], rows=body["entities"], source="api", code=body["code"].strip())
        except national.ImportRefused as exc:
            dbs().rollback()
            errors: dict[str, list[str]] = {}
            for error in exc.errors:
                errors.setdefault(_where(error), []).append(error.message)
            return json_error(422, "invalid_data", "国家任务名单有误，未保存", errors=errors)
        except DirectoryError as exc:
            dbs().rollback()
            return json_error(422, "invalid_data", exc.message, errors={exc.field or "_": [exc.message]})
        dbs().commit()
        return {"plan_id": plan.id, "code": plan.code, "status": plan.status,
                "entities": len(plan.fixed_entities or []), "url": url_for("inspections.plan", plan_id=plan.id)}


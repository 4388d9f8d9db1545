"""Administrator endpoints for every process instance: search, one instance whole (row, ready
tasks, variables, incidents), suspend, resume, cancel and set a variable, each with a reason.

The same engine verbs as the page (``web.admin_instances``). A refusal is a typed error
(``{"code", "message"}``: 409 ``task_not_ready``/``instance_suspended``, 422 ``invalid_data``,
403, 404) and nothing is written.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from engine import cancel, resume, set_variable, suspend
from engine.instance_search import MAX_PER_PAGE, STATUSES, filters_from, search_instances
from integrations.celery_app import dispatch_after_commit
from web.extensions import dbs
from web.instance_view import instance_view, variable_text
from web.security import current_actor

from . import admins_only, authenticate_api
from . import schemas as s

blp = Blueprint("api_admin_instances", __name__, url_prefix="/admin/instances",
                description="Process instances: search, suspend, resume, cancel, variables (admin role only)")
blp.before_request(authenticate_api)

blp.before_request(admins_only)

_REASON = fields.String(required=True, validate=validate.Length(min=1, max=1000),
                        error_messages={"required": "此项为必填项", "null": "此项为必填项"},
                        metadata={"description": "why (kept in the case's audit trail)"})


class AdminInstanceQuerySchema(Schema):
    business_key = fields.String(metadata={"description": "prefix, case-insensitive"})
    entity_name = fields.String(metadata={"description": "substring, case-insensitive"})
    entity_id = fields.String()
    unit_id = fields.String()
    process_key = fields.String()
    status = fields.String(validate=validate.OneOf(STATUSES))
    activity = fields.String(metadata={"description": "BPMN element id of a ready user task"})
    started_from = fields.String(metadata={"description": "ISO date or time (China time when no offset)"})
    started_to = fields.String(metadata={"description": "ISO date or time, exclusive"})
    due_before = fields.String(metadata={"description": "some ready task is due before this ISO date or time"})
    has_incident = fields.Boolean()
    cursor = fields.String(metadata={"description": "next_cursor of the previous page"})
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PER_PAGE))


class AdminInstanceSummarySchema(Schema):
    id = fields.String()
    process_key = fields.String()
    business_key = fields.String(allow_none=True)
    entity_id = fields.String(allow_none=True)
    entity_name = fields.String(allow_none=True)
    unit_id = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "running | suspended | stalled | completed | cancelled"})
    started_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True)
    activities = fields.List(fields.String(), metadata={"description": "element ids of its ready user tasks"})
    due_at = fields.DateTime(allow_none=True, metadata={"description": "earliest due date of its ready tasks"})
    incident = fields.Boolean(metadata={"description": "an open outbox incident or a failing timer"})


class AdminInstancePageSchema(Schema):
    instances = fields.List(fields.Nested(AdminInstanceSummarySchema))
    next_cursor = fields.String(allow_none=True)
    total = fields.Integer(metadata={"description": "matches, counted up to a cap"})
    total_capped = fields.Boolean(metadata={"description": "true: more than total match"})


class AdminReadyTaskSchema(Schema):
    id = fields.String()
    task_name = fields.String()
    title = fields.String()
    assignee = fields.String(allow_none=True)
    candidate_role = fields.String(allow_none=True)
    unit_id = fields.String(allow_none=True)
    due_at = fields.DateTime(allow_none=True)
    suspended = fields.Boolean()


class AdminInstanceDetailSchema(AdminInstanceSummarySchema):
    cancel_reason = fields.String(allow_none=True)
    started_by = fields.String()
    completed_elements = fields.List(fields.String())
    ready_tasks = fields.List(fields.Nested(AdminReadyTaskSchema))
    variables = fields.Dict(keys=fields.String(), metadata={"description": "the case's data as its next task "
                                                                           "sees it (null when finished)"})
    incidents = fields.List(fields.Nested(s.IncidentSchema))


class AdminInstanceReasonSchema(s.StrictSchema):
    reason = _REASON


class AdminInstanceVariableSchema(s.StrictSchema):
    value = fields.Raw(required=True, allow_none=True, error_messages={"required": "此项为必填项"},
                       metadata={"description": "any JSON value"})
    reason = _REASON


def _errors(view: Any) -> Any:
    for code in (401, 403, 404, 409, 422):
        view = blp.alt_response(code, schema=s.ApiErrorSchema, description="error")(view)
    return view


def summary_body(row: Any) -> dict[str, Any]:
    i = row.instance
    return {"id": i.id, "process_key": i.process_key, "business_key": i.business_key, "entity_id": i.entity_id,
            "entity_name": i.entity_name, "unit_id": i.unit_id, "status": i.status, "started_at": i.started_at,
            "ended_at": i.ended_at, "activities": row.activities, "due_at": row.due_at, "incident": row.incident}


def detail_body(instance_id: str) -> dict[str, Any]:
    view = instance_view(dbs(), instance_id, current_actor())
    i = view.instance
    return {"id": i.id, "process_key": i.process_key, "business_key": i.business_key, "entity_id": i.entity_id,
            "entity_name": i.entity_name, "unit_id": i.unit_id, "status": i.status, "started_at": i.started_at,
            "ended_at": i.ended_at, "cancel_reason": i.cancel_reason, "started_by": i.started_by,
            "completed_elements": list(i.completed_elements or []),
            "activities": [t.task_name for t in view.ready_tasks],
            "due_at": min((t.due_at for t in view.ready_tasks if t.due_at), default=None),
            "incident": bool(view.incidents or view.failing_timers),
            "ready_tasks": view.ready_tasks, "variables": view.variables,
            "incidents": [{"id": j.id, "instance_id": j.instance_id, "element_id": j.element_id,
                           "operator": j.operator, "attempts": j.attempts, "last_error": j.last_error,
                           "created_at": j.created_at} for j in view.incidents]}


@blp.route("")
class Instances(MethodView):
    @blp.arguments(AdminInstanceQuerySchema, location="query")
    @blp.response(200, AdminInstancePageSchema)
    @_errors
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Search every instance, newest first; keyset pages (``cursor``), total counted up to a cap."""
        filters = filters_from({k: v for k, v in request.args.items() if k not in ("cursor", "per_page")})
        page = search_instances(dbs(), filters, query.get("cursor"), query["per_page"])
        return {"instances": [summary_body(r) for r in page.rows], "next_cursor": page.next_cursor,
                "total": page.total, "total_capped": page.total_capped}


@blp.route("/<instance_id>")
class Instance(MethodView):
    @blp.response(200, AdminInstanceDetailSchema)
    @_errors
    def get(self, instance_id: str) -> dict[str, Any]:
        """One instance: its row, ready tasks, variables and open incidents."""
        return detail_body(instance_id)


def _act(instance_id: str, verb: str, reason: str) -> dict[str, Any]:
    session, actor = dbs(), current_actor()
    if verb == "suspend":
        suspend(session, actor, instance_id, reason)
    elif verb == "resume":
        resume(session, actor, instance_id, reason)
    else:
        cancel(session, instance_id, actor, reason)
    session.commit()
    dispatch_after_commit(session)
    return detail_body(instance_id)


@blp.route("/<instance_id>/suspend")
class Suspend(MethodView):
    @blp.arguments(AdminInstanceReasonSchema)
    @blp.response(200, AdminInstanceDetailSchema)
    @_errors
    def post(self, body: dict[str, Any], instance_id: str) -> dict[str, Any]:
        """Suspend a running case: no task, timer, job or message moves it until it is resumed."""
        return _act(instance_id, "suspend", body["reason"])


@blp.route("/<instance_id>/resume")
class Resume(MethodView):
    @blp.arguments(AdminInstanceReasonSchema)
    @blp.response(200, AdminInstanceDetailSchema)
    @_errors
    def post(self, body: dict[str, Any], instance_id: str) -> dict[str, Any]:
        """Resume a suspended case: due timers fire on the next tick, pending jobs are queued."""
        return _act(instance_id, "resume", body["reason"])


@blp.route("/<instance_id>/cancel")
class Cancel(MethodView):
    @blp.arguments(AdminInstanceReasonSchema)
    @blp.response(200, AdminInstanceDetailSchema)
    @_errors
    def post(self, body: dict[str, Any], instance_id: str) -> dict[str, Any]:
        """Cancel an unfinished case (running, stalled or suspended)."""
        return _act(instance_id, "cancel", body["reason"])


@blp.route("/<instance_id>/variables/<name>")
class Variable(MethodView):
    @blp.arguments(AdminInstanceVariableSchema)
    @blp.response(200, AdminInstanceDetailSchema)
    @_errors
    def put(self, body: dict[str, Any], instance_id: str, name: str) -> dict[str, Any]:
        """Set one top-level variable to a JSON value; the audit trail keeps the old and the new value."""
        set_variable(dbs(), current_actor(), instance_id, name, variable_text(body["value"]), body["reason"])
        dbs().commit()
        return detail_body(instance_id)

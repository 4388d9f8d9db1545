"""Administrator endpoints: incidents (failed service tasks) with retry and resolve, stalled cases
with scan and repair, audit check."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from engine import (
    incidents,
    repair_stalled,
    resolve_incident,
    retry_incident,
    scan_stalled,
    stalled_instances,
    verify_audit,
)
from engine.models import OutboxJob
from integrations.celery_app import dispatch_after_commit
from processes.directory.models import Unit
from processes.directory.services import DirectoryError, units_tree
from web import directory
from web.errors import json_error
from web.extensions import dbs
from web.security import current_actor

from . import admins_only, authenticate_api
from . import schemas as s

blp = Blueprint("api_admin", __name__, url_prefix="/admin", description="Administration (admin role only)")
blp.before_request(authenticate_api)

blp.before_request(admins_only)


def incident_body(job: OutboxJob) -> dict[str, Any]:
    return {"id": job.id, "instance_id": job.instance_id, "element_id": job.element_id, "operator": job.operator,
            "attempts": job.attempts, "last_error": job.last_error, "created_at": job.created_at}


def _errors(view: Any) -> Any:
    for code in (401, 403, 404, 409, 422):
        view = blp.alt_response(code, schema=s.ApiErrorSchema, description="error")(view)
    return view


@blp.route("/incidents")
class Incidents(MethodView):
    @blp.response(200, s.IncidentSchema(many=True))
    @_errors
    def get(self) -> list[dict[str, Any]]:
        """Open incidents: service tasks that failed every retry."""
        return [incident_body(j) for j in incidents(dbs())]


@blp.route("/stalled")
class Stalled(MethodView):
    @blp.response(200, s.StalledSchema(many=True))
    @_errors
    def get(self) -> list[Any]:
        """Stalled cases: running, not finished, and nothing (task, timer, job, message) can move them."""
        return stalled_instances(dbs())


@blp.route("/stalled/scan")
class ScanStalled(MethodView):
    @blp.response(200, s.StalledSchema(many=True))
    @_errors
    def post(self) -> list[Any]:
        """Mark running cases that nothing can move as stalled; returns every stalled case."""
        scan_stalled(dbs(), current_actor())
        dbs().commit()
        return stalled_instances(dbs())


@blp.route("/stalled/<instance_id>/repair")
class RepairStalled(MethodView):
    @blp.response(200, s.StalledSchema)
    @_errors
    def post(self, instance_id: str) -> Any:
        """Merge parallel-step instances that finished unmerged and let the case continue (409 when
        the case is not stalled or still cannot move)."""
        row = repair_stalled(dbs(), instance_id, current_actor())
        dbs().commit()
        dispatch_after_commit(dbs())
        return row


@blp.route("/incidents/<job_id>/retry")
class RetryIncident(MethodView):
    @blp.response(200, s.IncidentSchema)
    @_errors
    def post(self, job_id: str) -> dict[str, Any]:
        """Queue the failed job again with a fresh retry budget."""
        job = retry_incident(dbs(), job_id, current_actor())
        body = incident_body(job)
        dbs().commit()
        dispatch_after_commit(dbs())
        return body


@blp.route("/incidents/<job_id>/resolve")
class ResolveIncident(MethodView):
    @blp.arguments(s.ResolveSchema)
    @blp.response(200, s.IncidentSchema)
    @_errors
    def post(self, body: dict[str, Any], job_id: str) -> dict[str, Any]:
        """Record the result of work done by hand and let the case continue."""
        job = resolve_incident(dbs(), job_id, current_actor(), body["result"], body["note"])
        out = incident_body(job)
        dbs().commit()
        dispatch_after_commit(dbs())
        return out


def unit_body(unit: Unit) -> dict[str, Any]:
    return {k: getattr(unit, k) for k in ("id", "name", "short_name", "level", "region_code", "parent_id", "active")}


@blp.route("/units")
class Units(MethodView):
    @blp.response(200, s.UnitSchema(many=True))
    @_errors
    def get(self) -> list[dict[str, Any]]:
        """Every unit, parents before children."""
        return [unit_body(u) for _depth, u in units_tree(dbs())]


@blp.route("/units/<unit_id>")
class UnitDetail(MethodView):
    @blp.arguments(s.UnitUpdateSchema)
    @blp.response(200, s.UnitSchema)
    @_errors
    def patch(self, body: dict[str, Any], unit_id: str) -> Any:
        """Rename, re-code, move (with its subtree) or deactivate a unit of your subtree (audited)."""
        actor = current_actor()
        unit = directory.manageable_unit(dbs(), actor, unit_id)
        try:
            directory.save_unit(dbs(), actor, unit, body)
        except DirectoryError as exc:
            dbs().rollback()
            return json_error(422, "invalid_data", exc.message, errors={exc.field or "_": [exc.message]})
        out = unit_body(unit)
        dbs().commit()
        return out


@blp.route("/audit")
class AuditCheck(MethodView):
    @blp.response(200, s.AuditVerifySchema)
    @_errors
    def get(self) -> dict[str, Any]:
        """Recompute every audit hash chain; name the first broken link."""
        result = verify_audit(dbs())
        return {"ok": result.ok, "chains": result.chains, "events": result.events,
                "first_broken": str(result.first_broken) if result.first_broken else None}

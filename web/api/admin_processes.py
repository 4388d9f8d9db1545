"""Administrator endpoints for process definitions: validate or deploy a bundle, list versions,
read one with its files, diff two, roll back, and migrate running instances (preview or batch).

The same engine verbs as the pages (``web.admin_processes``, ``web.admin_migrations``), so an
agency can script its deployments: a bundle is JSON ``{"files": {name: xml}}``. Problems come
back one per element (``element``, ``name``, ``severity``, ``message`` in the UI language) and
a deploy with any error writes nothing.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select
from werkzeug.wrappers import Response

from engine import EngineError, NotFound
from engine.definition_diff import diff_sources
from engine.migration import plan
from engine.migration_batch import MAX_BATCH, progress, start_batch
from engine.models import MigrationBatch, ProcessDefinition
from engine.process_admin import DeployRefused, deploy_files, rollback_to
from engine.validation import validate_bundle
from integrations.celery_app import dispatch_migration
from processes.validation_context import validation_context
from web.errors import json_error
from web.extensions import dbs
from web.process_admin_support import problem_view
from web.security import current_actor

from . import admins_only, authenticate_api
from . import schemas as s

blp = Blueprint("api_admin_processes", __name__, url_prefix="/admin",
                description="Process definitions: validate, deploy, versions, diff, rollback, migration (admin only)")
blp.before_request(authenticate_api)
blp.before_request(admins_only)

MAX_FILES = 20
MAX_FILE_CHARS = 5 * 1024 * 1024


class BundleSchema(s.StrictSchema):
    files = fields.Dict(keys=fields.String(validate=validate.Regexp(r"^[\w.-]+\.(bpmn|dmn)$")),
                        values=fields.String(validate=validate.Length(min=1, max=MAX_FILE_CHARS)), required=True,
                        validate=validate.Length(min=1, max=MAX_FILES),
                        metadata={"description": "file name -> XML text (.bpmn and .dmn)"})
    mode = fields.String(load_default="validate", validate=validate.OneOf(("validate", "deploy")))
    reason = fields.String(load_default="", validate=validate.Length(max=500))


class ProblemSchema(Schema):
    element = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    file = fields.String(allow_none=True)
    code = fields.String(allow_none=True)
    severity = fields.String()
    message = fields.String()


class VersionSchema(Schema):
    id = fields.Integer()
    process_key = fields.String()
    version = fields.Integer()
    name = fields.String()
    content_hash = fields.String()
    deployed_by = fields.String()
    deployed_at = fields.DateTime()
    reason = fields.String(allow_none=True)
    rollback_to = fields.Integer(allow_none=True)
    diff = fields.Dict(allow_none=True)
    files = fields.Dict(keys=fields.String(), values=fields.String(), required=False)


class DeployResultSchema(Schema):
    problems = fields.List(fields.Nested(ProblemSchema))
    deployed = fields.List(fields.Nested(VersionSchema))


class RollbackSchema(s.StrictSchema):
    version = fields.Integer(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class MigrationRequestSchema(s.StrictSchema):
    process_key = fields.String(required=True)
    to_version = fields.Integer(required=True)
    instance_ids = fields.List(fields.String(), required=True, validate=validate.Length(min=1, max=MAX_BATCH))
    mapping = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    reason = fields.String(load_default="", validate=validate.Length(max=500))
    preview = fields.Boolean(load_default=False, metadata={"description": "only say, per instance, whether it "
                                                                           "can move (at most 500)"})


def _errors(view: Any) -> Any:
    for code in (401, 403, 404, 422):
        view = blp.alt_response(code, schema=s.ApiErrorSchema, description="error")(view)
    return view


def _version(definition: ProcessDefinition, with_files: bool = False) -> dict[str, Any]:
    summary = definition.summary or {}
    body = {"id": definition.id, "process_key": definition.process_key, "version": definition.version,
            "name": definition.name, "content_hash": definition.content_hash, "deployed_by": definition.deployed_by,
            "deployed_at": definition.deployed_at, "reason": summary.get("reason"),
            "rollback_to": summary.get("rollback_to"), "diff": summary.get("diff")}
    if with_files:
        body["files"] = dict(definition.sources)
    return body


def _find(key: str, version: int) -> ProcessDefinition:
    found = dbs().scalar(select(ProcessDefinition).where(ProcessDefinition.process_key == key,
                                                         ProcessDefinition.version == version))
    if found is None:
        raise NotFound(f"no version {version} of '{key}'")
    return found


def _refused(exc: EngineError) -> Response:
    dbs().rollback()
    if isinstance(exc, DeployRefused):
        return json_error(422, exc.code, exc.message, problems=[problem_view(p) for p in exc.problems])
    return json_error(422 if not isinstance(exc, NotFound) else 404, exc.code, exc.message)


@blp.route("/definitions")
class Definitions(MethodView):
    @blp.arguments(BundleSchema)
    @blp.response(200, DeployResultSchema)
    @_errors
    def post(self, body: dict[str, Any]) -> Any:
        """Validate a bundle (``mode: validate``, nothing written) or deploy it (``mode: deploy``, a reason
        required; refused with 422 and every problem while any error remains)."""
        files = {name: text.encode("utf-8") for name, text in body["files"].items()}
        if body["mode"] == "validate":
            return {"problems": [problem_view(p) for p in validate_bundle(files, validation_context(dbs()))],
                    "deployed": []}
        try:
            deployed = deploy_files(dbs(), current_actor(), files, body["reason"], validation_context(dbs()))
        except EngineError as exc:
            return _refused(exc)
        out = {"problems": [], "deployed": [_version(d) for d in deployed]}
        dbs().commit()
        return out


@blp.route("/definitions/<key>/versions")
class Versions(MethodView):
    @blp.response(200, VersionSchema(many=True))
    @_errors
    def get(self, key: str) -> Any:
        """Every version of a process, newest first, with its reason and diff against the one before."""
        rows = list(dbs().scalars(select(ProcessDefinition).where(ProcessDefinition.process_key == key)
                                  .order_by(ProcessDefinition.version.desc())))
        if not rows:
            return json_error(404, "not_found", f"no process '{key}'")
        return [_version(r) for r in rows]


@blp.route("/definitions/<key>/versions/<int:version>")
class Version(MethodView):
    @blp.response(200, VersionSchema)
    @_errors
    def get(self, key: str, version: int) -> Any:
        """One version with its files."""
        try:
            return _version(_find(key, version), with_files=True)
        except NotFound as exc:
            return _refused(exc)


@blp.route("/definitions/<key>/diff/<int:old>/<int:new>")
class Diff(MethodView):
    @blp.response(200)
    @_errors
    def get(self, key: str, old: int, new: int) -> Any:
        """Elements added, removed and changed between any two versions."""
        try:
            return diff_sources(_find(key, old).sources, _find(key, new).sources)
        except NotFound as exc:
            return _refused(exc)


@blp.route("/definitions/<key>/rollback")
class Rollback(MethodView):
    @blp.arguments(RollbackSchema)
    @blp.response(200, VersionSchema(many=True))
    @_errors
    def post(self, body: dict[str, Any], key: str) -> Any:
        """Deploy an older version's files again as a new version (validated, audited with the reason)."""
        try:
            old = _find(key, body["version"])
            deployed = rollback_to(dbs(), current_actor(), old.id, body["reason"],
                                   validation_context(dbs(), leaving_out=key))
        except EngineError as exc:
            return _refused(exc)
        out = [_version(d) for d in deployed]
        dbs().commit()
        return out


@blp.route("/migrations")
class Migrations(MethodView):
    @blp.arguments(MigrationRequestSchema)
    @blp.response(200)
    @_errors
    def post(self, body: dict[str, Any]) -> Any:
        """Preview (``preview: true``) or start a batch moving instances to a version; the batch runs on
        a worker: follow it at ``GET /admin/migrations/<id>``."""
        try:
            target = _find(body["process_key"], body["to_version"])
            if body["preview"]:
                return {"previews": [plan(dbs(), i, target.id, body["mapping"]).as_dict()
                                     for i in body["instance_ids"][:500]]}
            batch = start_batch(dbs(), current_actor(), target.id, body["instance_ids"], body["reason"],
                                body["mapping"])
        except EngineError as exc:
            return _refused(exc)
        batch_id = batch.id
        dbs().commit()
        dispatch_migration(batch_id)
        found = dbs().get(MigrationBatch, batch_id)
        return progress(found) if found is not None else {"id": batch_id}


@blp.route("/migrations/<batch_id>")
class Migration(MethodView):
    @blp.response(200)
    @_errors
    def get(self, batch_id: str) -> Any:
        """A batch's progress and the result of each instance (moved, or stayed with the reason)."""
        found = dbs().get(MigrationBatch, batch_id)
        if found is None:
            return json_error(404, "not_found", f"no migration batch {batch_id}")
        return progress(found)

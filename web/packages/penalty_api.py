"""The penalty package's API: a case's deliberation verification report (``api_bp``), and the
administrator endpoints for the penalty rules (``rules.toml`` overrides) and DMN tables (``blp``).

Registered through ``web.packages.penalty.WEB_PACKAGE`` under ``/api/v1``. The admin endpoints use
the same services and validation as the admin pages (``web.packages.penalty_admin``): a refused
value or expression is a 422 naming the entry (or the row and column) and nothing is written.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from werkzeug.wrappers import Response

from engine import NotFound
from processes.penalty.dmn_overrides import current_table, dmn_history, reset_table, save_table, table_files
from processes.penalty.dmn_tables import DecisionTable, DmnTableError
from processes.penalty.rule_overrides import (
    LawConfirmationRequired,
    RuleState,
    RuleValueError,
    reset_rule,
    rule_history,
    rule_state,
    rule_states,
    set_rule,
)
from web.api import admins_only, authenticate_api
from web.api import schemas as s
from web.errors import json_error
from web.extensions import dbs
from web.i18n import domain_text
from web.security import current_actor

api_bp = Blueprint("api_penalty", __name__, description="Penalty cases")
api_bp.before_request(authenticate_api)


@api_bp.route("/cases/<instance_id>/deliberation")
class CaseDeliberation(MethodView):
    @api_bp.response(200, s.DeliberationSchema)
    @api_bp.alt_response(401, schema=s.ApiErrorSchema, description="error")
    @api_bp.alt_response(404, schema=s.ApiErrorSchema, description="error")
    def get(self, instance_id: str) -> dict[str, Any]:
        """The deliberation record's verification report: per signature signer, time, certificate
        serial, VALID / INVALID with the reason (404 outside your units or before the record exists)."""
        from web.casework import visible_instance

        from .penalty import deliberation, penalty_case

        instance = visible_instance(current_actor(), instance_id)
        case = penalty_case(instance.id)
        found = deliberation(case, with_html=False) if case is not None else None
        if found is None or found.report is None:
            raise NotFound("this case has no deliberation record yet")
        return found.report.to_dict()


blp = Blueprint("api_admin_rules", __name__, url_prefix="/admin/penalty",
                description="Penalty rules and decision tables (admin role only)")
blp.before_request(authenticate_api)

blp.before_request(admins_only)


class RuleSchema(Schema):
    key = fields.String(metadata={"description": "section.name in rules.toml"})
    section = fields.String()
    name = fields.String()
    comment = fields.String()
    tag = fields.String(metadata={"description": "law, practice, practice/law or empty"})
    law = fields.Boolean(metadata={"description": "fixed by statute: changing it needs confirm_law"})
    kind = fields.String(metadata={"description": "int, decimal, rate, category, template, text or bool"})
    default = fields.Raw(metadata={"description": "the value in rules.toml"})
    value = fields.Raw(metadata={"description": "the value new cases get"})
    overridden = fields.Boolean()
    changed_by = fields.String(allow_none=True)
    changed_at = fields.DateTime(allow_none=True)
    reason = fields.String(allow_none=True)


class RuleChangeSchema(Schema):
    key = fields.String()
    value = fields.Raw(allow_none=True, metadata={"description": "None: back to the file default"})
    previous = fields.Raw(allow_none=True)
    changed_by = fields.String()
    changed_at = fields.DateTime()
    reason = fields.String()


class RuleDetailSchema(RuleSchema):
    history = fields.List(fields.Nested(RuleChangeSchema))


class RuleUpdateSchema(Schema):
    value = fields.Raw(required=True)
    reason = fields.String(required=True)
    confirm_law = fields.Boolean(load_default=False)


class ReasonSchema(Schema):
    reason = fields.String(required=True)


class ColumnSchema(Schema):
    label = fields.String()
    expression = fields.String()
    type_ref = fields.String()


class RowSchema(Schema):
    description = fields.String(load_default="")
    inputs = fields.List(fields.String(), required=True)
    outputs = fields.List(fields.String(), required=True)


class TableSchema(Schema):
    file_name = fields.String()
    decision_id = fields.String()
    name = fields.String()
    hit_policy = fields.String()
    inputs = fields.List(fields.Nested(ColumnSchema))
    outputs = fields.List(fields.Nested(ColumnSchema))
    rows = fields.List(fields.Nested(RowSchema))
    changed = fields.Boolean(metadata={"description": "an administrator's version is in force"})
    history = fields.List(fields.Dict())


class TableUpdateSchema(Schema):
    rows = fields.List(fields.Nested(RowSchema), required=True)
    reason = fields.String(required=True)


def _errors(view: Any) -> Any:
    for code in (401, 403, 404, 422):
        view = blp.alt_response(code, schema=s.ApiErrorSchema, description="error")(view)
    return view


def _rule_body(state: RuleState) -> dict[str, Any]:
    item, last = state.entry, state.last
    return {"key": item.key, "section": item.section, "name": item.name, "comment": domain_text(item.comment),
            "tag": item.tag,
            "law": item.is_law, "kind": item.kind, "default": item.default, "value": state.value,
            "overridden": state.overridden, "changed_by": last.changed_by if last else None,
            "changed_at": last.changed_at if last else None, "reason": last.reason if last else None}


def _rule_detail(key: str) -> dict[str, Any]:
    state = rule_state(dbs(), key)
    if state is None:
        raise NotFound(f"no rule {key}")
    return {**_rule_body(state), "history": [
        {"key": h.key, "value": h.value, "previous": h.previous, "changed_by": h.changed_by,
         "changed_at": h.changed_at, "reason": h.reason} for h in rule_history(dbs(), key)]}


def _rule_error(exc: RuleValueError) -> Response:
    dbs().rollback()
    code = "law_confirmation_required" if isinstance(exc, LawConfirmationRequired) else "invalid_data"
    return json_error(422, code, exc.message, errors={"value": [exc.message]}, key=exc.key)


@blp.route("/rules")
class Rules(MethodView):
    @blp.response(200, RuleSchema(many=True))
    @_errors
    def get(self) -> list[dict[str, Any]]:
        """Every entry of rules.toml with the value new cases get."""
        return [_rule_body(state) for _section, states in rule_states(dbs()) for state in states]


@blp.route("/rules/<key>")
class Rule(MethodView):
    @blp.response(200, RuleDetailSchema)
    @_errors
    def get(self, key: str) -> dict[str, Any]:
        """One entry with its history of changes."""
        return _rule_detail(key)

    @blp.arguments(RuleUpdateSchema)
    @blp.response(200, RuleDetailSchema)
    @_errors
    def put(self, body: dict[str, Any], key: str) -> Any:
        """Change the value for new cases ([law] entries need ``confirm_law: true``)."""
        if rule_state(dbs(), key) is None:
            raise NotFound(f"no rule {key}")
        try:
            set_rule(dbs(), current_actor().user_id, key, body["value"], body["reason"],
                     confirm_law=body["confirm_law"])
        except RuleValueError as exc:
            return _rule_error(exc)
        dbs().commit()
        return _rule_detail(key)


@blp.route("/rules/<key>/reset")
class RuleReset(MethodView):
    @blp.arguments(ReasonSchema)
    @blp.response(200, RuleDetailSchema)
    @_errors
    def post(self, body: dict[str, Any], key: str) -> Any:
        """Back to the value in rules.toml for new cases."""
        if rule_state(dbs(), key) is None:
            raise NotFound(f"no rule {key}")
        try:
            reset_rule(dbs(), current_actor().user_id, key, body["reason"])
        except RuleValueError as exc:
            return _rule_error(exc)
        dbs().commit()
        return _rule_detail(key)


def _table_body(file_name: str, with_history: bool = True) -> dict[str, Any]:
    table, row = current_table(dbs(), file_name)
    return {**_table_dict(table), "changed": row is not None, "history": [
        {"sha256": h.sha256, "previous_sha256": h.previous_sha256, "reset": h.xml is None, "versions": h.versions,
         "changed_by": h.changed_by, "changed_at": h.changed_at.isoformat(), "reason": h.reason}
        for h in (dmn_history(dbs(), file_name) if with_history else [])]}


def _table_dict(table: DecisionTable) -> dict[str, Any]:
    return {"file_name": table.file_name, "decision_id": table.decision_id, "name": table.name,
            "hit_policy": table.hit_policy,
            "inputs": [{"label": c.label, "expression": c.expression, "type_ref": c.type_ref} for c in table.inputs],
            "outputs": [{"label": c.label, "expression": c.expression, "type_ref": c.type_ref} for c in table.outputs],
            "rows": [{"description": r.description, "inputs": r.inputs, "outputs": r.outputs} for r in table.rows]}


def _known(file_name: str) -> None:
    if file_name not in table_files():
        raise NotFound(f"no decision table {file_name}")


def _table_error(exc: DmnTableError) -> Response:
    dbs().rollback()
    return json_error(422, "invalid_decision_table", str(exc), row=exc.row, column=exc.column)


@blp.route("/decision-tables")
class Tables(MethodView):
    @blp.response(200, TableSchema(many=True))
    @_errors
    def get(self) -> list[dict[str, Any]]:
        """The penalty decision tables in force for new cases."""
        return [_table_body(name, with_history=False) for name in table_files()]


@blp.route("/decision-tables/<file_name>")
class Table(MethodView):
    @blp.response(200, TableSchema)
    @_errors
    def get(self, file_name: str) -> dict[str, Any]:
        """One table: columns, rows (first match wins) and its history."""
        _known(file_name)
        return _table_body(file_name)

    @blp.arguments(TableUpdateSchema)
    @blp.response(200, TableSchema)
    @_errors
    def put(self, body: dict[str, Any], file_name: str) -> Any:
        """Replace the rows; every expression is checked; deploys a new penalty version."""
        _known(file_name)
        try:
            save_table(dbs(), current_actor(), file_name, body["rows"], body["reason"])
        except DmnTableError as exc:
            return _table_error(exc)
        dbs().commit()
        return _table_body(file_name)


@blp.route("/decision-tables/<file_name>/reset")
class TableReset(MethodView):
    @blp.arguments(ReasonSchema)
    @blp.response(200, TableSchema)
    @_errors
    def post(self, body: dict[str, Any], file_name: str) -> Any:
        """Back to the file in processes/penalty for new cases (deploys a new version)."""
        _known(file_name)
        try:
            reset_table(dbs(), current_actor(), file_name, body["reason"])
        except DmnTableError as exc:
            return _table_error(exc)
        dbs().commit()
        return _table_body(file_name)

"""Saving directory edits (units, supervised entities) for the HTML forms and the JSON API alike.

Both load the request through the API's marshmallow schemas (``web.api.schemas``), ask
``engine.permissions`` who may do it, let ``processes.directory.editing`` check and apply the
change, and append the before/after values to the system audit chain. So a form post and a
PATCH refuse the same input with the same message, and neither writes anything when refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, ValidationError
from sqlalchemy.orm import Session

from engine import Actor, NotFound, PermissionDenied
from engine import permissions as perm
from engine.audit import append as audit_append
from processes.directory.editing import Changes, set_unit_active, update_entity, update_unit
from processes.directory.models import Entity, Unit
from processes.directory.services import DirectoryError

ENTITY_FIELDS = ("credit_code", "name", "category", "unit_id", "address", "region_code", "legal_representative",
                 "licence_numbers")
UNIT_FIELDS = ("name", "short_name", "region_code", "parent_id")


def form_body(form: Mapping[str, str], names: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """An HTML form as the API's JSON body: blank optional fields are null, licence numbers a list."""
    body: dict[str, Any] = {}
    for name in names:
        if name not in form:
            continue
        value = form[name]
        if name == "licence_numbers":
            body[name] = [n.strip() for n in value.replace("，", ",").replace("、", ",").split(",") if n.strip()]
        elif name in optional and not value.strip():
            body[name] = None
        else:
            body[name] = value
    return body


def load(schema: Schema, body: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """(data, {}) or ({}, field → first message): what the form shows next to each input."""
    try:
        return schema.load(body), {}
    except ValidationError as exc:
        messages = exc.normalized_messages()
        errors: dict[str, str] = {}
        for field, found in messages.items():
            message = found
            while isinstance(message, list | dict):  # a list field's messages are keyed by item index
                message = (list(message.values()) if isinstance(message, dict) else message)[0]
            errors[str(field)] = str(message)
        return {}, errors


def save_entity(session: Session, actor: Actor, entity: Entity, body: Mapping[str, Any]) -> Changes:
    """Apply a loaded entity edit; keys missing from ``body`` keep their values."""
    if not perm.can_see_unit(actor, entity.unit_id):
        raise NotFound("没有找到该单位", entity_id=entity.credit_code)
    if not perm.can_edit_entity(actor, entity.unit_id):
        raise PermissionDenied("your roles may not change entities")
    unit_id = body.get("unit_id", entity.unit_id)
    if unit_id != entity.unit_id and not perm.can_edit_entity(actor, unit_id):
        raise DirectoryError("监管单位须为本单位或下级单位", "unit_id")
    changes = update_entity(
        session, entity, credit_code=body.get("credit_code"), name=body.get("name", entity.name),
        category=body.get("category", entity.category), unit_id=unit_id,
        address=body.get("address", entity.address), region_code=body.get("region_code", entity.region_code),
        legal_representative=body.get("legal_representative", entity.legal_representative),
        licence_numbers=body.get("licence_numbers", entity.licence_numbers or []))
    if changes:  # a corrected credit code shows as changes["credit_code"] == [old, new]
        audit_append(session, actor.user_id, "entity_changed",
                     data={"entity": entity.credit_code, "changes": changes})
    return changes


def manageable_unit(session: Session, actor: Actor, unit_id: str) -> Unit:
    """The unit, when the actor administers it; otherwise not found (its existence is not told)."""
    unit = session.get(Unit, unit_id)
    if unit is None or not perm.can_manage_unit(actor, unit.id):
        raise NotFound(f"no unit {unit_id}")
    return unit


def save_unit(session: Session, actor: Actor, unit: Unit, body: Mapping[str, Any]) -> Changes:
    """Apply a loaded unit edit (rename, re-code, move, deactivate or reactivate)."""
    if not perm.can_manage_unit(actor, unit.id):
        raise NotFound(f"no unit {unit.id}")
    parent_id = body.get("parent_id", unit.parent_id) or None
    if parent_id != unit.parent_id and parent_id is not None and session.get(Unit, parent_id) is not None \
            and not perm.can_manage_unit(actor, parent_id):
        raise DirectoryError("上级单位须在您管理的范围内", "parent_id")
    changes = update_unit(session, unit, name=body.get("name", unit.name),
                          short_name=body.get("short_name", unit.short_name),
                          region_code=body.get("region_code", unit.region_code), parent_id=parent_id)
    if body.get("active") is not None:
        changes.update(set_unit_active(session, unit, bool(body["active"])))
    if changes:
        audit_append(session, actor.user_id, "unit_changed", data={"unit": unit.id, "changes": changes})
    return changes

"""Every task permission decision in one place; the web views and the API both call these.

A user may work a task when it is assigned to them, or when it is unassigned and its
candidate role is one of theirs within the instance's unit. Heads reassign within their
units; administrators may act everywhere, except that they administer the unit tree only
within their own unit and the units below it (a city's administrator does not rename the
province). Supervised entities are corrected by the staff who deal with them, in their units.
"""

from __future__ import annotations

from sqlalchemy import or_, true
from sqlalchemy.sql import ColumnElement

from .actor import Actor
from .models import HumanTask, ProcessInstance

HEAD_ROLE = "head"
ENTITY_EDITOR_ROLES = frozenset({"officer", "head", "complaint_clerk"})


def can_see_instance(actor: Actor, instance: ProcessInstance) -> bool:
    return actor.is_admin or instance.unit_id is None or instance.unit_id in actor.unit_ids \
        or instance.started_by == actor.user_id


def visible_instances(actor: Actor) -> ColumnElement[bool]:
    """``can_see_instance`` as a WHERE clause over ``process_instance`` (the case list)."""
    if actor.is_admin:
        return true()
    return or_(ProcessInstance.unit_id.is_(None), ProcessInstance.unit_id.in_(sorted(actor.unit_ids)),
               ProcessInstance.started_by == actor.user_id)


def can_see_task(actor: Actor, task: HumanTask) -> bool:
    return actor.is_admin or task.assignee == actor.user_id or task.unit_id in actor.unit_ids \
        or task.completed_by == actor.user_id


def can_claim(actor: Actor, task: HumanTask) -> bool:
    return task.assignee is None and task.candidate_role in actor.roles and \
        (task.unit_id is None or task.unit_id in actor.unit_ids)


def can_complete(actor: Actor, task: HumanTask) -> bool:
    if task.assignee is not None:
        return task.assignee == actor.user_id
    return can_claim(actor, task)


def can_reassign(actor: Actor, task: HumanTask) -> bool:
    return actor.is_admin or (HEAD_ROLE in actor.roles and task.unit_id in actor.unit_ids)


def can_see_unit(actor: Actor, unit_id: str | None) -> bool:
    """Directory records (entities, staff) of a unit: visible within the actor's units."""
    return actor.is_admin or (unit_id is not None and unit_id in actor.unit_ids)


def can_start(actor: Actor, unit_id: str | None) -> bool:
    return actor.is_admin or unit_id is None or unit_id in actor.unit_ids


def can_edit_entity(actor: Actor, unit_id: str | None) -> bool:
    """An entity supervised by ``unit_id``: its particulars are corrected by officers, heads and
    complaint clerks of that unit (or a unit above it), and by administrators."""
    return can_see_unit(actor, unit_id) and (actor.is_admin or bool(actor.roles & ENTITY_EDITOR_ROLES))


def can_manage_unit(actor: Actor, unit_id: str | None) -> bool:
    """Rename, re-code, move or deactivate a unit: administrators, within their own subtree."""
    return actor.is_admin and unit_id is not None and unit_id in actor.unit_ids

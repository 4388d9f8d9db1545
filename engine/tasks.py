"""Human-task commands (claim, unclaim, assign) and the inbox query.

These touch only the ``human_task`` row and the audit trail, never the workflow state: who
holds a task is the engine's business, not SpiffWorkflow's. The instance row is still
locked/versioned so a claim cannot race a completion.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    String,
    and_,
    any_,
    bindparam,
    false,
    func,
    not_,
    or_,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from . import permissions
from .actor import Actor
from .errors import ConflictError, InstanceSuspended, InvalidData, PermissionDenied
from .instances import get_ready_task
from .materialize import task_properties
from .models import HumanTask
from .routing import RouteRequest, route
from .runtime import Command, Loaded, find_task, load, save


def _reason(reason: str | None, required: bool) -> str | None:
    text = (reason or "").strip()
    if required and not text:
        raise InvalidData("a reason is required")
    if len(text) > 1000:
        raise InvalidData("the reason is longer than 1000 characters")
    return text or None


def claim(session: Session, task_id: str, actor: Actor, *, now: datetime | None = None) -> HumanTask:
    task = get_ready_task(session, task_id)
    if task.assignee == actor.user_id:
        return task
    if task.assignee is not None:
        raise ConflictError("this task was already claimed by someone else", assignee=task.assignee)
    if not permissions.can_claim(actor, task):
        raise PermissionDenied("this task is not claimable by your roles in your units")
    _change_assignee(session, task, actor, actor.user_id, "task_claimed", None, now)
    return task


def unclaim(session: Session, task_id: str, actor: Actor, *, now: datetime | None = None) -> HumanTask:
    task = get_ready_task(session, task_id)
    if task.assignee != actor.user_id and not permissions.can_reassign(actor, task):
        raise PermissionDenied("only the holder or a head may release this task")
    _change_assignee(session, task, actor, None, "task_unclaimed", None, now)
    return task


def assign(session: Session, task_id: str, actor: Actor, assignee: str, reason: str | None = None,
           *, now: datetime | None = None) -> HumanTask:
    """A head (re)assigns a task within their units; the reason is kept in the audit trail."""
    text = _reason(reason, required=True)
    if not assignee or not str(assignee).strip():
        raise InvalidData("choose the person to assign the task to")
    task = get_ready_task(session, task_id)
    if not permissions.can_reassign(actor, task):
        raise PermissionDenied("only a head of this unit may reassign tasks")
    _change_assignee(session, task, actor, str(assignee).strip(), "task_assigned", text, now)
    return task


def _change_assignee(session: Session, task: HumanTask, actor: Actor, assignee: str | None, action: str,
                     reason: str | None, now: datetime | None) -> None:
    cmd = Command(session, actor) if now is None else Command(session, actor, now=now)
    loaded = load(cmd, task.instance_id)  # locks / versions the instance: no race with completion
    session.refresh(task)
    if task.status != "ready":
        raise ConflictError(f"task {task.title} was just {task.status}")
    if action == "task_claimed" and loaded.row.status == "suspended":
        raise InstanceSuspended("this case is suspended by an administrator; its tasks cannot be claimed "
                                "until it is resumed", task_id=task.id)
    if action != "task_claimed" and not _reassignable(loaded, task):
        raise PermissionDenied(f"task {task.title} is {task.assignee}'s own (a personal declaration, opinion or "
                               "signature) and cannot be passed to anyone else")
    previous = task.assignee
    data: dict[str, Any] = {"from": previous, "to": assignee, "reason": reason}
    owner, delegation = None, None  # a task changing hands ends any substitution or delegation
    if action == "task_assigned" and assignee is not None:
        answer = route(session, RouteRequest(task.id, task.instance_id, task.task_name, task.title,
                                             task.candidate_role, task.unit_id, assignee,
                                             process_key=task.process_key), cmd.now)
        if answer is not None and answer.refused:
            cmd.record(loaded, "task_substitute_refused", {"assignee": assignee, "substitute": answer.assignee,
                                                           "why": answer.refused, **answer.data},
                       task.id, task.task_name)
        elif answer is not None:
            assignee, owner = answer.assignee, answer.owner
            data.update(to=assignee, on_behalf_of=owner)
    task.assignee, task.owner, task.delegation = assignee, owner, delegation
    loaded.row.updated_at = cmd.now
    cmd.record(loaded, action, data, task.id, task.task_name)
    save(cmd)


def _reassignable(loaded: Loaded, task: HumanTask) -> bool:
    """False for a task the BPMN marks ``reassignable="false"``: it belongs to the person its
    assignee expression named (a member's signature, opinion or conflict declaration), so
    neither a head nor the person may hand it to someone else."""
    live = find_task(loaded.workflow, task.id)
    props = task_properties(live) if live is not None else {}
    return str(props.get("reassignable", "true")).strip().lower() != "false"


@dataclass
class InboxFilters:
    """What an inbox page shows. ``scope`` "completed" lists tasks the actor finished, newest first
    by default; the other scopes list ready tasks by due date, soonest first unless ``descending``."""

    scope: str = "all"  # all | assigned | claimable | completed
    process_key: str | None = None
    task_name: str | None = None
    entity_id: str | None = None
    due_before: datetime | None = None
    due_after: datetime | None = None
    overdue_at: datetime | None = None  # only tasks whose due date passed before this instant
    descending: bool | None = None  # None: the scope's natural order
    entity_name: str | None = None  # a substring of the entity's name, any case
    search: str | None = None  # every word in the case number, the entity's name or the task's title
    sort: str = "due"  # due, or a key of SORTS
    # More WHERE conditions over ``human_task`` from the caller (the web layer's follow-up dates:
    # the engine knows no such table). A page with any is always read by the narrow query.
    conditions: tuple[ColumnElement[bool], ...] = ()

    def searched(self) -> bool:
        return bool(self.entity_name or self.search)


@dataclass
class InboxPage:
    tasks: list[HumanTask]
    next_cursor: str | None
    counts: dict[str, int] = field(default_factory=dict)


def _encode_cursor(key: datetime | None, task_id: str) -> str:
    raw = json.dumps([key.isoformat() if key else None, task_id]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        due, task_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        key = datetime.fromisoformat(due)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise InvalidData("the page cursor is not valid") from exc
    if key.tzinfo is None:
        raise InvalidData("the page cursor is not valid")
    return key, str(task_id)


def visible_condition(actor: Actor, scope: str) -> ColumnElement[bool]:
    mine = HumanTask.assignee == actor.user_id
    # A suspended case's unassigned tasks are hidden (its assignee still sees theirs, marked).
    claimable = and_(HumanTask.assignee.is_(None), HumanTask.candidate_role.in_(sorted(actor.roles)),
                     HumanTask.unit_id.in_(sorted(actor.unit_ids)), not_(HumanTask.suspended))
    if scope == "assigned":
        return mine
    if scope == "claimable":
        return claimable
    if scope == "all":
        return or_(mine, claimable)
    if scope == "delegated":  # tasks the actor delegated and awaits back (engine.delegation)
        return and_(HumanTask.owner == actor.user_id, HumanTask.delegation == "pending")
    raise InvalidData(f"unknown inbox scope {scope!r}")


def _filter_conditions(filters: InboxFilters) -> list[ColumnElement[bool]]:
    """The optional column filters of an inbox query (process, task, entity, due range)."""
    conditions: list[ColumnElement[bool]] = []
    if filters.process_key:
        conditions.append(HumanTask.process_key == filters.process_key)
    if filters.task_name:
        conditions.append(HumanTask.task_name == filters.task_name)
    if filters.entity_id:
        conditions.append(HumanTask.entity_id == filters.entity_id)
    if filters.due_before:
        conditions.append(HumanTask.due_sort < filters.due_before)
    if filters.due_after:
        conditions.append(HumanTask.due_sort >= filters.due_after)
    if filters.overdue_at:
        conditions.append(HumanTask.due_sort < filters.overdue_at)
    if filters.entity_name:
        conditions.append(HumanTask.entity_name.ilike(_contains(filters.entity_name), escape="\\"))
    conditions.extend(filters.conditions)
    for word in (filters.search or "").split()[:MAX_SEARCH_WORDS]:
        pattern = _contains(word)
        conditions.append(or_(*(column.ilike(pattern, escape="\\") for column in
                                (HumanTask.business_key, HumanTask.entity_name, HumanTask.title))))
    return conditions


# The inbox's other sort keys (besides the due date, which pages by keyset): paged by offset,
# within the actor's own tasks (a searched or re-sorted inbox is the narrow query, whose rows the
# scope's index already bounds). "process" orders by process key (tasks of one process together),
# "assignee" by the holder's user id (one person's tasks together, unassigned last); "deadline"
# is the due date for the completed scope, whose "due" keyset is the completion time.
SORTS = {"created": HumanTask.created_at, "title": HumanTask.title, "case": HumanTask.business_key,
         "entity": HumanTask.entity_name, "process": HumanTask.process_key, "assignee": HumanTask.assignee,
         "completed": HumanTask.completed_at, "deadline": HumanTask.due_sort}
MAX_SEARCH_WORDS = 8
MAX_OFFSET = 100_000


def _contains(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _sorted_page(session: Session, where: list[ColumnElement[bool]], filters: InboxFilters, cursor: str | None,
                 limit: int) -> tuple[list[HumanTask], str | None]:
    """A page sorted by another column than the due date (empty values last), offset-paged."""
    column = SORTS.get(filters.sort)
    if column is None:
        raise InvalidData(f"unknown sort {filters.sort!r}; one of due, {', '.join(SORTS)}")
    offset = _decode_offset(cursor) if cursor else 0
    descending = bool(filters.descending)
    # ties (one assignee's tasks, one process's) in due order, earliest first, then a fixed order
    order = (column.is_(None), column.desc() if descending else column.asc(), HumanTask.due_sort.asc(),
             HumanTask.id.desc() if descending else HumanTask.id.asc())
    rows = list(session.scalars(select(HumanTask).where(*where, *_filter_conditions(filters))
                                .order_by(*order).offset(offset).limit(limit + 1)))
    more = len(rows) > limit and offset + limit <= MAX_OFFSET
    return rows[:limit], _encode_offset(offset + limit) if more else None


def _encode_offset(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _decode_offset(cursor: str) -> int:
    try:
        offset = json.loads(base64.urlsafe_b64decode(cursor.encode()))["offset"]
    except (ValueError, TypeError, KeyError, binascii.Error) as exc:
        raise InvalidData("the page cursor is not valid") from exc
    if not isinstance(offset, int) or not 0 <= offset <= MAX_OFFSET + 500:
        raise InvalidData("the page cursor is not valid")
    return offset


def inbox(session: Session, actor: Actor, filters: InboxFilters | None = None, cursor: str | None = None,
          limit: int = 50) -> InboxPage:
    """Tasks of one inbox tab, keyset-paged.

    Ready tasks assigned to the actor or claimable by their roles in their units, by due date;
    or (scope "completed") the tasks the actor completed, by completion time.
    """
    filters = filters or InboxFilters()
    if not 1 <= limit <= 500:
        raise InvalidData("page size must be between 1 and 500")
    completed = filters.scope == "completed"
    if completed:
        conditions: list[ColumnElement[bool]] = [HumanTask.completed_by == actor.user_id,
                                                 HumanTask.status == "completed"]
        key = HumanTask.completed_at
        descending = True if filters.descending is None else filters.descending
    else:
        conditions = [HumanTask.status == "ready", visible_condition(actor, filters.scope)]
        key = HumanTask.due_sort
        descending = bool(filters.descending)
    if filters.sort != "due":
        page, following = _sorted_page(session, conditions, filters, cursor, limit)
        return InboxPage(page, following)
    keyset = _decode_cursor(cursor) if cursor else None
    if not completed and not filters.searched() and not filters.conditions and _is_wide(session, actor, filters.scope):
        rows = _wide_inbox(session, actor, filters, keyset, descending, limit + 1)
    else:
        extra = _filter_conditions(filters)
        if keyset:
            after, task_id = keyset
            if descending:
                extra.append(or_(key < after, and_(key == after, HumanTask.id < task_id)))
            else:
                extra.append(or_(key > after, and_(key == after, HumanTask.id > task_id)))
        order = (key.desc(), HumanTask.id.desc()) if descending else (key, HumanTask.id)
        rows = list(session.scalars(select(HumanTask).where(*conditions, *extra).order_by(*order).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = _encode_cursor(last.completed_at if completed else last.due_sort, last.id)
    return InboxPage(rows[:limit], next_cursor)


# A scope of more (unit, role) pairs than this is "wide": a provincial user sees every unit
# below the province. One query over all of them makes PostgreSQL (which underestimates such a
# scope badly) fetch and sort every matching ready task, ~100 ms at 1,000,000 rows. On
# PostgreSQL a wide scope is read instead in two bounded steps (bench.inbox:
# inbox.provincial_p95_ms): first the head of everyone's claimable tasks in page order, which
# for a scope covering most of the province already holds the page; only when it does not,
# one index walk per (unit, role) pair, each cut at the page size, merged by due date.
WIDE_SCOPE_PAIRS = 8
TEXT_ARRAY = postgresql.ARRAY(String)
HEAD_ROWS_PER_PAGE_ROW = 8  # the head step reads this many claimable tasks per page row, at most


def _is_wide(session: Session, actor: Actor, scope: str) -> bool:
    return (scope in ("claimable", "all") and len(actor.unit_ids) * len(actor.roles) > WIDE_SCOPE_PAIRS
            and session.get_bind().dialect.name == "postgresql")


# The optional filters of a wide page, each bound by name in the cached statement.
_WIDE_FILTERS = ("process_key", "task_name", "entity_id", "due_before", "due_after", "overdue_at")


def _wide_inbox(session: Session, actor: Actor, filters: InboxFilters, keyset: tuple[datetime, str] | None,
                descending: bool, limit: int) -> list[HumanTask]:
    """A wide scope's page, merged by (due_sort, id); only the page's rows are read whole.

    The head step is exact, not a guess: when the first H claimable tasks (after the cursor,
    within the due range) hold ``limit`` of the actor's, no later task can come before them.
    Otherwise the walks answer alone (same rows, found the long way). The cursor is a row
    comparison, so every scan starts at the cursor instead of filtering its way there.
    """
    present = tuple(name for name in _WIDE_FILTERS if getattr(filters, name))
    statement = _wide_statement(filters.scope, descending, keyset is not None, present)
    units, roles = sorted(actor.unit_ids), sorted(actor.roles)
    params: dict[str, Any] = {name: getattr(filters, name) for name in present}
    params.update(units=units, roles=roles, walk_units=units, walk_roles=roles, user_id=actor.user_id,
                  page_limit=limit, head_limit=limit * HEAD_ROWS_PER_PAGE_ROW)
    if keyset is not None:
        params["after_due"], params["after_id"] = keyset
    return list(session.scalars(statement, params))


@lru_cache(maxsize=128)
def _wide_statement(scope: str, descending: bool, paged: bool, present: tuple[str, ...]) -> Select[Any]:
    """The statement of one page shape, with every value a named parameter: building it costs
    more than running it (a few ms of Python for a sub-millisecond query), so it is built once."""
    def ordered(*columns: Any) -> tuple[Any, ...]:
        return tuple(c.desc() for c in columns) if descending else columns

    due = HumanTask.due_sort
    ranges: list[ColumnElement[bool]] = []
    if "due_before" in present:
        ranges.append(due < bindparam("due_before", type_=due.type))
    if "due_after" in present:
        ranges.append(due >= bindparam("due_after", type_=due.type))
    if "overdue_at" in present:
        ranges.append(due < bindparam("overdue_at", type_=due.type))
    if paged:
        position = tuple_(due, HumanTask.id)
        bound = tuple_(bindparam("after_due", type_=due.type), bindparam("after_id", type_=String()))
        ranges.append(position < bound if descending else position > bound)
    others = [getattr(HumanTask, name) == bindparam(name, type_=String()) for name in present
              if name in ("process_key", "task_name", "entity_id")]
    page_limit, head_limit = bindparam("page_limit", type_=Integer()), bindparam("head_limit", type_=Integer())
    claimable = [HumanTask.status == "ready", HumanTask.assignee.is_(None), not_(HumanTask.suspended)]
    # The scope travels as two array parameters (not one parameter per unit).
    in_scope = and_(HumanTask.unit_id == any_(bindparam("units", type_=TEXT_ARRAY)),
                    HumanTask.candidate_role == any_(bindparam("roles", type_=TEXT_ARRAY)), *others)
    head = (select(HumanTask.id, due, in_scope.label("hit")).where(*claimable, *ranges)
            .order_by(*ordered(due, HumanTask.id)).limit(head_limit).subquery("head"))
    hits = (select(head.c.id, head.c.due_sort).where(head.c.hit)
            .order_by(*ordered(head.c.due_sort, head.c.id)).limit(page_limit).cte("hits"))
    found = select(func.count()).select_from(hits).scalar_subquery()

    units = func.unnest(bindparam("walk_units", type_=TEXT_ARRAY)).table_valued("unit_id").render_derived(name="u")
    roles = func.unnest(bindparam("walk_roles", type_=TEXT_ARRAY)).table_valued("role").render_derived(name="r")
    walk = (select(HumanTask.id, due)
            .where(*claimable, HumanTask.unit_id == units.c.unit_id, HumanTask.candidate_role == roles.c.role,
                   *ranges, *others)
            .order_by(*ordered(due, HumanTask.id)).limit(page_limit).lateral("walk"))
    parts: list[Any] = [
        select(hits.c.id, hits.c.due_sort).where(found == page_limit),
        select(walk.c.id, walk.c.due_sort).select_from(units.join(roles, true()).join(walk, true()))
        .where(found < page_limit)]
    if scope == "all":
        parts.append(select(HumanTask.id, due)
                     .where(HumanTask.status == "ready", HumanTask.assignee == bindparam("user_id", type_=String()),
                            *ranges, *others)
                     .order_by(*ordered(due, HumanTask.id)).limit(page_limit).subquery().select())
    merged = union_all(*parts).subquery("merged")
    page = (select(merged.c.id, merged.c.due_sort).order_by(*ordered(merged.c.due_sort, merged.c.id))
            .limit(page_limit).subquery("page"))
    return select(HumanTask).join(page, HumanTask.id == page.c.id).order_by(*ordered(due, HumanTask.id))


def inbox_counts(session: Session, actor: Actor, now: datetime,
                 deferred: ColumnElement[bool] | None = None) -> dict[str, int]:
    """Tasks per tab. With ``deferred`` (the caller's condition for a task its holder put off),
    "assigned" leaves those out and "deferred" counts them."""
    base = [HumanTask.status == "ready"]
    counts: dict[str, int] = {}
    if not _is_wide(session, actor, "all"):
        # A narrow scope counts its three ready tabs in one pass over its ready tasks (one round
        # trip instead of three), each tab a FILTER of the same rows.
        mine, claimable = visible_condition(actor, "assigned"), visible_condition(actor, "claimable")
        delegated = visible_condition(actor, "delegated")
        put_off = and_(mine, deferred) if deferred is not None else false()
        row = session.execute(select(
            func.count().filter(mine), func.count().filter(claimable),
            func.count().filter(and_(or_(mine, claimable), HumanTask.due_sort < now)), func.count().filter(put_off),
            func.count().filter(delegated)).select_from(HumanTask)
            .where(*base, or_(mine, claimable, delegated))).one()
        counts.update(assigned=(row[0] or 0) - (row[3] or 0), claimable=row[1] or 0, overdue=row[2] or 0,
                      delegated=row[4] or 0)
        if deferred is not None:
            counts["deferred"] = row[3] or 0
        counts["completed"] = session.scalar(select(func.count()).select_from(HumanTask).where(
            HumanTask.completed_by == actor.user_id)) or 0
        return counts
    for scope in ("assigned", "claimable"):
        counts[scope] = session.scalar(select(func.count()).select_from(HumanTask)
                                       .where(*base, visible_condition(actor, scope))) or 0
    if deferred is not None:
        counts["deferred"] = session.scalar(select(func.count()).select_from(HumanTask).where(
            *base, visible_condition(actor, "assigned"), deferred)) or 0
        counts["assigned"] -= counts["deferred"]
    # A wide scope counts the overdue tasks of "all" as its two disjoint halves (assigned to the
    # actor, unassigned): each half is an index-only range once vacuum has marked the pages,
    # where their OR makes PostgreSQL visit every matching row (~18,000 for a province: 25 ms
    # on a vacuumed table, 15 ms split). A narrow scope keeps the one query (one round trip).
    counts["overdue"] = sum(session.scalar(select(func.count()).select_from(HumanTask).where(
        *base, visible_condition(actor, half), HumanTask.due_sort < now)) or 0 for half in ("assigned", "claimable"))
    counts["completed"] = session.scalar(select(func.count()).select_from(HumanTask).where(
        HumanTask.completed_by == actor.user_id)) or 0
    counts["delegated"] = session.scalar(select(func.count()).select_from(HumanTask).where(
        *base, visible_condition(actor, "delegated"))) or 0
    return counts


def completed_by(session: Session, actor: Actor, limit: int = 50) -> list[HumanTask]:
    return list(session.scalars(select(HumanTask).where(HumanTask.completed_by == actor.user_id)
                                .order_by(HumanTask.completed_at.desc()).limit(limit)))


def set_due(session: Session, task_id: str, actor: Actor, due_at: datetime, reason: str,
            *, now: datetime | None = None) -> HumanTask:
    """Move (or confirm) an open task's due date, with the reason in the audit trail: an approved
    extension, or a deadline a head checked once its year's holidays were entered."""
    text = _reason(reason, required=True)
    if due_at.tzinfo is None:
        raise InvalidData("the new due date must carry a time zone")
    task = get_ready_task(session, task_id)
    if not permissions.can_reassign(actor, task):
        raise PermissionDenied("only a head of this unit may change a task's due date")
    cmd = Command(session, actor) if now is None else Command(session, actor, now=now)
    loaded = load(cmd, task.instance_id)
    previous, was_uncertain = task.due_at, task.due_uncertain
    task.due_at = task.due_sort = due_at
    task.due_uncertain = False  # a head set it: no longer a guess on an unknown year's calendar
    cmd.record(loaded, "task_due_changed", {"from": previous.isoformat() if previous else None,
                                            "to": due_at.isoformat(), "reason": text,
                                            "was_uncertain": bool(was_uncertain)}, task.id, task.task_name)
    save(cmd)
    return task

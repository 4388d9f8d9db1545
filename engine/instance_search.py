"""Search every process instance (the administrators' case list): filters, newest first,
keyset pages and a capped count.

Why these shapes: the list must answer in tens of milliseconds over 200,000 instances on
PostgreSQL (``bench.admin_instances``). Everything filters ``process_instance`` itself or asks
an ``EXISTS`` of an indexed narrow table, and the page is ``started_at DESC, id DESC`` after a
row-comparison cursor, so a page never counts or skips the rows before it. Indexes
(migration engine_0004_instance_admin): ``(started_at, id)``, ``(status, started_at, id)``,
``(process_key, status, started_at)``; on PostgreSQL trigram GIN indexes for business-key
prefix and entity-name substring (``ILIKE``), ready human tasks by element id and by due
date, failing timers. SQLite runs the same SQL without those (``LIKE`` is case-insensitive
there for ASCII only). The total is counted up to ``COUNT_CAP`` rows and shown as "more than"
beyond: an exact count of a broad filter would cost more than the page.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, text, tuple_, union
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from .errors import InvalidData
from .materialize import LOCAL_TZ
from .models import HumanTask, OutboxJob, ProcessInstance, TimerRow

STATUSES = ("running", "suspended", "stalled", "completed", "cancelled")
COUNT_CAP = 1000
MAX_PER_PAGE = 200
TRIGRAM = 3  # pg_trgm looks up a substring of at least three characters


@dataclass
class InstanceFilters:
    """What the administrator looks for; every field optional, all of them combined with AND."""

    business_key: str | None = None  # prefix, case-insensitive
    entity_name: str | None = None  # substring, case-insensitive
    entity_id: str | None = None
    unit_id: str | None = None
    process_key: str | None = None
    status: str | None = None
    activity: str | None = None  # BPMN element id of a ready user task
    started_from: datetime | None = None
    started_to: datetime | None = None
    due_before: datetime | None = None  # some ready task is due before this instant
    has_incident: bool | None = None


@dataclass
class InstanceRow:
    """One line of the list: the instance and what the list shows beside it."""

    instance: ProcessInstance
    activities: list[str] = field(default_factory=list)  # element ids of its ready tasks
    titles: list[str] = field(default_factory=list)
    due_at: datetime | None = None  # earliest due of its ready tasks
    incident: bool = False


@dataclass
class InstancePage:
    rows: list[InstanceRow]
    next_cursor: str | None
    total: int  # at most COUNT_CAP
    total_capped: bool  # True: there are more than ``total``


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _ilike(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def has_incident() -> ColumnElement[bool]:
    """An open outbox incident, or a timer that failed to fire.

    One ``IN`` over the union of the two (few) sets, not an OR of two EXISTS: PostgreSQL joins
    the few ids to the instances instead of probing both tables for every instance it reads.
    """
    failing = union(select(OutboxJob.instance_id).where(OutboxJob.status == "incident"),
                    select(TimerRow.instance_id).where(TimerRow.last_error.is_not(None)))
    return ProcessInstance.id.in_(failing)


def _text(value: str | None, name: str, limit: int = 200) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidData(f"{name} must be text")
    text = value.strip()
    if len(text) > limit:
        raise InvalidData(f"{name} is longer than {limit} characters")
    return text or None


def conditions(session: Session, filters: InstanceFilters) -> list[ColumnElement[bool]]:
    """The WHERE clauses of a search; refuses values that cannot match anything sensible."""
    where = _text_conditions(session, filters) + _time_conditions(filters)
    if filters.has_incident is True:
        where.append(has_incident())
    elif filters.has_incident is False:
        where.append(~has_incident())
    return where


def _text_conditions(session: Session, filters: InstanceFilters) -> list[ColumnElement[bool]]:
    pi = ProcessInstance
    where: list[ColumnElement[bool]] = []
    pg = _ilike(session)
    if (key := _text(filters.business_key, "business key")) is not None:
        # lower() on both sides: a range of ix_process_instance_business_key_lower on PostgreSQL.
        pattern = _escape_like(key.lower()) + "%"
        where.append(func.lower(pi.business_key).like(pattern, escape="\\"))
    if (name := _text(filters.entity_name, "entity name")) is not None:
        pattern = "%" + _escape_like(name) + "%"
        where.append(pi.entity_name.ilike(pattern, escape="\\") if pg else pi.entity_name.like(pattern, escape="\\"))
    for column, value, label in ((pi.entity_id, filters.entity_id, "entity id"), (pi.unit_id, filters.unit_id, "unit"),
                                 (pi.process_key, filters.process_key, "process")):
        if (wanted := _text(value, label)) is not None:
            where.append(column == wanted)
    if filters.status:
        if filters.status not in STATUSES:
            raise InvalidData(f"unknown status {filters.status!r}; one of {', '.join(STATUSES)}")
        where.append(pi.status == filters.status)
    if (activity := _text(filters.activity, "activity")) is not None:
        where.append(exists().where(HumanTask.instance_id == pi.id, HumanTask.status == "ready",
                                    HumanTask.task_name == activity))
    return where


def _time_conditions(filters: InstanceFilters) -> list[ColumnElement[bool]]:
    pi = ProcessInstance
    where: list[ColumnElement[bool]] = []
    for moment, label in ((filters.started_from, "started from"), (filters.started_to, "started to"),
                          (filters.due_before, "due before")):
        if moment is not None and moment.tzinfo is None:
            raise InvalidData(f"{label} must carry a time zone")
    if filters.started_from is not None:
        where.append(pi.started_at >= filters.started_from)
    if filters.started_to is not None:
        where.append(pi.started_at < filters.started_to)
    if filters.due_before is not None:
        where.append(exists().where(HumanTask.instance_id == pi.id, HumanTask.status == "ready",
                                    HumanTask.due_sort < filters.due_before))
    return where


def encode_cursor(started_at: datetime, instance_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([started_at.isoformat(), instance_id]).encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        started, instance_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        key = datetime.fromisoformat(started)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise InvalidData("the page cursor is not valid") from exc
    if key.tzinfo is None or not isinstance(instance_id, str):
        raise InvalidData("the page cursor is not valid")
    return key, instance_id


def search_instances(session: Session, filters: InstanceFilters | None = None, cursor: str | None = None,
                     per_page: int = 50, *, count: bool = True) -> InstancePage:
    """One page of instances matching ``filters``, newest start first (ties by id)."""
    filters = filters or InstanceFilters()
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidData(f"page size must be between 1 and {MAX_PER_PAGE}")
    where = conditions(session, filters)
    if session.get_bind().dialect.name == "postgresql":
        # psycopg prepares a statement run five times; PostgreSQL may then plan it once for any
        # value. A search's best plan depends on its values (a rare prefix or a common one, a due
        # date that most or few tasks passed): 30 ms planned for the values, 250 ms generic
        # (bench.admin_instances, overdue in one unit). For this transaction only.
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    pi = ProcessInstance
    paged = list(where)
    if cursor:
        after, after_id = decode_cursor(cursor)
        if session.get_bind().dialect.name == "postgresql":
            paged.append(tuple_(pi.started_at, pi.id) < tuple_(after, after_id))
        else:
            paged.append(or_(pi.started_at < after, and_(pi.started_at == after, pi.id < after_id)))
    if _filter_first(session, filters):
        # Match first (a business-key range, a trigram lookup), then order the matches: a
        # business-key prefix follows the year it was issued in, so walking all instances newest
        # first (what the planner picks, expecting matches spread evenly) may pass tens of
        # thousands of newer rows before the first match. Shorter name fragments have no
        # trigram to look up: for those the walk is the better plan.
        matches = select(pi.id, pi.started_at).where(*paged).cte("matches").prefix_with("MATERIALIZED")
        top = (select(matches.c.id, matches.c.started_at)
               .order_by(matches.c.started_at.desc(), matches.c.id.desc()).limit(per_page + 1).subquery("top"))
        query = select(pi).join(top, pi.id == top.c.id).order_by(top.c.started_at.desc(), top.c.id.desc())
    else:
        query = (select(pi).where(*paged).order_by(pi.started_at.desc(), pi.id.desc())
                 .limit(per_page + 1))
    instances = list(session.scalars(query))
    next_cursor = None
    if len(instances) > per_page:
        instances = instances[:per_page]
        next_cursor = encode_cursor(instances[-1].started_at, instances[-1].id)
    total, capped = (capped_count(session, where) if count else (0, False))
    return InstancePage(_decorate(session, instances), next_cursor, total, capped)


def _filter_first(session: Session, filters: InstanceFilters) -> bool:
    """PostgreSQL, and a text filter its trigram indexes can look up."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    return bool((filters.business_key or "").strip()) or len((filters.entity_name or "").strip()) >= TRIGRAM


def capped_count(session: Session, where: list[ColumnElement[bool]], cap: int = COUNT_CAP) -> tuple[int, bool]:
    """How many match, counted up to ``cap`` (then: "more than cap")."""
    inner = select(ProcessInstance.id).where(*where).limit(cap + 1).subquery()
    found = session.scalar(select(func.count()).select_from(inner)) or 0
    return min(found, cap), found > cap


def _decorate(session: Session, instances: list[ProcessInstance]) -> list[InstanceRow]:
    """Each row's ready tasks (element ids, titles, earliest due) and incident flag: two queries
    for the whole page."""
    rows = {i.id: InstanceRow(i) for i in instances}
    if not rows:
        return []
    ids = list(rows)
    for instance_id, name, title, due in session.execute(
            select(HumanTask.instance_id, HumanTask.task_name, HumanTask.title, HumanTask.due_at)
            .where(HumanTask.instance_id.in_(ids), HumanTask.status == "ready").order_by(HumanTask.due_sort)):
        row = rows[instance_id]
        row.activities.append(name)
        row.titles.append(title)
        if due is not None and (row.due_at is None or due < row.due_at):
            row.due_at = due
    failing = set(session.scalars(select(OutboxJob.instance_id).where(OutboxJob.instance_id.in_(ids),
                                                                      OutboxJob.status == "incident")))
    failing |= set(session.scalars(select(TimerRow.instance_id).where(TimerRow.instance_id.in_(ids),
                                                                      TimerRow.last_error.is_not(None))))
    for instance_id in failing:
        rows[instance_id].incident = True
    return list(rows.values())


def filters_from(params: dict[str, Any]) -> InstanceFilters:
    """Filters from text parameters (a query string or a form): blank means "any"."""
    def given(name: str) -> str | None:
        value = params.get(name)
        return str(value).strip() or None if value is not None else None

    def when(name: str) -> datetime | None:
        value = given(name)
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError as exc:
            raise InvalidData(f"{name} is not a date or time (YYYY-MM-DD or ISO 8601)") from exc
        if parsed.tzinfo is None:  # a date or time as typed in China
            parsed = parsed.replace(tzinfo=LOCAL_TZ)
        return parsed

    incident = (given("has_incident") or "").lower() or None
    if incident not in (None, "1", "0", "true", "false", "yes", "no"):
        raise InvalidData("has_incident is yes or no")
    return InstanceFilters(
        business_key=given("business_key"), entity_name=given("entity_name"), entity_id=given("entity_id"),
        unit_id=given("unit_id"), process_key=given("process_key"), status=given("status"),
        activity=given("activity"), started_from=when("started_from"), started_to=when("started_to"),
        due_before=when("due_before"),
        has_incident=None if incident is None else incident in ("1", "true", "yes"))

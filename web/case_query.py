"""The staff case list's query (``/cases``): what a user may see, searched, filtered, sorted, paged.

Visibility is ``engine.permissions.visible_instances`` (the rule of the case page: the user's
units and the units below, cases without a unit, cases they started). The filters reuse the
administrators' instance search (``engine.instance_search.conditions``: process, status,
current activity, unit, a ready task due before an instant); the search box and the officer
filter add ``process_instance``'s own columns and each process package's ``case_text`` /
``case_officers`` hooks (a penalty case's number, party and facts; a complaint's target and
facts), which the generic code reaches through the registry, never by a package's name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, union
from sqlalchemy.orm import Session

from engine import Actor
from engine import permissions as perm
from engine.instance_search import STATUSES, InstanceFilters, capped_count, conditions
from engine.models import CASE_SEARCH_TEXT, HumanTask, ProcessInstance
from processes.case_search import contains_pattern, matches
from processes.directory.models import Unit
from processes.directory.services import display_names, subtree_ids
from processes.registry import packages

PER_PAGE = 25
SEARCH_MAX = 100  # characters of the search box
MAX_WORDS = 8
MAX_PAGE = 400
COUNT_CAP = 1_000  # counted up to this many, then "more than": an exact count costs more than the page
EXPORT_MAX = 5_000
TRIGRAM_MIN = 3  # pg_trgm finds ``%word%`` from its index only when the word holds a whole trigram

pi = ProcessInstance
# The earliest due date of each case's ready tasks (the "due" column), joined when sorting by it:
# one aggregate over the ready tasks, not a lookup per case.
NEXT_DUE = (select(HumanTask.instance_id, func.min(HumanTask.due_at).label("due_at"))
            .where(HumanTask.status == "ready").group_by(HumanTask.instance_id).subquery("next_due"))
SORTS: dict[str, Any] = {"started": pi.started_at, "updated": pi.updated_at, "case": pi.business_key,
                         "entity": pi.entity_name, "process": pi.process_key, "status": pi.status,
                         "unit": pi.unit_id, "due": NEXT_DUE.c.due_at}
DEFAULT_SORT = "-started"
NEVER_EMPTY = frozenset({"started", "updated", "process", "status"})  # NOT NULL columns


@dataclass
class CaseQuery:
    """The list's URL parameters, checked. ``errors``: parameter -> what was wrong (ignored)."""

    q: str = ""
    process: str = ""
    status: str = ""
    stage: str = ""
    unit: str = ""
    officer: str = ""
    overdue: bool = False
    sort: str = DEFAULT_SORT
    page: int = 1
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, params: Mapping[str, Any]) -> CaseQuery:
        def text(name: str, limit: int = 200) -> str:
            value = " ".join(str(params.get(name) or "").split())
            if len(value) > limit:
                query.errors[name] = "too_long"
                return ""
            return value

        query = cls()
        query.q = text("q", SEARCH_MAX)
        query.process, query.stage, query.unit, query.officer = (text(n) for n in ("process", "stage", "unit",
                                                                                   "officer"))
        query.status = text("status")
        if query.status and query.status not in STATUSES:
            query.errors["status"], query.status = "unknown", ""
        query.overdue = str(params.get("overdue") or "") in ("1", "on", "true", "yes")
        sort = text("sort") or DEFAULT_SORT
        if sort.lstrip("-") not in SORTS:
            query.errors["sort"], sort = "unknown", DEFAULT_SORT
        query.sort = sort
        page = str(params.get("page") or "1")
        if not page.isdigit() or not 1 <= int(page) <= MAX_PAGE:
            query.errors["page"], page = "unknown", "1"
        query.page = int(page)
        return query

    def params(self, **changes: Any) -> dict[str, Any]:
        """The non-default parameters (links, export, pages), with ``changes`` applied."""
        values: dict[str, Any] = {"q": self.q, "process": self.process, "status": self.status, "stage": self.stage,
                                  "unit": self.unit, "officer": self.officer, "overdue": "1" if self.overdue else "",
                                  "sort": "" if self.sort == DEFAULT_SORT else self.sort,
                                  "page": self.page if self.page > 1 else ""}
        values.update(changes)
        if values["page"] == 1:
            values["page"] = ""
        return {k: v for k, v in values.items() if v not in ("", None)}

    def filtered(self) -> bool:
        return any((self.q, self.process, self.status, self.stage, self.unit, self.officer, self.overdue))


@dataclass
class CaseRow:
    instance: ProcessInstance
    stages: list[str] = field(default_factory=list)  # titles of its ready tasks
    assignees: list[str] = field(default_factory=list)  # display names of their holders
    due_at: datetime | None = None  # earliest due of its ready tasks
    overdue: bool = False
    unit_name: str = ""


@dataclass
class CasePage:
    rows: list[CaseRow]
    total: int
    capped: bool
    page: int
    pages: int


def where(session: Session, actor: Actor, query: CaseQuery, now: datetime, *,
          dense: bool = False) -> list[ColumnElement[bool]]:
    """Every condition of the list: what the actor may see, then the search and the filters.
    ``dense``: the words are known to match many of the visible cases (``text_condition``)."""
    found = [] if sees_every_unit(session, actor) else [perm.visible_instances(actor)]
    found += conditions(session, InstanceFilters(process_key=query.process or None, status=query.status or None,
                                                 activity=query.stage or None,
                                                 due_before=now if query.overdue else None))
    if query.unit:
        found.append(pi.unit_id.in_(sorted(subtree_ids(session, query.unit))))
    if query.officer:
        found.append(officer_condition(query.officer))
    scope = tuple(found)
    for word in query.q.split()[:MAX_WORDS]:
        found.append(text_condition(word, scope, dense=dense))
    return found


def sees_every_unit(session: Session, actor: Actor) -> bool:
    """The actor's units are the whole directory (a province head, an administrator): "own units'
    cases or started by me" is then every case, and leaving the condition out lets PostgreSQL
    look the few matches of a search up by key instead of reading every case to test it (a
    province-wide search for 1,000 matches: 73 -> 14 ms). Cases carry their unit from the
    directory, so no case has a unit outside it."""
    if actor.is_admin:
        return True
    return session.scalar(select(Unit.id).where(Unit.id.not_in(sorted(actor.unit_ids))).limit(1)) is None


def text_condition(word: str, scope: tuple[ColumnElement[bool], ...] = (), *,
                   dense: bool = False) -> ColumnElement[bool]:
    """One word of the search box: in the case number, the entity's name or credit code
    (``CASE_SEARCH_TEXT``), or the package's own record (each package's ``case_text`` hook).

    Two shapes, the same matches (``tests/web/test_case_search_shapes.py`` compares them): a word of
    ``TRIGRAM_MIN`` characters or more is one IN over a UNION whose first member PostgreSQL
    answers from the trigram index; a shorter word has no trigram to look up, so it stays an OR
    the database checks row by row while walking the list's order (a common short word fills
    the page after a few hundred rows).

    ``scope`` (what the actor may see and the other filters, also applied by the caller) is
    repeated inside the UNION's first member: a common word (a city's name in 10,000 of 200,000
    cases) is then narrowed to the visible cases before the union is built and joined back, so a
    county head's search reads a few hundred rows, not every case holding the word.

    ``dense`` (the count found ``COUNT_CAP`` matches or more): the page is then found faster by
    walking the list's order and testing each case (a match every few rows) than by collecting
    every match and sorting them, so the OR shape is used whatever the word's length."""
    pattern = contains_pattern(word)
    own = matches(CASE_SEARCH_TEXT, pattern)
    hooks = [_ids(p.case_text(pattern)) for p in packages() if p.case_text is not None]
    if not hooks:
        return own
    if len(word) >= TRIGRAM_MIN and not dense:
        return pi.id.in_(union(select(pi.id).where(own, *scope), *hooks))
    return or_(own, pi.id.in_(union(*hooks)))  # the (few) matching records, as instance_search's incidents


def officer_condition(user_id: str) -> ColumnElement[bool]:
    """The person holds one of its ready tasks, started it, or its package names them an officer."""
    holds = select(HumanTask.instance_id).where(HumanTask.status == "ready", HumanTask.assignee == user_id)
    named = [_ids(p.case_officers(user_id)) for p in packages() if p.case_officers is not None]
    return or_(pi.started_by == user_id, pi.id.in_(union(holds, *named)))


def _ids(statement: Any) -> Any:
    """A hook's SELECT as one member of a UNION (SQLite refuses a bracketed compound member)."""
    inner = statement.subquery()
    return select(inner.c[0])


def ordering(sort: str) -> tuple[Any, ...]:
    """ORDER BY of a sort key (``-`` first: descending); empty values last either way, ties by id.
    A column that is never empty gets no "empty last" term, so the default order (newest
    first) is a walk of ``ix_process_instance_started`` that stops when the page is full."""
    column = SORTS[sort.lstrip("-")]
    descending = sort.startswith("-")
    order = (column.desc() if descending else column.asc(), pi.id.desc() if descending else pi.id.asc())
    return order if sort.lstrip("-") in NEVER_EMPTY else (column.is_(None), *order)


def ordered(query: CaseQuery, conditions_: list[ColumnElement[bool]]) -> Any:
    stmt = select(pi)
    if query.sort.lstrip("-") == "due":
        stmt = stmt.outerjoin(NEXT_DUE, NEXT_DUE.c.instance_id == pi.id)
    return stmt.where(*conditions_).order_by(*ordering(query.sort))


def search(session: Session, actor: Actor, query: CaseQuery, now: datetime, per_page: int = PER_PAGE) -> CasePage:
    """One page; beyond ``COUNT_CAP`` matches only the first ``COUNT_CAP`` are paged (narrow the search)."""
    conditions_ = where(session, actor, query, now)
    total, capped = capped_count(session, conditions_, COUNT_CAP)
    pages = max(1, -(-total // per_page))
    page = min(query.page, pages)
    if capped and query.q.strip():
        conditions_ = where(session, actor, query, now, dense=True)
    instances = list(session.scalars(ordered(query, conditions_).offset((page - 1) * per_page).limit(per_page)))
    return CasePage(decorate(session, instances, now), total, capped, page, pages)


def export_rows(session: Session, actor: Actor, query: CaseQuery, now: datetime) -> list[CaseRow]:
    """Every case of the search (at most ``EXPORT_MAX``), in the list's order."""
    instances = list(session.scalars(ordered(query, where(session, actor, query, now)).limit(EXPORT_MAX)))
    return decorate(session, instances, now)


def decorate(session: Session, instances: list[ProcessInstance], now: datetime) -> list[CaseRow]:
    """Each case's ready tasks (stage, holders, earliest due) and unit name, in a few queries
    for the whole page."""
    rows = {i.id: CaseRow(i) for i in instances}
    if not rows:
        return []
    holders: dict[str, list[str]] = {}
    for chunk in _chunks(list(rows)):
        for task in session.scalars(select(HumanTask).where(HumanTask.instance_id.in_(chunk),
                                                            HumanTask.status == "ready")
                                    .order_by(HumanTask.due_sort, HumanTask.id)):
            row = rows[task.instance_id]
            row.stages.append(task.title)
            if task.assignee:
                holders.setdefault(task.instance_id, []).append(task.assignee)
            if task.due_at is not None and (row.due_at is None or task.due_at < row.due_at):
                row.due_at = task.due_at
    names = display_names(session, [u for ids in holders.values() for u in ids])
    units = dict(session.execute(select(Unit.id, Unit.name).where(
        Unit.id.in_({i.unit_id for i in instances if i.unit_id}))).all())
    for instance_id, row in rows.items():
        row.assignees = list(dict.fromkeys(names.get(u, u) for u in holders.get(instance_id, [])))
        row.overdue = row.due_at is not None and _aware(row.due_at) < now
        row.unit_name = units.get(row.instance.unit_id or "", row.instance.unit_id or "")
    return list(rows.values())


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _chunks(ids: list[str], size: int = 500) -> list[list[str]]:
    return [ids[i:i + size] for i in range(0, len(ids), size)]

"""What the HTML views and the JSON API both do: find what an actor may see, list an inbox,
complete a task with its form, describe a case. One implementation, two presentations.

Visibility follows ``engine.permissions``; anything the actor may not see is reported exactly
like something that does not exist (``NotFound``), so ids from other units reveal nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import exists, select
from sqlalchemy.sql import ColumnElement

from engine import Actor, InboxFilters, InvalidData, NotFound, audit_history, complete_task, inbox, inbox_counts
from engine import permissions as perm
from engine.db import utcnow
from engine.models import AuditEvent, HumanTask, ProcessDefinition, ProcessInstance
from engine.scripting import load_calendar
from forms import FieldSpec, FileInfo, RegisteredForm, UploadStore, describe, get_form
from processes.directory.codes import CREDIT_ALPHABET
from processes.directory.files import may_reference
from processes.directory.models import CaseDocument, Entity, StoredFile, User
from processes.directory.services import display_names
from processes.registry import can_start_by_hand

from .entered import form_entries, reading, staff_ids
from .extensions import dbs
from .models import TaskFollowUp

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
TABS = ("assigned", "deferred", "delegated", "claimable", "overdue", "completed")
ORDERS = ("due", "-due", "created", "-created", "title", "-title", "case", "-case", "entity", "-entity",
          "process", "-process", "assignee", "-assignee", "completed", "-completed", "deadline", "-deadline")
SEARCH_MAX = 100  # characters of the inbox's search box and entity filter


def upload_store() -> UploadStore:
    return UploadStore(current_app.config["UPLOAD_DIR"])


class DirectoryRefs:
    """``forms.References`` backed by the directory and the upload store, scoped to one actor."""

    def __init__(self, actor: Actor, instance_id: str | None = None) -> None:
        self.actor, self.instance_id = actor, instance_id

    def entity_visible(self, credit_code: str) -> bool:
        entity = dbs().get(Entity, credit_code)
        return entity is not None and perm.can_see_unit(self.actor, entity.unit_id)

    def staff_visible(self, user_id: str, role: str | None) -> bool:
        user = dbs().get(User, user_id)
        return user is not None and user.active and perm.can_see_unit(self.actor, user.unit_id) and \
            (role is None or role in (user.roles or []))

    def file_info(self, sha256: str) -> FileInfo | None:
        """The stored file, if this person may name it: they uploaded it, or it is already in the
        case (another unit's hash must look like a file that does not exist)."""
        if not may_reference(dbs(), sha256, self.actor.user_id, self.instance_id):
            return None
        return upload_store().info(sha256)

    def max_upload_bytes(self) -> int:
        return int(current_app.config["UPLOAD_MAX_BYTES"])


# -- visibility -------------------------------------------------------------------------------

def visible_task(actor: Actor, task_id: str) -> HumanTask:
    task = dbs().get(HumanTask, str(task_id)) if _is_uuid(task_id) else None
    if task is None or not perm.can_see_task(actor, task):
        raise NotFound("没有找到该任务", task_id=str(task_id))
    return task


def visible_instance(actor: Actor, instance_id: str) -> ProcessInstance:
    instance = dbs().get(ProcessInstance, str(instance_id)) if _is_uuid(instance_id) else None
    if instance is None or not perm.can_see_instance(actor, instance):
        raise NotFound("没有找到该案件", instance_id=str(instance_id))
    return instance


def visible_entity(actor: Actor, credit_code: str) -> Entity:
    entity = dbs().get(Entity, (credit_code or "").strip().upper()[:18])
    if entity is None or not perm.can_see_unit(actor, entity.unit_id):
        raise NotFound("没有找到该单位", entity_id=credit_code)
    return entity


def _is_uuid(value: str) -> bool:
    from uuid import UUID

    try:
        UUID(str(value))
    except ValueError:
        return False
    return True


# -- inbox ------------------------------------------------------------------------------------

@dataclass
class InboxQuery:
    tab: str = "assigned"
    process: str = ""
    task: str = ""
    entity: str = ""
    due_from: date | None = None
    due_to: date | None = None
    order: str = "due"
    q: str = ""  # case number, entity name or task title

    @classmethod
    def parse(cls, params: Mapping[str, Any]) -> InboxQuery:
        """From query-string or JSON values; bad values raise ``InvalidData`` naming the field."""
        tab = str(params.get("tab") or "assigned")
        if tab not in TABS:
            raise InvalidData("unknown inbox tab", field="tab")
        order = str(params.get("order") or "due")
        if order not in ORDERS:
            raise InvalidData("unknown sort order", field="order")
        entity, q = (" ".join(str(params.get(name) or "").split()) for name in ("entity", "q"))
        for name, value in (("entity", entity), ("q", q)):
            if len(value) > SEARCH_MAX:
                raise InvalidData(f"at most {SEARCH_MAX} characters", field=name)
        if is_credit_code(entity.upper()):
            entity = entity.upper()
        return cls(tab, str(params.get("process") or "")[:200], str(params.get("task") or "")[:200],
                   entity, _date(params, "due_from"), _date(params, "due_to"), order, q)

    def params(self) -> dict[str, Any]:
        values = {"tab": self.tab, "process": self.process, "task": self.task, "entity": self.entity,
                  "due_from": self.due_from.isoformat() if self.due_from else "",
                  "due_to": self.due_to.isoformat() if self.due_to else "", "order": self.order, "q": self.q}
        return {k: v for k, v in values.items() if v and not (k == "order" and v == "due")}

    def filters(self, now: datetime) -> InboxFilters:
        """The engine's filters; ``entity`` is a credit code when it reads as one, else part of a name."""
        scope = {"assigned": "assigned", "deferred": "assigned", "delegated": "delegated", "claimable": "claimable",
                 "overdue": "all", "completed": "completed"}
        code = is_credit_code(self.entity)
        sort = self.order.lstrip("-")
        return InboxFilters(
            scope=scope[self.tab], process_key=self.process or None, task_name=self.task or None,
            entity_id=self.entity if code else None, entity_name=None if code else self.entity or None,
            search=self.q or None, sort=sort, due_after=_local_midnight(self.due_from),
            due_before=_local_midnight(self.due_to + timedelta(days=1)) if self.due_to else None,
            overdue_at=now if self.tab == "overdue" else None,
            descending=self.order.startswith("-") if self.tab != "completed" or sort != "due" else None,
            conditions=(~deferred_condition(now),) if self.tab == "assigned" else
            (deferred_condition(now),) if self.tab == "deferred" else ())


def deferred_condition(now: datetime) -> ColumnElement[bool]:
    """A task its holder put off: they set a follow-up date that is still after today in China
    (on that day it is back). One EXISTS in the inbox's own query, never a query per row."""
    today = now.astimezone(LOCAL_TZ).date()
    return exists().where(TaskFollowUp.task_id == HumanTask.id, TaskFollowUp.user_id == HumanTask.assignee,
                          TaskFollowUp.follow_up_on > today)


def is_credit_code(text: str) -> bool:
    """18 characters of the credit-code alphabet (the inbox's entity filter: a code, else a name)."""
    return len(text) == 18 and all(c in CREDIT_ALPHABET for c in text)


def _date(params: Mapping[str, Any], name: str) -> date | None:
    value = params.get(name)
    if not value:
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise InvalidData("dates are written YYYY-MM-DD", field=name) from exc


def _local_midnight(day: date | None) -> datetime | None:
    return datetime.combine(day, time(0), LOCAL_TZ).astimezone(UTC) if day else None


@dataclass
class Deadline:
    due_at: datetime | None
    local: str = ""
    remaining: int | None = None  # working days, negative when overdue
    state: str = ""  # overdue | soon | ok | ""
    uncertain: bool = False


def deadline(due_at: datetime | None, now: datetime, uncertain: bool = False) -> Deadline:
    """Due date with the working days left (the inbox's red/amber colouring)."""
    if due_at is None:
        return Deadline(None)
    calendar = load_calendar(dbs())
    local_due = due_at.astimezone(LOCAL_TZ)
    count = calendar.count_workdays(now.astimezone(LOCAL_TZ).date(), local_due.date())
    state = "overdue" if due_at < now else "soon" if count.days <= 2 else "ok"
    return Deadline(due_at, local_due.strftime("%Y-%m-%d %H:%M"), count.days, state,
                    uncertain or not count.certain)


@dataclass
class InboxRow:
    task: HumanTask
    process_name: str
    assignee_name: str
    deadline: Deadline
    owner_name: str = ""


@dataclass
class InboxResult:
    rows: list[InboxRow]
    next_cursor: str | None
    counts: dict[str, int] = field(default_factory=dict)
    process_names: dict[str, str] = field(default_factory=dict)


def process_names() -> dict[str, str]:
    rows = dbs().execute(select(ProcessDefinition.process_key, ProcessDefinition.name)
                              .order_by(ProcessDefinition.version)).all()
    return dict(rows)


def task_names(process_key: str | None = None) -> dict[str, str]:
    """BPMN user-task ids and names of deployed processes (the inbox's task filter)."""
    stmt = select(ProcessDefinition).order_by(ProcessDefinition.version)
    if process_key:
        stmt = stmt.where(ProcessDefinition.process_key == process_key)
    names: dict[str, str] = {}
    for definition in dbs().scalars(stmt):
        for task in definition.summary.get("user_tasks", []):
            names[task["id"]] = task.get("name") or task["id"]
    return names


def load_inbox(actor: Actor, query: InboxQuery, cursor: str | None, limit: int) -> InboxResult:
    now = utcnow()
    page = inbox(dbs(), actor, query.filters(now), cursor=cursor or None, limit=limit)
    names = process_names()
    # Owners (the absent officer a substitute stands in for, the delegating holder) are on the row:
    # their names come in the same one look-up as the holders'.
    people = display_names(dbs(), [t.assignee or t.completed_by for t in page.tasks] + [t.owner for t in page.tasks])
    rows = [InboxRow(t, names.get(t.process_key, t.process_key),
                     people.get(t.assignee or t.completed_by or "", t.assignee or t.completed_by or ""),
                     deadline(t.due_at, now, t.due_uncertain) if t.status == "ready" else Deadline(t.due_at),
                     people.get(t.owner or "", t.owner or ""))
            for t in page.tasks]
    return InboxResult(rows, page.next_cursor, inbox_counts(dbs(), actor, now, deferred_condition(now)), names)


# -- completing a task ------------------------------------------------------------------------

def file_fields(form: RegisteredForm) -> list[str]:
    return [spec.name for spec in schema_specs(form.schema).values() if spec.widget == "file"]


def complete_with_form(actor: Actor, task: HumanTask, form: RegisteredForm | None,
                       data: dict[str, Any]) -> ProcessInstance:
    """Complete the task with validated data; attach its uploaded files to the case's documents."""
    instance = complete_task(dbs(), task.id, actor, data)
    if form is None:
        return instance
    labels = {spec.name: spec.label for spec in schema_specs(form.schema).values()}
    store = upload_store()
    for name in file_fields(form):
        value = data.get(name)
        for item in value if isinstance(value, list) else [value] if value else []:
            sha = item["sha256"]
            if dbs().get(StoredFile, sha) is None:
                info = store.info(sha)
                if info is None:
                    raise InvalidData("文件已丢失，请重新上传", field=name)
                dbs().add(StoredFile(sha256=sha, size=info.size, content_type=info.content_type,
                                          filename=item["filename"], uploaded_by=actor.user_id))
                dbs().flush()  # no relationship() links the two tables: insert the file row first
            title = f"{labels.get(name, name)}：{item['filename']}"
            dbs().add(CaseDocument(instance_id=task.instance_id, task_id=task.id, task_name=task.task_name,
                                        field=name, kind="upload", title=title,
                                        sha256=sha, created_by=actor.user_id,
                                        details={"filename": item["filename"], "size": item.get("size")}))
    return instance


# -- case view --------------------------------------------------------------------------------


@dataclass
class Fact:
    label: str
    value: Any
    field: str
    text: str
    task_name: str = ""
    source: str = ""  # the task's title, when more than one task entered this field (every opinion kept)
    task_title: str = ""


def _specs(form_key: str | None) -> dict[str, FieldSpec]:
    form = get_form(form_key)
    return schema_specs(form.schema) if form else {}


@lru_cache(maxsize=512)
def schema_specs(schema: type[Any]) -> dict[str, FieldSpec]:
    """``describe`` of a form's schema class by field name, kept per class (read-only: a form's
    fields are fixed by its class; describing one builds a marshmallow schema, and a case's
    facts look up the form of every completion in its trail)."""
    return {s.name: s for s in describe(schema)}


def case_facts(events: Iterable[AuditEvent], titles: Mapping[str, str] | None = None) -> list[Fact]:
    """The case's key facts: what every task's form entered, labelled by its form, in the order
    they were last entered.

    One fact per task and field: a task done again (another investigation record) shows its latest
    value, but the same field of different tasks stays apart (the opinions of the filing approval,
    the legal review and the head's decision are all ``opinion``), each then named with its task.
    People are shown by name, staff ids by display name. Only fields a form describes are shown:
    process data without a form (start parameters, rule snapshots) has no label an officer would
    understand and stays in the audit trail.
    """
    found: dict[tuple[str, str], tuple[FieldSpec, Any, str]] = {}
    for ev in events:
        if ev.action != "task_completed":
            continue
        form_key = (ev.data or {}).get("form_key")
        specs = _specs(form_key)
        form = get_form(form_key)
        title = (titles or {}).get(ev.task_name or "") or (form.title if form else "") or (ev.task_name or "")
        for name, value in form_entries((ev.data or {}).get("data") or {}, specs).items():
            key = (ev.task_name or form_key or "", name)
            found.pop(key, None)  # re-entered: moves to the end, so the latest value of a field comes last
            found[key] = (specs[name], value, title)
    ids = {i for spec, value, _t in found.values() for i in staff_ids({spec.name: spec}, {spec.name: value})}
    names = display_names(dbs(), ids) if ids else {}
    tasks_per_field: dict[str, set[str]] = {}
    for task_name, name in found:
        tasks_per_field.setdefault(name, set()).add(task_name)
    return [Fact(spec.label, value, name, reading(spec, value, names), task_name,
                 title if len(tasks_per_field[name]) > 1 and title != spec.label else "", title)
            for (task_name, name), (spec, value, title) in found.items()]


def fact_groups(facts: Iterable[Fact]) -> list[tuple[str, list[Fact]]]:
    """The facts by the task that entered them (task title, its facts), in the order of the facts."""
    groups: dict[str, tuple[str, list[Fact]]] = {}
    for fact in facts:
        groups.setdefault(fact.task_name, (fact.task_title, []))[1].append(fact)
    return list(groups.values())


@dataclass
class CaseView:
    instance: ProcessInstance
    definition: ProcessDefinition | None
    tasks: list[tuple[HumanTask, str, Deadline]]
    events: list[AuditEvent]
    people: dict[str, str]
    documents: list[CaseDocument]
    facts: list[Fact]
    unit_name: str = ""
    task_titles: dict[str, str] = field(default_factory=dict)

    @property
    def fact_groups(self) -> list[tuple[str, list[Fact]]]:
        return fact_groups(self.facts)


def case_view(actor: Actor, instance: ProcessInstance, *, with_unit: bool = True) -> CaseView:
    """Everything a case's page or JSON shows. ``with_unit=False`` (the JSON, which has no unit
    name) skips reading the unit: ``unit_name`` is then the unit's id."""
    from processes.directory.models import Unit

    now = utcnow()
    tasks = list(dbs().scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                            HumanTask.status == "ready")
                                    .order_by(HumanTask.due_sort)))
    events = audit_history(dbs(), instance.id)
    people = display_names(dbs(), [t.assignee for t in tasks] + [t.owner for t in tasks] + [e.actor for e in events]
                           + [instance.started_by])
    documents = list(dbs().scalars(select(CaseDocument).where(CaseDocument.instance_id == instance.id)
                                        .order_by(CaseDocument.created_at, CaseDocument.id)))
    unit = dbs().get(Unit, instance.unit_id) if instance.unit_id and with_unit else None
    definition = dbs().get(ProcessDefinition, instance.definition_id)
    titles = {t["id"]: t.get("name") or t["id"] for t in (definition.summary.get("user_tasks", [])
                                                          if definition else [])}
    return CaseView(instance, definition,
                    [(t, people.get(t.assignee or "", t.assignee or ""), deadline(t.due_at, now, t.due_uncertain))
                     for t in tasks], events, people, documents, case_facts(events, titles),
                    unit.name if unit else (instance.unit_id or ""), titles)


def entity_cases(actor: Actor, credit_code: str) -> list[ProcessInstance]:
    """Every case of an entity that the actor may see (一户一档), newest first."""
    rows = dbs().scalars(select(ProcessInstance).where(ProcessInstance.entity_id == credit_code)
                              .order_by(ProcessInstance.started_at.desc()).limit(500))
    return [r for r in rows if perm.can_see_instance(actor, r)]


def startable_processes(actor: Actor | None = None) -> list[ProcessDefinition]:
    """Newest version of each process this person can start by hand: a none start event, not
    called by another process (a subprocess runs inside its case), and the package's start roles."""
    newest: dict[str, ProcessDefinition] = {}
    for d in dbs().scalars(select(ProcessDefinition).order_by(ProcessDefinition.version)):
        newest[d.process_key] = d
    called = {key for d in newest.values() for key in d.summary.get("called", [])}
    roles = None if actor is None or actor.is_admin else actor.roles
    return [d for d in newest.values() if d.summary.get("start", {}).get("kind") == "none"
            and d.process_key not in called and can_start_by_hand(d.process_key, roles)]

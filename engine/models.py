"""Engine tables: definitions, instances, the narrow query tables and the audit chain.

The workflow state is one compact JSON document per instance (``ProcessInstance.state``); the
other tables are materialized from it on every command so inboxes, timers and message routing
are plain indexed queries that never deserialize a workflow.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from .db import Base, utcnow


class ProcessDefinition(Base):
    """An immutable deployed version of one process (keyed by the content hash of its files)."""

    __tablename__ = "process_definition"
    # No uniqueness on the content hash: a rollback deploys an older version's files again as a
    # new version (``engine.deploy``); the same files as the newest version are that version.
    __table_args__ = (UniqueConstraint("process_key", "version"),
                      Index("ix_process_definition_key_hash", "process_key", "content_hash"))

    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(200), index=True)
    name: Mapped[str] = mapped_column(String(300))
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    # {filename: xml text} of every BPMN/DMN file this process needs (call activities, DMN).
    # Deferred: read only when the parsed spec is not cached yet, not on every start.
    sources: Mapped[dict[str, str]] = mapped_column(JSON, deferred=True)
    # What the engine learned at deploy time: start event kinds, lanes, user-task forms...
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    deployed_by: Mapped[str] = mapped_column(String(100))
    deployed_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProcessInstance(Base):
    __tablename__ = "process_instance"
    __table_args__ = (
        # The administrators' instance search (engine.instance_search): newest first, alone or
        # within a status or a process; migration engine_0004_instance_admin.
        Index("ix_process_instance_started", "started_at", "id"),
        Index("ix_process_instance_status_started", "status", "started_at", "id"),
        Index("ix_process_instance_process_started", "process_key", "status", "started_at"),
        # PostgreSQL only: an entity-name substring through pg_trgm (the business-key prefix
        # index follows the class: it is an expression of a column).
        Index("ix_process_instance_entity_name_trgm", "entity_name", postgresql_using="gin",
              postgresql_ops={"entity_name": "gin_trgm_ops"},
              info={"dialects": ("postgresql",)}).ddl_if(dialect="postgresql"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(200), index=True)
    business_key: Mapped[str | None] = mapped_column(String(200), index=True)
    unit_id: Mapped[str | None] = mapped_column(String(64), index=True)
    entity_id: Mapped[str | None] = mapped_column(String(64), index=True)
    entity_name: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default="running", index=True)
    # Deferred: a command whose workflow is still in this process's cache never reads it.
    state: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    serializer_version: Mapped[str] = mapped_column(String(20))
    started_by: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    # BPMN element ids that have completed, for the diagram highlight (history survives pruning).
    completed_elements: Mapped[list[str]] = mapped_column(JSON, default=list)
    # What the query tables hold for this instance, so a command diffs without querying them.
    ready_task_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    timer_count: Mapped[int] = mapped_column(Integer, default=0)
    subscription_count: Mapped[int] = mapped_column(Integer, default=0)
    # Head of this instance's audit hash chain (the instance row's version serializes appends).
    audit_seq: Mapped[int] = mapped_column(Integer, default=0)
    audit_head: Mapped[str] = mapped_column(String(64), default="")
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012


# PostgreSQL only (engine_0004_instance_admin): a business-key prefix in any case is a range of
# this index; with the order columns the matches are read from the index alone, then sorted.
Index("ix_process_instance_business_key_lower", func.lower(ProcessInstance.business_key).label("business_key_lower"),
      ProcessInstance.started_at, ProcessInstance.id, postgresql_ops={"business_key_lower": "text_pattern_ops"},
      info={"dialects": ("postgresql",)}).ddl_if(dialect="postgresql")

# What a user may see is "their units' cases or those they started" (engine.permissions): with
# this index the OR is three index lookups instead of a read of every case.
Index("ix_process_instance_started_by", ProcessInstance.started_by)

# What the staff case list's search box looks in (web.case_query): case number, entity name and
# credit code as one text, words never spanning two of them (a word has no space). PostgreSQL
# indexes the same expression with pg_trgm (engine_0006_case_search_trgm), so a word of three
# characters or more is found from the index, not by reading every case.
CASE_SEARCH_TEXT = (func.coalesce(ProcessInstance.business_key, literal_column("''")) + literal_column("' '")
                    + func.coalesce(ProcessInstance.entity_name, literal_column("''")) + literal_column("' '")
                    + func.coalesce(ProcessInstance.entity_id, literal_column("''")))
Index("ix_process_instance_search_trgm", CASE_SEARCH_TEXT.self_group().label("search_text"), postgresql_using="gin",
      postgresql_ops={"search_text": "gin_trgm_ops"},
      _table=cast(Table, ProcessInstance.__table__),  # an expression names no column to find the table by
      info={"dialects": ("postgresql",)}).ddl_if(dialect="postgresql")


class HumanTask(Base):
    """A user task as inboxes see it: one row per ready (and, later, finished) user task."""

    __tablename__ = "human_task"
    __table_args__ = (
        Index("ix_human_task_assignee_due", "status", "assignee", "due_sort", "id"),
        Index("ix_human_task_claimable_due", "status", "unit_id", "candidate_role", "due_sort", "id"),
        Index("ix_human_task_completed_by", "completed_by", "completed_at"),
        Index("ix_human_task_owner", "owner", "delegation"),
        # PostgreSQL only (migrations engine_0002, engine_0003): a wide inbox scope reads everyone's claimable
        # tasks in page order first, then, if that falls short, walks each (unit, role) pair.
        # The migration also creates multi-column statistics on (status, assignee) so the planner
        # counts the claimable tasks right and picks the ordered index.
        Index("ix_human_task_claimable_order", "due_sort", "id",
              postgresql_where=text("status = 'ready' AND assignee IS NULL AND NOT suspended"),
              info={"dialects": ("postgresql",)}).ddl_if(dialect="postgresql"),
        Index("ix_human_task_claimable_walk", "unit_id", "candidate_role", "due_sort", "id",
              postgresql_where=text("status = 'ready' AND assignee IS NULL AND NOT suspended"),
              info={"dialects": ("postgresql",)}).ddl_if(dialect="postgresql"),
        # PostgreSQL only (engine_0004_instance_admin): the instance search by current activity
        # and by the due date of its ready tasks.
        Index("ix_human_task_ready_name", "task_name", "instance_id",
              postgresql_where=text("status = 'ready'"),
              info={"dialects": ("postgresql",)}).ddl_if(dialect="postgresql"),
        Index("ix_human_task_ready_due", "due_sort", "instance_id",
              postgresql_where=text("status = 'ready'"),
              info={"dialects": ("postgresql",)}).ddl_if(dialect="postgresql"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the SpiffWorkflow task id
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(200))
    task_name: Mapped[str] = mapped_column(String(200))  # BPMN element id
    title: Mapped[str] = mapped_column(String(300))
    lane: Mapped[str | None] = mapped_column(String(100))
    candidate_role: Mapped[str | None] = mapped_column(String(100))
    unit_id: Mapped[str | None] = mapped_column(String(64))
    assignee: Mapped[str | None] = mapped_column(String(100))
    form_key: Mapped[str | None] = mapped_column(String(200))
    instructions: Mapped[str | None] = mapped_column(Text)
    business_key: Mapped[str | None] = mapped_column(String(200))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    entity_name: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default="ready")  # ready|completed|cancelled
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime | None]
    # due_at, or the far future when there is none: a non-null key for keyset paging by due date.
    due_sort: Mapped[datetime]
    due_uncertain: Mapped[bool] = mapped_column(Boolean, default=False)
    # The instance is suspended (engine.instance_admin): kept on the task so the inbox hides it
    # from claimable lists without joining process_instance (the claimable indexes exclude it).
    suspended: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    completed_by: Mapped[str | None] = mapped_column(String(100))
    completed_at: Mapped[datetime | None]
    # Camunda's owner and delegation state (engine_0007). ``owner`` is whom the holder works it
    # for: the absent officer a substitute stands in for (delegation None, shown "代 X 办理"), or
    # the holder who delegated it (delegation "pending" while the delegate works on it, then
    # "resolved" once it is back with the owner). Kept on the row so the inbox shows it without
    # another query.
    owner: Mapped[str | None] = mapped_column(String(100))
    delegation: Mapped[str | None] = mapped_column(String(20))


class TimerRow(Base):
    """A waiting BPMN timer: fired by ``fire_due_timers`` when ``due_at`` has passed."""

    __tablename__ = "engine_timer"
    __table_args__ = (
        UniqueConstraint("instance_id", "task_id"),
        # PostgreSQL only (engine_0004_instance_admin): instances with a failing timer (an incident).
        Index("ix_engine_timer_failed", "instance_id", postgresql_where=text("last_error IS NOT NULL"),
              info={"dialects": ("postgresql",)}).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class StartTimer(Base):
    """A timer start event of the newest version of a process: each firing starts an instance."""

    __tablename__ = "engine_start_timer"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(200), unique=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"))
    element_id: Mapped[str] = mapped_column(String(200))
    expression: Mapped[str] = mapped_column(String(300))
    next_due: Mapped[datetime | None] = mapped_column(index=True)
    interval_seconds: Mapped[float | None]
    cycles_left: Mapped[int] = mapped_column(Integer, default=-1)  # -1 = unbounded


class MessageSubscription(Base):
    """An instance waiting for a message (name + optional correlation key/value)."""

    __tablename__ = "engine_message_subscription"
    __table_args__ = (Index("ix_msgsub_lookup", "message_name", "correlation_key", "correlation_value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id"), index=True)
    message_name: Mapped[str] = mapped_column(String(200))
    correlation_key: Mapped[str] = mapped_column(String(200), default="")
    correlation_value: Mapped[str] = mapped_column(String(500), default="")


class OutboxJob(Base):
    """Work for an asynchronous service task, written in the command's transaction.

    The relay hands ``pending`` rows to Celery after commit. A job is idempotent by id: the
    worker resumes the instance only if the service task is still waiting for this job.
    """

    __tablename__ = "engine_outbox"
    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(200))
    operator: Mapped[str] = mapped_column(String(200))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending|done|incident|resolved
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class AuditChain(Base):
    """Head of one hash chain (one per instance, plus ``system``); its version serializes appends."""

    __tablename__ = "audit_chain"

    chain_key: Mapped[str] = mapped_column(String(80), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    head_hash: Mapped[str] = mapped_column(String(64))
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012


class AuditEvent(Base):
    __tablename__ = "audit_event"
    __table_args__ = (UniqueConstraint("chain_key", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chain_key: Mapped[str] = mapped_column(String(80))
    seq: Mapped[int] = mapped_column(Integer)
    instance_id: Mapped[str | None] = mapped_column(String(36), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(60))
    task_id: Mapped[str | None] = mapped_column(String(36))
    task_name: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class CalendarOverride(Base):
    """Admin-entered working-day arrangement for dates ``chinesecalendar`` does not know (or gets wrong)."""

    __tablename__ = "calendar_override"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(String(200))


class CalendarYear(Base):
    """A year whose full arrangement an admin has entered, so deadlines in it are certain."""

    __tablename__ = "calendar_year"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    entered_by: Mapped[str] = mapped_column(String(100))
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProcessDraft(Base):
    """An administrator's unsaved edit of a process bundle: the files changed against the version
    it started from, validated on every save. One shared draft per process, so two administrators
    see each other's work (``editors``: user id -> when last seen) instead of overwriting it blind."""

    __tablename__ = "process_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(200), unique=True)
    base_definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"))
    files: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    problems: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    editors: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class MigrationBatch(Base):
    """Running instances being moved to another version of their process, a few at a time by a
    worker job, with a result per instance (moved, or left where it was with the reason)."""

    __tablename__ = "migration_batch"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    process_key: Mapped[str] = mapped_column(String(200), index=True)
    target_definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"))
    mapping: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    instance_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    results: Mapped[dict[str, dict[str, Any]]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending|running|done
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

"""Double-random inspection tables: the two pools, the item list, the risk ledger, plans, draws,
inspections and schedules.

Why these rows and not more columns on the directory: ``dir_entity`` and ``dir_user`` belong to
every process; what only a draw needs (risk and credit grade, conflicts, certificates) lives
here, keyed by the directory's ids (``credit_code``, ``user_id``), so the directory is extended
without being changed. Draws are append-only: a re-draw is a new row that points at the one it
replaces, and the snapshot, seed and result of every draw stay as they were drawn.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
    inspect,
)
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, utcnow
from processes.rule_store import RuleOverrideColumns


class InspectionItem(Base):
    """One entry of the 抽查事项清单: what may be inspected, under which law, with which checklist."""

    __tablename__ = "insp_item"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer, default=1)
    category: Mapped[str] = mapped_column(String(40), index=True)  # ENTITY_CATEGORIES code
    name: Mapped[str] = mapped_column(String(300))
    legal_basis: Mapped[str] = mapped_column(Text)
    checklist: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EntityProfile(Base):
    """What a draw knows of a directory entity beyond ``dir_entity``: status, grades, history, place."""

    __tablename__ = "insp_entity_profile"

    credit_code: Mapped[str] = mapped_column(ForeignKey("dir_entity.credit_code"), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | inactive | closed
    risk_level: Mapped[str] = mapped_column(String(10), default="normal")  # ledger's current level
    credit_grade: Mapped[str | None] = mapped_column(String(1))  # A B C D
    complaint_count: Mapped[int] = mapped_column(Integer, default=0)
    last_inspected_on: Mapped[date | None] = mapped_column(Date)
    region_code: Mapped[str | None] = mapped_column(String(6))
    latitude: Mapped[str | None] = mapped_column(String(20))  # decimal degrees as text (exact, no float)
    longitude: Mapped[str | None] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RiskEntry(Base):
    """风险评估台账: a risk opened from a complaint, a failed inspection or a penalty; closed by 销账."""

    __tablename__ = "insp_risk_entry"
    __table_args__ = (Index("ix_insp_risk_entry_open", "credit_code", "closed_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    credit_code: Mapped[str] = mapped_column(ForeignKey("dir_entity.credit_code"))
    source: Mapped[str] = mapped_column(String(20))  # complaint | inspection | penalty | assessment
    source_ref: Mapped[str | None] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(10))  # normal | high
    reason: Mapped[str] = mapped_column(Text)
    opened_on: Mapped[date] = mapped_column(Date)
    opened_by: Mapped[str] = mapped_column(String(100))
    closed_on: Mapped[date | None] = mapped_column(Date)
    closed_by: Mapped[str | None] = mapped_column(String(100))
    close_reason: Mapped[str | None] = mapped_column(Text)


class Inspector(Base):
    """执法检查人员名录库: a directory user who may be drawn, with certificate and conflicts."""

    __tablename__ = "insp_inspector"

    user_id: Mapped[str] = mapped_column(ForeignKey("dir_user.id"), primary_key=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("dir_unit.id"), index=True)
    certificate_no: Mapped[str] = mapped_column(String(50))
    certificate_valid_from: Mapped[date] = mapped_column(Date)
    certificate_valid_until: Mapped[date] = mapped_column(Date)
    specialties: Mapped[list[str]] = mapped_column(JSON, default=list)  # entity categories
    # credit codes of entities where a relative works / the inspector worked before
    relatives_at: Mapped[list[str]] = mapped_column(JSON, default=list)
    former_employers: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class InspectorLeave(Base):
    """A period an inspector is unavailable (leave, training, secondment)."""

    __tablename__ = "insp_inspector_leave"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("insp_inspector.user_id"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200))


class Plan(Base):
    """An annual, quarterly or national plan: scope, ratios, weights, exclusions and window.

    ``params`` is the full copy the draw reads (rules in force at creation, then the plan's own
    choices). A national task's ``fixed_entities`` is locked: it is drawn from no pool.
    """

    __tablename__ = "insp_plan"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))  # annual | quarterly | national
    unit_id: Mapped[str] = mapped_column(ForeignKey("dir_unit.id"), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    fixed_entities: Mapped[list[str] | None] = mapped_column(JSON)
    item_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    window_start: Mapped[date] = mapped_column(Date)
    window_end: Mapped[date] = mapped_column(Date)
    seed_source: Mapped[str] = mapped_column(String(20), default="generated")  # generated | witnessed
    witness_id: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="draft")  # draft submitted returned published
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("insp_schedule.id"), index=True)
    instance_id: Mapped[str | None] = mapped_column(String(36))  # its approval process
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    approved_by: Mapped[str | None] = mapped_column(String(100))
    published_at: Mapped[datetime | None]


class Draw(Base):
    """One draw of a plan (for a period): commitment, snapshot, seed, result. Never edited.

    ``snapshot`` is the canonical JSON of the eligible pools, zlib-compressed; its SHA-256 is
    ``snapshot_hash`` (see ``draw.py`` for the format). The seed is revealed after the draw;
    ``seed_hash`` is committed before it.
    """

    __tablename__ = "insp_draw"
    __table_args__ = (UniqueConstraint("plan_id", "period", "seq"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("insp_plan.id"), index=True)
    period: Mapped[str] = mapped_column(String(20))  # "" for a one-off plan, "2026Q1" for a scheduled run
    seq: Mapped[int] = mapped_column(Integer, default=1)  # 2, 3... for re-draws
    status: Mapped[str] = mapped_column(String(20))  # committed | drawn | superseded
    algorithm: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    snapshot: Mapped[bytes] = mapped_column(LargeBinary)
    entities_hash: Mapped[str] = mapped_column(String(64))
    matching_hash: Mapped[str] = mapped_column(String(64))
    snapshot_hash: Mapped[str] = mapped_column(String(64))
    seed_source: Mapped[str] = mapped_column(String(20))
    seed_hash: Mapped[str | None] = mapped_column(String(64))
    seed: Mapped[str | None] = mapped_column(String(200))
    commitment_hash: Mapped[str] = mapped_column(String(64))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    result_hash: Mapped[str | None] = mapped_column(String(64))
    supersedes_id: Mapped[str | None] = mapped_column(String(36))
    reason: Mapped[str | None] = mapped_column(Text)
    committed_by: Mapped[str] = mapped_column(String(100))
    committed_at: Mapped[datetime] = mapped_column(default=utcnow)
    witness_id: Mapped[str | None] = mapped_column(String(100))
    drawn_at: Mapped[datetime | None]


class DrawImmutableError(ValueError):
    """A finished draw was about to be changed: only a reasoned re-draw may replace it."""

    message = "已完成的抽取结果不能修改，如有错误，请说明理由后重新抽取（原抽取及其签名记录保留）"

    def __init__(self, columns: list[str]) -> None:
        super().__init__(f"{self.message}（{', '.join(columns)}）")
        self.columns = columns


DRAW_MUTABLE_AFTER_DRAWING = frozenset({"status"})
"""All a finished draw may still change: drawn → superseded when a re-draw replaces it."""


@event.listens_for(Draw, "before_update")
def _draw_is_never_edited(_mapper: Any, _connection: Any, target: Draw) -> None:
    """Refuse at flush any change to a drawn (or superseded) draw other than its status.

    Why at the mapper and not only in the pages: the signed draw record states this row's
    content, so no code path (web, API, shell, a future feature) may rewrite it silently.
    """
    state = inspect(target)
    status = state.attrs.status.history
    before = status.deleted[0] if status.deleted else target.status
    if before == "committed":
        return
    changed = [a.key for a in state.attrs if a.key not in DRAW_MUTABLE_AFTER_DRAWING and a.history.has_changes()]
    if status.added and (before, target.status) != ("drawn", "superseded"):
        changed.append("status")
    if changed:
        raise DrawImmutableError(sorted(changed))


class DrawSigning(Base):
    """The signing step of one finished draw: the ``inspection_draw_signing`` instance whose
    multi-instance task 签署抽取记录 each signer completes, and the day it is due.

    Why a row of its own: a draw row never changes once drawn (``_draw_is_never_edited``), and the
    plan page needs the due day and the instance of every draw without loading process state.
    """

    __tablename__ = "insp_draw_signing"

    draw_id: Mapped[str] = mapped_column(ForeignKey("insp_draw.id"), primary_key=True)
    instance_id: Mapped[str] = mapped_column(String(36), unique=True)
    due_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Inspection(Base):
    """One drawn entity's inspection: its pair, its process instance, its outcome and links."""

    __tablename__ = "insp_inspection"
    __table_args__ = (UniqueConstraint("draw_id", "credit_code"),
                      Index("ix_insp_inspection_entity", "credit_code", "result_on"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    draw_id: Mapped[str] = mapped_column(ForeignKey("insp_draw.id"), index=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("insp_plan.id"), index=True)
    credit_code: Mapped[str] = mapped_column(ForeignKey("dir_entity.credit_code"))
    entity_name: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(40))
    inspectors: Mapped[list[str]] = mapped_column(JSON)
    instance_id: Mapped[str | None] = mapped_column(String(36), index=True)
    status: Mapped[str] = mapped_column(String(20), default="assigned")  # assigned ... done | cancelled
    outcome: Mapped[str | None] = mapped_column(String(20))  # compliant | correction | violation | not_found
    checked_on: Mapped[date | None] = mapped_column(Date)
    correction_due: Mapped[date | None] = mapped_column(Date)
    reinspection: Mapped[str | None] = mapped_column(String(20))  # corrected | not_corrected
    result_on: Mapped[date | None] = mapped_column(Date)
    disclosure_due: Mapped[date | None] = mapped_column(Date)
    # the explicit disclosure step (公示检查结果): the result is public from this day
    disclosed_on: Mapped[date | None] = mapped_column(Date)
    disclosed_by: Mapped[str | None] = mapped_column(String(100))
    opinion_sha256: Mapped[str | None] = mapped_column(String(64))
    penalty_case_id: Mapped[str | None] = mapped_column(String(36))
    findings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Replacement(Base):
    """A recorded replacement draw: an inspector declared a conflict and another was drawn."""

    __tablename__ = "insp_replacement"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[str] = mapped_column(ForeignKey("insp_inspection.id"), index=True)
    replaced: Mapped[str] = mapped_column(String(100))
    replacement: Mapped[str | None] = mapped_column(String(100))  # None: nobody eligible was left
    reason: Mapped[str] = mapped_column(Text)
    # what the replacement was drawn from: kept inspectors, excluded ones, loads (recomputable)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    seed: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Schedule(Base):
    """A recurring plan: its template plan, recurrence (Asia/Shanghai), pause state, grace."""

    __tablename__ = "insp_schedule"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    template: Mapped[dict[str, Any]] = mapped_column(JSON)  # create_plan arguments for each period
    recurrence: Mapped[str] = mapped_column(String(100))  # see recurrence.py
    grace_hours: Mapped[int] = mapped_column(Integer)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    active_from: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ScheduleRun(Base):
    """One period of a schedule. The unique (schedule, period) is the exactly-once guard: two
    schedulers, a restart or a manual run may all try, only one row (and one draw) can exist."""

    __tablename__ = "insp_schedule_run"
    __table_args__ = (UniqueConstraint("schedule_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("insp_schedule.id"), index=True)
    period: Mapped[str] = mapped_column(String(20))
    due_at: Mapped[datetime]
    ran_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20))  # done | missed | failed | requested (run now before approval)
    trigger: Mapped[str] = mapped_column(String(20))  # schedule | catch_up | manual
    runner: Mapped[str] = mapped_column(String(200))
    plan_id: Mapped[str | None] = mapped_column(String(36))
    draw_id: Mapped[str | None] = mapped_column(String(36))
    detail: Mapped[str | None] = mapped_column(Text)


class PublicChange(Base):
    """A correction (更正) or withdrawal (撤回) of a disclosed item of the public site, logged.

    The public reads when, why and what changed (``changes``: field label, before, after); who did it
    (``actor``) stays internal. Rows are never edited: a later change is another row."""

    __tablename__ = "insp_public_change"
    __table_args__ = (Index("ix_insp_public_change_item", "item_kind", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_kind: Mapped[str] = mapped_column(String(30))  # inspection_result
    item_id: Mapped[str] = mapped_column(String(36))
    credit_code: Mapped[str] = mapped_column(String(40), index=True)
    action: Mapped[str] = mapped_column(String(20))  # corrected | withdrawn
    changed_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    changes: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    actor: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InspectionRuleOverride(RuleOverrideColumns, Base):
    """One administrator's change of one ``rules.toml`` entry (``section.name``); ``value`` None = reset.
    Plans created afterwards copy the changed value; existing plans and draws keep theirs."""

    __tablename__ = "insp_rule_override"

"""Penalty tables: the case register, its numbering counters, documents and evidence by hash,
execution events, deadline notices and archives.

The BPMN instance holds the workflow; these rows are the register people and reports query
(case lists, the case card, an entity's archives) without deserializing a workflow. They are
written by the penalty services (task submissions) and the service-task operators, in the same
transaction as the engine command. Money is stored in fen (integers): SQLite has no decimal type.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, utcnow


class PenaltyCase(Base):
    """One penalty case (ordinary or summary procedure): the register row behind the case card."""

    __tablename__ = "penalty_case"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id"), unique=True)
    procedure: Mapped[str] = mapped_column(String(20))  # ordinary | summary
    unit_id: Mapped[str] = mapped_column(String(64), index=True)
    unit_name: Mapped[str] = mapped_column(String(200))
    unit_short_name: Mapped[str] = mapped_column(String(20))
    category: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(30), default="lead", index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    case_number: Mapped[str | None] = mapped_column(String(100), unique=True)
    number_year: Mapped[int | None] = mapped_column(Integer)
    number_seq: Mapped[int | None] = mapped_column(Integer)
    # the party (管理相对人) and the facts of the case card
    entity_id: Mapped[str | None] = mapped_column(String(64), index=True)
    entity_name: Mapped[str | None] = mapped_column(String(300))
    credit_code: Mapped[str | None] = mapped_column(String(18), index=True)
    party_type: Mapped[str | None] = mapped_column(String(20))  # person | organisation
    legal_representative: Mapped[str | None] = mapped_column(String(100))
    registered_address: Mapped[str | None] = mapped_column(String(300))
    actual_address: Mapped[str | None] = mapped_column(String(300))
    region_code: Mapped[str | None] = mapped_column(String(6))
    unit_category: Mapped[str | None] = mapped_column(String(100))
    licence_numbers: Mapped[str | None] = mapped_column(String(300))
    source: Mapped[str | None] = mapped_column(String(30))
    violation: Mapped[str | None] = mapped_column(Text)
    violation_date: Mapped[date | None] = mapped_column(Date)
    legal_basis: Mapped[str | None] = mapped_column(Text)
    limitation_expires_on: Mapped[date | None] = mapped_column(Date)
    # people
    officers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    blocked_officers: Mapped[list[str]] = mapped_column(JSON, default=list)
    investigators: Mapped[list[str]] = mapped_column(JSON, default=list)
    pending_recusal: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    pending_ending: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # a transfer/withdrawal/termination request
    ending: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the approved one: kind, reason, who, when
    # dates and deadlines
    accepted_on: Mapped[date | None] = mapped_column(Date)
    discovered_on: Mapped[date | None] = mapped_column(Date)  # the filing period counts from here
    filing_due: Mapped[date | None] = mapped_column(Date)  # last day to decide on filing (extension included)
    filing_extension: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the head's, recorded when approved
    filed_on: Mapped[date | None] = mapped_column(Date)
    decision_due: Mapped[date | None] = mapped_column(Date)
    extensions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    open_preservations: Mapped[int] = mapped_column(Integer, default=0)
    # penalty as proposed (deliberation), notified (prior notice) and decided
    proposed_penalty: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    notified_penalty: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    decided_penalty: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    approved_penalty: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # what the head approved (Art. 57)
    overdue_decision: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # decided after the period: due, reason
    notice_served_on: Mapped[date | None] = mapped_column(Date)
    hearing_right: Mapped[bool] = mapped_column(Boolean, default=False)
    hearing_held: Mapped[bool] = mapped_column(Boolean, default=False)
    decided_on: Mapped[date | None] = mapped_column(Date)
    served_on: Mapped[date | None] = mapped_column(Date)
    service_method: Mapped[str | None] = mapped_column(String(30))
    effective_served_on: Mapped[date | None] = mapped_column(Date)
    payment_due: Mapped[date | None] = mapped_column(Date)
    fine_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    confiscation_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    surcharge_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    execution_status: Mapped[str | None] = mapped_column(String(30))
    deliberation_record_id: Mapped[str | None] = mapped_column(String(36))
    closed_on: Mapped[date | None] = mapped_column(Date)
    # 一案一卡两次报告: last day of each report (set on service and on closing; see reporting.py)
    card_first_due: Mapped[date | None] = mapped_column(Date, index=True)
    card_second_due: Mapped[date | None] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012


class CaseNumberCounter(Base):
    """Last case number used per unit, category and year: the one row allocation locks."""

    __tablename__ = "penalty_case_counter"

    unit_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    category: Mapped[str] = mapped_column(String(40), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


class Blob(Base):
    """File content stored once by its SHA-256 (documents, evidence, archives)."""

    __tablename__ = "penalty_blob"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseDocument(Base):
    """A generated enforcement document (文书) of a case; its bytes are the blob ``sha256``."""

    __tablename__ = "penalty_document"
    __table_args__ = (Index("ix_penalty_document_case", "case_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("penalty_case.id"))
    doc_type: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    number: Mapped[str | None] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(ForeignKey("penalty_blob.sha256"))
    file_name: Mapped[str] = mapped_column(String(200))
    job_id: Mapped[str | None] = mapped_column(String(36), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseRecord(Base):
    """An investigation step (询问, 现场检查, evidence, preservation) and the officers on it."""

    __tablename__ = "penalty_record"
    __table_args__ = (Index("ix_penalty_record_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("penalty_case.id"))
    kind: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(200))
    officers: Mapped[list[str]] = mapped_column(JSON, default=list)
    content: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sha256: Mapped[str | None] = mapped_column(String(64))
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExecutionEvent(Base):
    """Payment, deferral/instalment, or the start/end of reconsideration or litigation.

    An instalment application keeps its plan (``[{"due_on": "2025-10-15", "amount_fen": 200000}, ...]``)
    and the head's decision on it (``approved``, ``decided_by``, ``decided_at``, ``decision_note``).
    """

    __tablename__ = "penalty_execution_event"
    __table_args__ = (Index("ix_penalty_execution_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("penalty_case.id"))
    kind: Mapped[str] = mapped_column(String(30))
    occurred_on: Mapped[date] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date)
    amount_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    approved: Mapped[bool | None] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)
    plan: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None] = mapped_column()
    decision_note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class CardReport(Base):
    """One report of a case card (一案一卡): which report, who made it, when, and what it said.

    ``card`` is the card as reported and ``card_sha256`` its hash (``reporting.card_sha256``), so a
    later correction of the register shows as a card that differs from what was reported.
    """

    __tablename__ = "penalty_card_report"
    __table_args__ = (Index("ix_penalty_card_report_case", "case_id", "report"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("penalty_case.id"))
    report: Mapped[str] = mapped_column(String(10))  # first | second
    due: Mapped[date | None] = mapped_column(Date)
    reported_on: Mapped[date] = mapped_column(Date)
    card: Mapped[dict[str, Any]] = mapped_column(JSON)
    card_sha256: Mapped[str] = mapped_column(String(64))
    reported_by: Mapped[str] = mapped_column(String(100))
    reported_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeadlineNotice(Base):
    """A reminder or overdue notice the deadline watch raised (shown to the role it names)."""

    __tablename__ = "penalty_notice"
    __table_args__ = (Index("ix_penalty_notice_case", "case_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("penalty_case.id"))
    kind: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    due: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseArchive(Base):
    """The closed case file as one ZIP (blob) with a manifest of SHA-256 hashes; listed per entity."""

    __tablename__ = "penalty_archive"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("penalty_case.id"), unique=True)
    entity_id: Mapped[str | None] = mapped_column(String(64), index=True)
    credit_code: Mapped[str | None] = mapped_column(String(18), index=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("penalty_blob.sha256"))
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

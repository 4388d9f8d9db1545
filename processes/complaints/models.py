"""Complaint tables: the register row of each complaint, its public timeline, pauses, urging
records (督办单), feedback deliveries, attachments by SHA-256, archives and the rule overrides.

The BPMN instances hold the workflow; these rows are what lists, statistics, the public tracking
page and the scheduler query at 100,000 complaints without deserializing a workflow. The
complainant's identity and contact are never stored in clear: ``identity_token`` is a Fernet
token (``identity.py``); the query code only as a salted SHA-256 (``intake.py``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, utcnow
from processes.rule_store import RuleOverrideColumns


class Complaint(Base):
    """One complaint, report or petition (投诉 / 举报 / 信访) from registration to archive."""

    __tablename__ = "complaint"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tracking_no: Mapped[str] = mapped_column(String(24), unique=True)
    code_salt: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str | None] = mapped_column(String(20))  # complaint | report | petition | out_of_scope
    petition_kind: Mapped[str | None] = mapped_column(String(20))  # claim | suggestion | accusation
    status: Mapped[str] = mapped_column(String(30), default="registered")
    registered_unit_id: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[str] = mapped_column(String(64))  # the unit handling it now
    instance_id: Mapped[str | None] = mapped_column(String(36))  # the instance working on it now
    instance_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    # target: a directory entity, or free text for an unregistered one or a person
    entity_id: Mapped[str | None] = mapped_column(String(64))
    target_name: Mapped[str] = mapped_column(String(300))
    target_key: Mapped[str] = mapped_column(String(300))  # normalised name, for duplicate detection
    facts: Mapped[str] = mapped_column(Text)
    request: Mapped[str] = mapped_column(Text, default="")
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    identity_token: Mapped[str | None] = mapped_column(Text)  # Fernet(JSON of name, phone, email, address)
    reply_channel: Mapped[str | None] = mapped_column(String(10))  # email | sms | post | None
    clerk_id: Mapped[str | None] = mapped_column(String(100))
    handlers: Mapped[list[str]] = mapped_column(JSON, default=list)
    received_on: Mapped[date] = mapped_column(Date)
    accept_due: Mapped[date | None] = mapped_column(Date)
    accepted_on: Mapped[date | None] = mapped_column(Date)
    handling_due: Mapped[date | None] = mapped_column(Date)
    paused_workdays: Mapped[int] = mapped_column(Integer, default=0)
    finished_on: Mapped[date | None] = mapped_column(Date)
    replied_on: Mapped[date | None] = mapped_column(Date)
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    outcome: Mapped[str | None] = mapped_column(String(30))
    reply_text: Mapped[str | None] = mapped_column(Text)  # the written reply, shown on the tracking page
    refusal_ground: Mapped[str | None] = mapped_column(String(40))
    duplicate_of: Mapped[list[str]] = mapped_column(JSON, default=list)  # flagged candidates
    merged_into_id: Mapped[str | None] = mapped_column(ForeignKey("complaint.id"))
    penalty_case_id: Mapped[str | None] = mapped_column(String(36))
    penalty_instance_id: Mapped[str | None] = mapped_column(String(36))
    review_level: Mapped[int] = mapped_column(Integer, default=0)  # 0, 1 = 复查, 2 = 复核 (final)
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rules: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_complaint_unit_status_received", "unit_id", "status", "received_on"),
        Index("ix_complaint_kind_received", "kind", "received_on"),
        Index("ix_complaint_channel_received", "channel", "received_on"),
        Index("ix_complaint_entity_received", "entity_id", "received_on"),
        Index("ix_complaint_target_received", "target_key", "received_on"),
        # Only the finally reviewed (复核) complaints, which intake compares every new one with:
        # a busy target's thousands of other complaints stay out of that check.
        Index("ix_complaint_final_target", "target_key", postgresql_where=text("review_level >= 2"),
              sqlite_where=text("review_level >= 2")),
        Index("ix_complaint_status_due", "status", "handling_due"),
        Index("ix_complaint_instance", "instance_id"),
        Index("ix_complaint_received", "received_on"),
    )


class ComplaintEvent(Base):
    """One line of a complaint's timeline. ``public`` lines (with ``public_text`` only: no staff
    names, no identity, no internal notes) are what the tracking page shows."""

    __tablename__ = "complaint_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[str] = mapped_column(ForeignKey("complaint.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    public_text: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(100), default="system")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ComplaintPause(Base):
    """A period not counted (testing, appraisal): from ``started_on`` to ``ended_on``."""

    __tablename__ = "complaint_pause"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[str] = mapped_column(ForeignKey("complaint.id"), index=True)
    reason: Mapped[str] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(Text, default="")
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    workdays: Mapped[int | None] = mapped_column(Integer)
    recorded_by: Mapped[str] = mapped_column(String(100))


class UrgingRecord(Base):
    """A reminder, a 督办单 to the handling unit's head (with a reply deadline) or an escalation."""

    __tablename__ = "complaint_urging"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[str] = mapped_column(ForeignKey("complaint.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # reminder | urge | escalation
    round: Mapped[int] = mapped_column(Integer, default=0)
    element_id: Mapped[str] = mapped_column(String(100))
    unit_id: Mapped[str] = mapped_column(String(64), index=True)  # whose head receives it
    due: Mapped[date | None] = mapped_column(Date)  # the deadline urged
    reply_due: Mapped[date | None] = mapped_column(Date)
    replied_at: Mapped[datetime | None] = mapped_column()
    replied_by: Mapped[str | None] = mapped_column(String(100))
    reply_text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FeedbackDelivery(Base):
    """The written reply sent through one channel (email, SMS, post); retried by the outbox job."""

    __tablename__ = "complaint_delivery"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[str] = mapped_column(ForeignKey("complaint.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="reply")  # reply | filing_notice | refusal | ...
    channel: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    document_sha256: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[str | None] = mapped_column(Text)  # the text itself: what an SMS carries, an email's body
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ComplaintBlob(Base):
    """Attachments and generated letters, stored once by SHA-256."""

    __tablename__ = "complaint_blob"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ComplaintArchive(Base):
    """The closed complaint's file: ZIP of documents, attachments and audit trail, with a manifest."""

    __tablename__ = "complaint_archive"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[str] = mapped_column(ForeignKey("complaint.id"), index=True)
    entity_id: Mapped[str | None] = mapped_column(String(64), index=True)
    file_name: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    manifest: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ComplaintRuleOverride(RuleOverrideColumns, Base):
    """One administrator's change of one ``rules.toml`` entry (``section.name``); ``value`` None = reset."""

    __tablename__ = "complaint_rule_override"

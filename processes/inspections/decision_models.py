"""The disclosure step of each penalty decision (公示行政处罚决定): one row per decided case.

Why a table of its own, keyed by the penalty case: the public site lists a decision only once a
head confirmed what is published (行政处罚法 Art. 48), so the public statement joins this row by
the case's primary key. The penalty tables are not changed. Cases decided before
``inspections_0006`` are backfilled as disclosed on their decision day (they were public already).

(Columns as in ``migrations/versions/inspections_0006_decision_disclosure.py``.)
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, utcnow

PENDING, DISCLOSED, NOT_DISCLOSED = "pending", "disclosed", "not_disclosed"


class DecisionDisclosure(Base):
    """A penalty decision's disclosure: pending (due ``due_on``), disclosed, or not disclosed with
    its reason; ``withdrawn_on`` when a revoked decision left the public site."""

    __tablename__ = "insp_decision_disclosure"
    __table_args__ = (Index("ix_insp_decision_disclosure_status_due", "status", "due_on"),)

    case_id: Mapped[str] = mapped_column(String(36), primary_key=True)  # penalty_case.id
    instance_id: Mapped[str | None] = mapped_column(String(36), unique=True, nullable=True)
    unit_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    disclosed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    disclosed_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    withdrawn_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

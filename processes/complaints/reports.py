"""Lists, counts, statistics and exports of complaints for clerks and heads. No personal data:
nothing here reads the identity, and exported cells that could start a formula are neutralised
by ``processes.spreadsheet`` (the one place every export goes through).

Queries use the register's indexes (unit+status+received, kind/channel/entity/target+received,
status+due), so a filtered page stays an index range scan at 100,000 complaints.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from engine import Actor
from processes.spreadsheet import to_csv, to_xlsx

from .models import Complaint
from .records import CHANNELS, KINDS, STATUSES

OPEN = ("registered", "forwarding", "accepting", "accepted", "paused", "reviewing", "rechecking")


@dataclass(frozen=True)
class ListFilters:
    status: str | None = None
    kind: str | None = None
    channel: str | None = None
    unit_id: str | None = None
    target: str | None = None
    overdue_on: date | None = None  # open complaints whose handling due date is before this day
    received_from: date | None = None
    received_to: date | None = None


def _scoped(actor: Actor, filters: ListFilters) -> Select[Any]:
    query = select(Complaint)
    if not actor.is_admin:
        query = query.where(Complaint.unit_id.in_(sorted(actor.unit_ids)))
    conditions = []
    if filters.status:
        conditions.append(Complaint.status == filters.status)
    if filters.kind:
        conditions.append(Complaint.kind == filters.kind)
    if filters.channel:
        conditions.append(Complaint.channel == filters.channel)
    if filters.unit_id:
        conditions.append(Complaint.unit_id == filters.unit_id)
    if filters.target:
        conditions.append(Complaint.target_name.contains(filters.target.strip()[:100], autoescape=True))
    if filters.overdue_on:
        conditions.append(and_(Complaint.status.in_(OPEN), Complaint.handling_due < filters.overdue_on))
    if filters.received_from:
        conditions.append(Complaint.received_on >= filters.received_from)
    if filters.received_to:
        conditions.append(Complaint.received_on <= filters.received_to)
    return query.where(*conditions) if conditions else query


def _row(c: Complaint) -> dict[str, Any]:
    return {"id": c.id, "tracking_no": c.tracking_no, "status": c.status, "status_label": STATUSES.get(c.status, ""),
            "kind": c.kind, "channel": c.channel, "unit_id": c.unit_id, "target": c.target_name,
            "received_on": c.received_on.isoformat(),
            "handling_due": c.handling_due.isoformat() if c.handling_due else None,
            "replied_on": c.replied_on.isoformat() if c.replied_on else None, "on_time": c.on_time,
            "penalty_case_id": c.penalty_case_id, "anonymous": c.anonymous}


def list_complaints(session: Session, actor: Actor, filters: ListFilters, *, limit: int = 50,
                    offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """One page (newest first) and the total matching; no identity in any row."""
    query = _scoped(actor, filters)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Complaint.received_on.desc(), Complaint.id.desc())
                           .limit(max(1, min(limit, 500))).offset(max(0, offset)))
    return [_row(c) for c in rows], total


def counts(session: Session, actor: Actor, filters: ListFilters | None = None) -> dict[str, int]:
    """Complaints per status (for the list's tabs)."""
    query = _scoped(actor, filters or ListFilters()).subquery()
    rows = session.execute(select(query.c.status, func.count()).group_by(query.c.status))
    return {str(status): int(n) for status, n in rows}


def statistics(session: Session, actor: Actor, received_from: date, received_to: date) -> list[dict[str, Any]]:
    """Per type, channel, unit and month: received, replied, replied on time and the on-time rate."""
    query = _scoped(actor, ListFilters(received_from=received_from, received_to=received_to)).subquery()
    rows = session.execute(select(query.c.kind, query.c.channel, query.c.unit_id, query.c.received_on,
                                  query.c.replied_on, query.c.on_time))
    table: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for kind, channel, unit_id, received_on, replied_on, on_time in rows:
        key = (kind or "", channel, unit_id, f"{received_on:%Y-%m}")
        entry = table.setdefault(key, {"kind": kind, "kind_label": KINDS.get(kind or "", "未分类"), "channel": channel,
                                       "channel_label": CHANNELS.get(channel, channel), "unit_id": unit_id,
                                       "month": key[3], "received": 0, "replied": 0, "on_time": 0})
        entry["received"] += 1
        entry["replied"] += 1 if replied_on else 0
        entry["on_time"] += 1 if on_time else 0
    for entry in table.values():
        entry["on_time_rate"] = round(entry["on_time"] / entry["replied"], 4) if entry["replied"] else None
    return [table[k] for k in sorted(table)]


HEADER = ["登记编号", "状态", "类型", "来源渠道", "承办单位", "被投诉举报对象", "登记日期", "办理期限", "答复日期",
          "按期"]


def _export_rows(rows: Iterable[dict[str, Any]]) -> Iterable[list[Any]]:
    for r in rows:
        yield [r["tracking_no"], r["status_label"], KINDS.get(r["kind"] or "", ""), CHANNELS.get(r["channel"], ""),
               r["unit_id"], r["target"], r["received_on"], r["handling_due"] or "", r["replied_on"] or "",
               "" if r["on_time"] is None else ("是" if r["on_time"] else "否")]


def export_csv(session: Session, actor: Actor, filters: ListFilters, limit: int = 100_000) -> bytes:
    return to_csv(HEADER, _export_rows(_all(session, actor, filters, limit)))


def export_xlsx(session: Session, actor: Actor, filters: ListFilters, limit: int = 100_000) -> bytes:
    return to_xlsx("投诉举报", HEADER, _export_rows(_all(session, actor, filters, limit)))


def _all(session: Session, actor: Actor, filters: ListFilters, limit: int) -> list[dict[str, Any]]:
    query = _scoped(actor, filters).order_by(Complaint.received_on.desc(), Complaint.id.desc()).limit(limit)
    return [_row(c) for c in session.scalars(query)]

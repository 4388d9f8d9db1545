"""Telling people about their tasks: newly assigned to them, due soon, overdue.

The scheduler's tick calls ``scan``: it reads the inbox tables (never a workflow), writes one
``Notification`` per (person, kind, task) and sends the immediate emails of those who asked
for them; once a day, after ``DIGEST_HOUR`` China time, ``send_digests`` mails each person who
wants a digest the notices they have not read. Idempotent (a unique key per notice, a date per
digest), so two schedulers or a restart never notify twice.

Who is told: the assignee of a ready task; an unassigned task that is overdue goes to the heads
of its unit (someone must pick it up). Work is bounded per tick (``SCAN_LIMIT`` rows per kind).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Exists, and_, exists, select
from sqlalchemy.orm import Session

from engine.models import AuditEvent, HumanTask
from integrations.delivery import DeliveryFailed, Message, send_email

from .models import Notification, NotificationPreference, User

KINDS = ("assigned", "due_soon", "overdue")
KIND_NAMES = {"assigned": "新分配给您的任务", "due_soon": "即将到期的任务", "overdue": "已超期的任务"}
DUE_SOON = timedelta(days=2)  # [practice] a task due within this is "due soon"
ASSIGNED_WINDOW = timedelta(days=2)  # assignments older than this when first scanned are not news
SCAN_LIMIT = 5000
DIGEST_HOUR = 8  # [practice] the daily digest goes out from 08:00 China time
LOCAL_TZ = ZoneInfo("Asia/Shanghai")


@dataclass
class ScanReport:
    created: int = 0
    emailed: int = 0
    failed: int = 0


def _exists(kind: str, user_column: Any) -> Exists:
    return exists().where(Notification.kind == kind, Notification.task_id == HumanTask.id,
                          Notification.user_id == user_column)


def _label(task: HumanTask) -> str:
    return " · ".join(p for p in (task.business_key, task.entity_name) if p)


def _notice(task: HumanTask, user_id: str, kind: str, now: datetime) -> Notification:
    return Notification(user_id=user_id, kind=kind, task_id=task.id, instance_id=task.instance_id,
                        title=task.title, case_label=_label(task) or None, due_at=task.due_at, created_at=now)


def _assigned(session: Session, now: datetime) -> list[tuple[HumanTask, str]]:
    """Ready tasks that became someone's recently: started with an assignee, or assigned by a head."""
    since = now - ASSIGNED_WINDOW
    reassigned = select(AuditEvent.task_id).where(AuditEvent.action == "task_assigned",
                                                  AuditEvent.created_at >= since)
    rows = session.scalars(select(HumanTask).where(
        HumanTask.status == "ready", HumanTask.assignee.is_not(None),
        (HumanTask.created_at >= since) | HumanTask.id.in_(reassigned),
        ~_exists("assigned", HumanTask.assignee)).limit(SCAN_LIMIT))
    return [(t, str(t.assignee)) for t in rows]


def _due(session: Session, now: datetime, kind: str) -> list[tuple[HumanTask, str]]:
    window = (HumanTask.due_at < now) if kind == "overdue" else and_(HumanTask.due_at >= now,
                                                                       HumanTask.due_at < now + DUE_SOON)
    found: list[tuple[HumanTask, str]] = []
    for task in session.scalars(select(HumanTask).where(
            HumanTask.status == "ready", HumanTask.assignee.is_not(None), window,
            ~_exists(kind, HumanTask.assignee)).limit(SCAN_LIMIT)):
        found.append((task, str(task.assignee)))
    if kind == "overdue":
        unassigned = list(session.scalars(select(HumanTask).where(
            HumanTask.status == "ready", HumanTask.assignee.is_(None), window).limit(SCAN_LIMIT)))
        heads = _heads(session, {t.unit_id for t in unassigned if t.unit_id})
        for task in unassigned:
            found.extend((task, head) for head in heads.get(task.unit_id or "", []))
    return found


def _heads(session: Session, unit_ids: set[str]) -> dict[str, list[str]]:
    heads: dict[str, list[str]] = {}
    if unit_ids:
        for user in session.scalars(select(User).where(User.unit_id.in_(sorted(unit_ids)), User.active.is_(True))):
            if "head" in (user.roles or []):
                heads.setdefault(user.unit_id, []).append(user.id)
    return heads


def scan(session: Session, now: datetime, send: Callable[[Message], str] = send_email) -> ScanReport:
    """Write the notices due now and send the immediate emails (the caller commits)."""
    report = ScanReport()
    candidates = [(kind, task, user_id) for kind, found in (
        ("assigned", _assigned(session, now)), ("due_soon", _due(session, now, "due_soon")),
        ("overdue", _due(session, now, "overdue"))) for task, user_id in found]
    task_ids = sorted({task.id for _kind, task, _user in candidates})
    existing: set[tuple[str, str, str]] = set()
    for start in range(0, len(task_ids), 500):
        rows = session.execute(select(Notification.user_id, Notification.kind, Notification.task_id)
                               .where(Notification.task_id.in_(task_ids[start:start + 500])))
        existing |= {(user, kind, task) for user, kind, task in rows}
    new: list[Notification] = []
    for kind, task, user_id in candidates:
        key = (user_id, kind, task.id)
        if key not in existing:
            existing.add(key)
            new.append(_notice(task, user_id, kind, now))
    if not new:
        return report
    prefs = _preferences(session, {n.user_id for n in new})
    known = set(session.scalars(select(User.id).where(User.id.in_(sorted({n.user_id for n in new})))))
    for notice in new:
        if notice.user_id not in known:
            continue
        session.add(notice)
        report.created += 1
        pref = prefs.get(notice.user_id)
        if pref is not None and pref.email and pref.email_immediate and wants(pref, notice.kind):
            try:
                send(Message(to=pref.email, subject=f"【卫监】{KIND_NAMES[notice.kind]}：{notice.title}",
                             body=_line(notice)))
                notice.emailed_at = now
                report.emailed += 1
            except DeliveryFailed:
                report.failed += 1
    session.flush()
    return report


def announce_assigned(session: Session, pairs: Iterable[tuple[HumanTask, str]], now: datetime,
                      send: Callable[[Message], str] = send_email) -> int:
    """Tell each person now of a task a head just gave them (the scan would find it on its next
    tick; a head moving someone's work wants the new holder told at once). Same notice, same
    unique key and email preference as the scan's, so the scan never repeats it."""
    wanted = [(task, user_id) for task, user_id in pairs]
    if not wanted:
        return 0
    existing: set[tuple[str, str]] = {(user, task) for user, task in session.execute(
        select(Notification.user_id, Notification.task_id).where(
            Notification.kind == "assigned", Notification.task_id.in_(sorted({t.id for t, _u in wanted}))))}
    prefs = _preferences(session, {user_id for _t, user_id in wanted})
    created = 0
    for task, user_id in wanted:
        if (user_id, task.id) in existing:
            continue
        existing.add((user_id, task.id))
        notice = _notice(task, user_id, "assigned", now)
        session.add(notice)
        created += 1
        pref = prefs.get(user_id)
        if pref is not None and pref.email and pref.email_immediate and wants(pref, "assigned"):
            try:
                send(Message(to=pref.email, subject=f"【卫监】{KIND_NAMES['assigned']}：{notice.title}",
                             body=_line(notice)))
                notice.emailed_at = now
            except DeliveryFailed:
                pass  # the notice stays unread in the bell and goes out in the digest
    session.flush()
    return created


def wants(pref: NotificationPreference | None, kind: str) -> bool:
    return pref is None or not pref.kinds or kind in pref.kinds


def _preferences(session: Session, user_ids: Iterable[str]) -> dict[str, NotificationPreference]:
    ids = sorted(set(user_ids))
    return {p.user_id: p for p in session.scalars(select(NotificationPreference)
                                                   .where(NotificationPreference.user_id.in_(ids)))} if ids else {}


def _line(notice: Notification) -> str:
    due = f"，期限 {notice.due_at.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M}" if notice.due_at else ""
    case = f"（{notice.case_label}）" if notice.case_label else ""
    return f"{KIND_NAMES[notice.kind]}：{notice.title}{case}{due}"


def send_digests(session: Session, now: datetime, send: Callable[[Message], str] = send_email) -> ScanReport:
    """Once a day from ``DIGEST_HOUR``: each person's unread notices not yet emailed, in one email."""
    report = ScanReport()
    local = now.astimezone(LOCAL_TZ)
    if local.time() < time(DIGEST_HOUR):
        return report
    today = local.date()
    for pref in session.scalars(select(NotificationPreference).where(
            NotificationPreference.email_digest.is_(True), NotificationPreference.email.is_not(None),
            (NotificationPreference.last_digest_on.is_(None)) | (NotificationPreference.last_digest_on < today))):
        notices = [n for n in session.scalars(select(Notification).where(
            Notification.user_id == pref.user_id, Notification.read_at.is_(None), Notification.emailed_at.is_(None))
            .order_by(Notification.id).limit(200)) if wants(pref, n.kind)]
        pref.last_digest_on = today
        if not notices:
            continue
        body = "\n".join(f"· {_line(n)}" for n in notices)
        try:
            send(Message(to=str(pref.email), subject=f"【卫监】每日待办提醒（{len(notices)}项）", body=body))
        except DeliveryFailed:
            pref.last_digest_on = None if pref.last_digest_on == today else pref.last_digest_on
            report.failed += 1
            continue
        for notice in notices:
            notice.emailed_at = now
        report.emailed += 1
    session.flush()
    return report


def unread_count(session: Session, user_id: str) -> int:
    from sqlalchemy import func

    return session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))) or 0


def mark_read(session: Session, user_id: str, now: datetime, notice_id: int | None = None) -> int:
    """Mark one notice (or all) of ``user_id`` read; returns how many changed."""
    query = select(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if notice_id is not None:
        query = query.where(Notification.id == notice_id)
    rows = list(session.scalars(query.limit(10_000)))
    for row in rows:
        row.read_at = now
    return len(rows)

"""The complaint services the web pages and the API call. Plain functions taking the caller's
``Session`` (and actor); none commits: the request or job owns the one commit.

``submit_task`` is the one door for complaint task forms (schema, legal checks, engine,
register). ``track`` is the public tracking page's only read: it answers a wrong code and an
unknown number with the same refusal after the same work, and returns only public text.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from engine import SYSTEM, Actor, complete_task, set_due
from engine.clock import china_today
from engine.db import utcnow
from engine.errors import NotFound, PermissionDenied, TaskNotReady
from engine.materialize import to_due_datetime
from engine.models import HumanTask, ProcessInstance
from engine.scripting import load_calendar

from . import deadlines
from .checks import Submission, handler
from .forms import DATA_KEYS, FORMS
from .identity import identity_or_redacted
from .intake import code_hash
from .models import Complaint, ComplaintEvent, ComplaintPause, UrgingRecord
from .records import STATUSES, by_tracking_no, get_complaint, log
from .rule_store import rules_of

PAUSE_REASONS = {"testing": "检验检测", "appraisal": "鉴定", "other": "其他依法不计入期限的情形"}
PUBLIC_USER = "public"  # the audit trail's actor for what a complainant does on the tracking page
_DUMMY_SALT = "0" * 16
_DUMMY_HASH = code_hash(_DUMMY_SALT, "NOT-A-CODE")


class TrackingRefused(Exception):
    """The tracking number and query code do not match a complaint (never says which one is wrong)."""

    message = "登记编号或者查询码不正确"


def complaint_of_instance(session: Session, instance_id: str) -> Complaint:
    found = session.scalar(select(Complaint).where(Complaint.instance_id == instance_id))
    if found is None:
        raise NotFound(f"process instance {instance_id} is not a complaint")
    return found


def _complaint_for_task(session: Session, task: HumanTask) -> Complaint:
    from engine import instance_data

    data = instance_data(session, task.instance_id, SYSTEM)
    return get_complaint(session, str(data["complaint_id"]))


def submit_task(session: Session, task_id: str, actor: Actor, fields: Mapping[str, Any], *,
                now: datetime | None = None) -> ProcessInstance:
    """Validate a complaint task form, run its checks, complete the task, update the register."""
    task = session.get(HumanTask, str(task_id), populate_existing=True)
    if task is None:
        raise NotFound(f"no task {task_id}")
    if task.status != "ready":
        raise TaskNotReady(f"task {task.title} is already {task.status}", task_id=task.id)
    schema = FORMS.get(task.form_key or "")
    if schema is None:
        raise NotFound(f"task {task.title} has no complaint form ({task.form_key!r})")
    form = schema().load(dict(fields))
    now = now or utcnow()
    complaint = _complaint_for_task(session, task)
    sub = Submission(session, complaint, actor, task, form, rules_of(complaint.rules, session),
                     load_calendar(session), china_today(now), now)
    handler(task.form_key or "")(sub)
    data = {DATA_KEYS[task.form_key or ""]: _jsonable(sub.form), **sub.extra}
    instance = complete_task(session, task.id, actor, data, now=now)
    complaint.updated_at = now
    session.flush()
    return instance


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class PublicView:
    tracking_no: str
    status: str
    received_on: str
    timeline: list[dict[str, str]]
    reply: str | None
    may_rate: bool


def _match(session: Session, tracking_no: str, code: str) -> Complaint:
    complaint = by_tracking_no(session, str(tracking_no or "").strip()[:24])
    salt, stored = (complaint.code_salt, complaint.code_hash) if complaint else (_DUMMY_SALT, _DUMMY_HASH)
    given = code_hash(salt, str(code or "")[:64])
    if not hmac.compare_digest(given, stored) or complaint is None:
        raise TrackingRefused(TrackingRefused.message)
    return complaint


@lru_cache(maxsize=1)
def _tracked_select() -> Select[*tuple[Any, ...]]:
    """What the tracking page reads of a complaint: the code's check and the public fields only."""
    return select(Complaint.id, Complaint.tracking_no, Complaint.code_salt, Complaint.code_hash, Complaint.status,
                  Complaint.received_on, Complaint.reply_text, Complaint.replied_on, Complaint.rating).where(
        Complaint.tracking_no == bindparam("tracking_no"))


@lru_cache(maxsize=1)
def _public_timeline_select() -> Select[*tuple[Any, ...]]:
    return (select(ComplaintEvent.at, ComplaintEvent.public_text)
            .where(ComplaintEvent.complaint_id == bindparam("complaint_id"), ComplaintEvent.public.is_(True))
            .order_by(ComplaintEvent.id))


def track(session: Session, tracking_no: str, code: str) -> PublicView:
    """What the public tracking page shows: status, public timeline and the reply. Nothing else.

    Why columns and statements built once rather than ``_match``'s row: tracking is the portal's
    most frequent request and a complaint row has some forty columns (the identity among them)
    that the page never shows. The refusal is the same, computed the same way, as ``_match``'s."""
    complaint = session.execute(_tracked_select(), {"tracking_no": str(tracking_no or "").strip()[:24]}).first()
    salt, stored = (complaint.code_salt, complaint.code_hash) if complaint else (_DUMMY_SALT, _DUMMY_HASH)
    given = code_hash(salt, str(code or "")[:64])
    if not hmac.compare_digest(given, stored) or complaint is None:
        raise TrackingRefused(TrackingRefused.message)
    events = session.execute(_public_timeline_select(), {"complaint_id": complaint.id})
    return PublicView(complaint.tracking_no, STATUSES.get(complaint.status, complaint.status),
                      complaint.received_on.isoformat(),
                      [{"on": e.at.astimezone(deadlines.CHINA_TZ).date().isoformat(), "text": e.public_text}
                       for e in events], complaint.reply_text,
                      complaint.replied_on is not None and complaint.rating is None)


def rate(session: Session, tracking_no: str, code: str, score: int, comment: str = "") -> None:
    """The complainant's satisfaction (1-5, 互联网+评价), once, after the reply."""
    complaint = _match(session, tracking_no, code)
    if complaint.replied_on is None or complaint.rating is not None:
        raise ValidationError({"score": ["答复后可以评价一次"]})
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise ValidationError({"score": ["评价应为1至5分"]})
    complaint.rating, complaint.rating_comment = score, str(comment or "").strip()[:500]
    log(session, complaint, "rated", public=False, data={"score": score})


def request_review(session: Session, tracking_no: str, code: str, reason: str, *,
                   now: datetime | None = None) -> None:
    """The complainant asks for 复查/复核 from the tracking page (within the window the BPMN keeps open)."""
    complaint = _match(session, tracking_no, code)
    task = session.scalar(select(HumanTask).where(HumanTask.instance_id == complaint.instance_id,
                                                  HumanTask.status == "ready",
                                                  HumanTask.form_key == "complaints.review_request"))
    if task is None:
        raise ValidationError({"reason": ["当前不能请求复查复核（尚未答复、已超过请求期限或者已经复核终结）"]})
    # Recorded as the public's own act, with the clerk role in the complaint's unit for the engine.
    public = Actor.of(PUBLIC_USER, ["complaint_clerk"], [task.unit_id or complaint.unit_id])
    submit_task(session, task.id, public, {"reason": reason}, now=now)


def pause(session: Session, actor: Actor, complaint_id: str, reason: str, note: str = "", *,
          now: datetime | None = None) -> ComplaintPause:
    """Stop the clock for testing or appraisal (the days are not counted and are recorded)."""
    complaint = get_complaint(session, complaint_id, lock=True)
    if actor.user_id not in (complaint.handlers or []) and complaint.unit_id not in actor.unit_ids:
        raise PermissionDenied("only the handling unit may pause a complaint")
    if reason not in PAUSE_REASONS:
        raise ValidationError({"reason": ["请选择暂停计时的情形"]})
    if complaint.status != "accepted" or complaint.handling_due is None:
        raise ValidationError({"reason": ["只有办理中的事项可以暂停计时"]})
    row = ComplaintPause(complaint_id=complaint.id, reason=reason, note=note.strip()[:2000],
                         started_on=china_today(now), recorded_by=actor.user_id)
    session.add(row)
    complaint.status = "paused"
    log(session, complaint, "paused", values={"reason": PAUSE_REASONS[reason]}, actor=actor.user_id, now=now)
    session.flush()
    return row


def resume(session: Session, actor: Actor, complaint_id: str, *, now: datetime | None = None) -> date:
    """Restart the clock: the due date moves by the working days paused; open tasks follow."""
    complaint = get_complaint(session, complaint_id, lock=True)
    row = session.scalar(select(ComplaintPause).where(ComplaintPause.complaint_id == complaint.id,
                                                      ComplaintPause.ended_on.is_(None)))
    if row is None or complaint.handling_due is None:
        raise ValidationError({"complaint": ["没有正在暂停的计时"]})
    calendar, today = load_calendar(session), china_today(now)
    row.ended_on = today
    row.workdays = deadlines.paused_workdays(calendar, row.started_on, today)
    complaint.paused_workdays += row.workdays
    complaint.handling_due = deadlines.shift_by_workdays(calendar, complaint.handling_due, row.workdays)
    complaint.status = "accepted"
    log(session, complaint, "resumed", actor=actor.user_id, data={"workdays": row.workdays,
                                                                  "handling_due": complaint.handling_due.isoformat()},
        now=now)
    due_at = to_due_datetime(complaint.handling_due, "handling_due")
    head = Actor(actor.user_id, actor.roles | {"head"}, actor.unit_ids, actor.is_admin)
    for task in session.scalars(select(HumanTask).where(HumanTask.instance_id == complaint.instance_id,
                                                        HumanTask.status == "ready")):
        if task.due_at is not None and due_at is not None and task.due_at < due_at:
            set_due(session, task.id, head, due_at, f"暂停计时{row.workdays}个工作日（{PAUSE_REASONS[row.reason]}）",
                    now=now)
    session.flush()
    return complaint.handling_due


def reply_urging(session: Session, actor: Actor, urging_id: int, text: str, *, now: datetime | None = None) -> None:
    """The handling unit's head answers a 督办单."""
    row = session.get(UrgingRecord, urging_id)
    if row is None or row.kind == "reminder":
        raise NotFound(f"no urging record {urging_id}")
    if row.unit_id not in actor.unit_ids or "head" not in actor.roles:
        raise PermissionDenied("only a head of the urged unit answers a 督办单")
    if not text.strip():
        raise ValidationError({"text": ["请写明办理情况"]})
    row.replied_at, row.replied_by, row.reply_text = now or utcnow(), actor.user_id, text.strip()[:4000]


def complaint_for_penalty_case(session: Session, case_id: str) -> Complaint | None:
    """The complaint a penalty lead came from (the link back, for the penalty case page)."""
    return session.scalar(select(Complaint).where(Complaint.penalty_case_id == case_id))


def staff_view(session: Session, actor: Actor, complaint_id: str, *, now: datetime | None = None) -> dict[str, Any]:
    """A complaint for staff pages: the complainant clear to the handlers (audited), redacted otherwise."""
    complaint = get_complaint(session, complaint_id)
    if complaint.unit_id not in actor.unit_ids and complaint.registered_unit_id not in actor.unit_ids \
            and not actor.is_admin:
        raise PermissionDenied("this complaint is not in your units")
    return {"id": complaint.id, "tracking_no": complaint.tracking_no, "status": complaint.status,
            "kind": complaint.kind, "channel": complaint.channel, "target": complaint.target_name,
            "facts": complaint.facts, "request": complaint.request, "unit_id": complaint.unit_id,
            "received_on": complaint.received_on.isoformat(),
            "handling_due": complaint.handling_due.isoformat() if complaint.handling_due else None,
            "penalty_case_id": complaint.penalty_case_id, "duplicates": complaint.duplicate_of,
            "complainant": identity_or_redacted(session, actor, complaint, "staff_view", now)}

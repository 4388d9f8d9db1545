"""Signing a draw record as a step of the process: each signer's inbox task 签署抽取记录.

Why a process of its own (``inspection_draw_signing``) and not a task in ``inspection_plan``: a
draw is finished in three places, and only one of them has a plan instance. The plan process
draws a one-off plan after approval; the scheduler draws each period of a recurring plan in one
transaction with no process at all; a head's re-draw replaces a draw from the plan page. Every
path ends in ``service.start_inspections``, which calls ``start_signing``: one small instance
per finished draw, a multi-instance user task over the signers (``draw_record.signers``),
assigned to each, not reassignable (a signature is personal), due ``[signing] record_workdays``
working days after the draw. A real task gets the inbox, the due date, the assigned / due-soon /
overdue notices (``processes/directory/notifications.py``) and ``/oversight`` for free.

Inspections do not wait for the signatures (README, "The signed draw record"): the draw is
committed before it is made and anyone can recompute it, so holding the inspection window
back would cost more than it protects; an unsigned record past its due day is flagged instead.

``sign`` is the one action: the task form (through ``service.submit_task``) and the plan page's
form both call it. It signs through ``draw_record.sign_draw`` (throttled, audited, refused
twice) and then completes the signer's own task, in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

import signing
from engine import SYSTEM, Actor, cancel, complete_task, start
from engine.clock import china_today
from engine.clock import now as engine_now
from engine.models import HumanTask, ProcessInstance
from engine.scripting import load_calendar
from processes.directory.services import DirectoryError

from . import draw_record
from .models import Draw, DrawSigning, Plan
from .rule_store import effective_rules

SIGN_PROCESS = "inspection_draw_signing"
SIGN_FORM = "inspections.sign_draw"


def signing_of(session: Session, draw_id: str) -> DrawSigning | None:
    return session.get(DrawSigning, draw_id)


def draw_of_instance(session: Session, instance_id: str) -> Draw | None:
    """The draw a signing instance is about (the task page's panel)."""
    draw_id = session.scalar(select(DrawSigning.draw_id).where(DrawSigning.instance_id == instance_id))
    return session.get(Draw, draw_id) if draw_id else None


def start_signing(session: Session, draw: Draw, *, now: datetime | None = None) -> DrawSigning | None:
    """Start the signing step of a finished draw (once; ``None`` for a draw not finished)."""
    existing = signing_of(session, draw.id)
    if existing is not None or draw.status != "drawn":
        return existing
    plan = session.get(Plan, draw.plan_id)
    assert plan is not None
    people = draw_record.signers(session, draw, plan)
    due = load_calendar(session).add_workdays(china_today(now), effective_rules(session).sign_workdays).due
    data = {"draw_id": draw.id, "plan_code": plan.code, "sign_due": due.isoformat(),
            "signers": [{"user_id": p.user_id, "name": p.name, "role": p.role} for p in people]}
    suffix = f"-{draw.period}" if draw.period and not plan.code.endswith(draw.period) else ""
    instance = start(session, SIGN_PROCESS, SYSTEM, data, business_key=f"抽取记录-{plan.code}{suffix}-{draw.seq}",
                     unit_id=plan.unit_id, now=now)
    row = DrawSigning(draw_id=draw.id, instance_id=instance.id, due_on=due, created_at=now or engine_now())
    session.add(row)
    session.flush()
    return row


def cancel_signing(session: Session, actor: Actor, draw: Draw, reason: str, *, now: datetime | None = None) -> None:
    """A re-draw replaced the draw: its unsigned tasks go (signatures already made stay valid)."""
    row = signing_of(session, draw.id)
    if row is None:
        return
    instance = session.get(ProcessInstance, row.instance_id)
    if instance is not None and instance.status in ("running", "stalled", "suspended"):
        cancel(session, row.instance_id, actor, reason, now=now)


def _own_task(session: Session, draw_id: str, user_id: str, task_id: str | None) -> HumanTask | None:
    row = signing_of(session, draw_id)
    if row is None:
        if task_id is not None:
            raise DirectoryError("这项签名任务不属于这次抽取", "passphrase")
        return None
    query = select(HumanTask).where(HumanTask.instance_id == row.instance_id, HumanTask.status == "ready",
                                    HumanTask.form_key == SIGN_FORM, HumanTask.assignee == user_id)
    if task_id is not None:
        query = query.where(HumanTask.id == task_id)
    task = session.scalar(query.limit(1))
    if task is None and task_id is not None:
        raise DirectoryError("这项签名任务不是你的，不能由你签名", "passphrase")
    return task


def sign(session: Session, actor: Actor, draw_id: str, passphrase: str, *, now: datetime | None = None,
         task_id: str | None = None) -> signing.SignatureReport:
    """The signer signs the draw record and their task 签署抽取记录 is completed with it.

    Refusals raise ``DirectoryError`` on ``passphrase`` in Chinese and complete nothing: no
    passphrase, not a signer, already signed, a task that is not theirs, too many attempts, a
    wrong passphrase, no certificate, a signature that did not verify (``draw_record.sign_draw``).
    The task is completed only after a signature that verified is stored.
    """
    if not (passphrase or "").strip():
        raise DirectoryError("请输入签名口令", "passphrase")
    task = _own_task(session, draw_id, actor.user_id, task_id)
    report = draw_record.sign_draw(session, draw_id, actor.user_id, passphrase, now=now)
    if task is not None:
        signed_at = (now or engine_now()).isoformat()
        complete_task(session, task.id, actor, {"signature": {"user_id": actor.user_id, "signed_at": signed_at}},
                      now=now)
    return report


def submit(session: Session, task: HumanTask, actor: Actor, fields: dict[str, Any], *,
           now: datetime | None = None) -> ProcessInstance:
    """The task form's door (``service.submit_task``): refusals as the form's field errors."""
    draw = draw_of_instance(session, task.instance_id)
    if draw is None:
        raise ValidationError({"_schema": ["该任务不属于抽取记录签名"]})
    try:
        sign(session, actor, draw.id, str(fields.get("passphrase") or ""), now=now, task_id=task.id)
    except DirectoryError as exc:
        raise ValidationError({"passphrase": [exc.message]}) from None
    instance = session.get(ProcessInstance, task.instance_id)
    assert instance is not None
    return instance


@dataclass(frozen=True)
class SigningStatus:
    """What the plan page states of a draw's signing step."""

    due_on: date | None
    pending: list[str]
    overdue: bool
    cancelled: bool


def status(session: Session, draw: Draw, *, today: date | None = None) -> SigningStatus:
    """Who still has to sign, by when, and whether that day has passed (``overdue``).

    A superseded draw's step was cancelled by the re-draw: never overdue. A draw finished before
    signing was a step has no due day and is never overdue either (its signers are still listed).
    """
    pending = draw_record.pending_signers(session, draw) if draw.status != "committed" else []
    row = signing_of(session, draw.id)
    cancelled = draw.status == "superseded"
    today = today or china_today()
    overdue = bool(row is not None and pending and not cancelled and today > row.due_on)
    return SigningStatus(row.due_on if row else None, pending, overdue, cancelled)

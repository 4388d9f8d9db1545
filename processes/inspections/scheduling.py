"""Recurring plans: each period's draw happens exactly once, whoever tries and whenever.

Why the guard is a database row and not the leader lock: the lock keeps a second scheduler idle,
but leadership can change hands mid-draw (a lease that lapsed, a restart) and a planner may press
"run now" while the scheduler ticks. So a period's unit of work (the ``ScheduleRun`` row, the
period's plan, its draw and the inspections it starts) is one transaction, and the unique
(schedule, period) constraint lets exactly one transaction commit: a second scheduler fails on the
insert (PostgreSQL makes it wait for the first and then refuse), a scheduler killed mid-draw
leaves nothing (its transaction never committed) and the next tick does the period once.

A run missed while no scheduler ran is caught up once when the scheduler is back within the
schedule's grace (``trigger = catch_up``, recorded with how late it was); later than that, the
period is recorded as ``missed`` and not drawn (a planner may "run now" for the current period).
A schedule's template plan is approved once by the head (``inspection_plan``); periods run only
while it is published and the schedule not paused.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from engine import Actor, audit
from engine.calendar import CHINA_TZ
from engine.clock import now as engine_now
from engine.scripting import load_calendar
from processes.directory.services import DirectoryError

from . import recurrence
from .models import Plan, Schedule, ScheduleRun
from .plans import create_plan
from .rule_store import effective_rules
from .service import draw_plan

log = logging.getLogger(__name__)
ON_TIME = timedelta(minutes=5)  # later than this after the occurrence counts as a catch-up
RUNNER = f"{socket.gethostname()}:{os.getpid()}"
# How a period's run reads on the schedules page and in ``weijian draw schedules`` (Chinese at the
# source; the English is in this package's catalog, domain.en.po).
OUTCOME_NAMES = {("done", "schedule"): "已按期抽取", ("done", "catch_up"): "已补做抽取",
                 ("done", "manual"): "已立即执行抽取", ("missed", "schedule"): "已错过，未抽取",
                 ("requested", "manual"): "已申请立即执行，待计划批准"}
STATUS_NAMES = {"done": "已抽取", "missed": "已错过", "requested": "待计划批准"}
AWAITING_APPROVAL = ("draft", "submitted", "returned")  # a template plan the head has yet to approve
TRIGGER_NAMES = {"schedule": "按期", "catch_up": "补做", "manual": "立即执行"}


@dataclass(frozen=True)
class ScheduleStatus:
    schedule_id: int
    name: str
    recurrence: str
    paused: bool
    next_period: str | None
    next_run: datetime | None
    last_period: str | None
    last_run: datetime | None
    last_outcome: str | None
    last_note: str | None = None  # how late a catch-up ran, or why a period was missed


def outcome_name(status: str, trigger: str) -> str:
    """The run's outcome in Chinese, e.g. 已立即执行抽取 (done, manual)."""
    return OUTCOME_NAMES.get((status, trigger)) or (
        f"{STATUS_NAMES.get(status, status)}（{TRIGGER_NAMES.get(trigger, trigger)}）")


def create_schedule(session: Session, actor: Actor, *, name: str, template_plan_id: str, recurrence_spec: str,
                    window_days: int = 60, grace_hours: int | None = None, now: datetime | None = None) -> Schedule:
    """A recurring plan: the template plan (approved once) and when each period is drawn."""
    try:
        recurrence.parse(recurrence_spec)
    except recurrence.RecurrenceError as exc:
        raise DirectoryError(f"周期设置不正确：{exc}", "recurrence") from exc
    plan = session.get(Plan, template_plan_id)
    if plan is None or plan.kind == "national":
        raise DirectoryError("周期计划须以年度或者季度抽查计划为模板", "template_plan_id")
    if plan.seed_source == "witnessed":
        # each period is drawn unattended in one transaction; nobody could enter a public value
        # produced after the period's snapshot, so the period would wait for ever (or be drawn
        # with a seed the approved plan did not name)
        raise DirectoryError("周期计划由系统按期自动抽取，不能由见证人录入公开随机数；"
                             "请将随机种子来源改为系统生成后再设为周期计划", "template_plan_id")
    if window_days < 1:
        raise DirectoryError("检查时段至少1天", "window_days")
    schedule = Schedule(name=name.strip() or plan.title, template={"plan_id": plan.id, "window_days": window_days},
                        recurrence=" ".join(recurrence_spec.split()),
                        grace_hours=effective_rules(session).grace_hours if grace_hours is None else grace_hours,
                        paused=False, active_from=now or engine_now(), created_by=actor.user_id)
    session.add(schedule)
    session.flush()
    plan.schedule_id = schedule.id
    audit.append(session, actor.user_id, "inspection_schedule_created", now=now,
                 data={"schedule": schedule.id, "plan": plan.id, "recurrence": schedule.recurrence})
    return schedule


def set_paused(session: Session, actor: Actor, schedule_id: int, paused: bool, *, now: datetime | None = None) -> None:
    """Pause or resume. A period that fell due while paused is recorded as missed by the next
    tick after resuming when it is beyond the grace, and drawn once when it is within."""
    schedule = _schedule(session, schedule_id)
    schedule.paused = paused
    audit.append(session, actor.user_id, "inspection_schedule_paused" if paused else "inspection_schedule_resumed",
                 now=now, data={"schedule": schedule.id})


def _schedule(session: Session, schedule_id: int) -> Schedule:
    schedule = session.get(Schedule, schedule_id)
    if schedule is None:
        raise DirectoryError("周期计划不存在", "schedule")
    return schedule


def _period_plan(session: Session, actor: Actor, schedule: Schedule, period: str, due_at: datetime) -> Plan:
    template = session.get(Plan, schedule.template["plan_id"])
    assert template is not None
    start_day = due_at.astimezone(CHINA_TZ).date()
    plan = create_plan(session, actor, title=f"{template.title}（{period}）", kind=template.kind,
                       unit_id=template.unit_id, window_start=start_day,
                       window_end=start_day + timedelta(days=int(schedule.template["window_days"]) - 1),
                       categories=template.params["categories"], scope=template.params["scope_units"],
                       exclusions={k: template.params[k] for k in ("recent_months", "frequency_cap")},
                       seed_source="generated", code=f"{template.code}-{period}")
    plan.params = {**template.params, "scope_units": plan.params["scope_units"]}
    plan.item_ids, plan.schedule_id = list(template.item_ids), schedule.id
    plan.created_by = template.created_by  # the planner answers for (and signs) every period's draw
    plan.status, plan.approved_by, plan.published_at = "published", template.approved_by, due_at
    return plan


def _unit_of_work(session: Session, actor: Actor, schedule: Schedule, period: str, due_at: datetime, now: datetime,
                  trigger: str, started: Callable[[ScheduleRun], None] | None = None) -> ScheduleRun:
    run = ScheduleRun(schedule_id=schedule.id, period=period, due_at=due_at, ran_at=now, status="done",
                      trigger=trigger, runner=f"{RUNNER}:{uuid.uuid4().hex[:6]}")
    session.add(run)
    session.flush()  # the guard: a second runner of this period fails (or waits, then fails) here
    if started is not None:
        started(run)
    plan = _period_plan(session, actor, schedule, period, due_at)
    draw = draw_plan(session, actor, plan, period=period, now=now)
    run.plan_id, run.draw_id = plan.id, draw.id
    late = now - due_at
    run.detail = f"比计划时间晚{late.total_seconds() / 3600:.1f}小时补做" if trigger == "catch_up" else None
    audit.append(session, actor.user_id, "inspection_schedule_ran", now=now, data={
        "schedule": schedule.id, "period": period, "trigger": trigger, "draw": draw.id})
    return run


def run_schedule(session: Session, schedule_id: int, *, now: datetime | None = None,
                 started: Callable[[ScheduleRun], None] | None = None) -> str:
    """One schedule's due period, in the caller's transaction (the caller commits; an
    ``IntegrityError`` at commit means another runner did it). Returns what happened."""
    now = now or engine_now()
    schedule = _schedule(session, schedule_id)
    template = session.get(Plan, schedule.template["plan_id"])
    if schedule.paused or template is None or template.status != "published":
        return "idle"
    rule = recurrence.parse(schedule.recurrence)
    due = rule.latest_due(now, load_calendar(session))
    if due is None or due[1] < schedule.active_from:
        return "idle"
    period, due_at = due
    if session.scalar(select(ScheduleRun.id).where(ScheduleRun.schedule_id == schedule.id,
                                                   ScheduleRun.period == period)) is not None:
        return "done before"
    actor = Actor.of(template.approved_by or "system", ["head"], [template.unit_id])
    if now - due_at > timedelta(hours=schedule.grace_hours):
        session.add(ScheduleRun(schedule_id=schedule.id, period=period, due_at=due_at, ran_at=now, status="missed",
                                trigger="schedule", runner=RUNNER,
                                detail=f"超过{schedule.grace_hours}小时的补做时限"))
        session.flush()
        audit.append(session, "system", "inspection_schedule_missed", now=now,
                     data={"schedule": schedule.id, "period": period})
        return f"missed {period}"
    trigger = "catch_up" if now - due_at > ON_TIME else "schedule"
    _unit_of_work(session, actor, schedule, period, due_at, now, trigger, started)
    return f"{trigger} {period}"


def run_due(session_factory: Any, *, now: datetime | None = None) -> list[str]:
    """The scheduler's tick: every schedule, each in its own transaction."""
    with session_factory() as session:
        ids = list(session.scalars(select(Schedule.id).where(Schedule.paused.is_(False)).order_by(Schedule.id)))
    report = []
    for schedule_id in ids:
        with session_factory() as session:
            try:
                outcome = run_schedule(session, schedule_id, now=now)
                session.commit()
            except (IntegrityError, OperationalError) as exc:
                session.rollback()
                outcome = f"taken by another runner ({type(exc).__name__})"
            except Exception:
                session.rollback()
                log.exception("recurring plan %s failed; retried next tick", schedule_id)
                outcome = "failed"
        if outcome != "idle":
            report.append(f"schedule {schedule_id}: {outcome}")
    return report


def run_now(session: Session, actor: Actor, schedule_id: int, *, now: datetime | None = None) -> ScheduleRun:
    """"Run now": the current period, once (refused when it already ran). Caller commits.

    Before the head approved the template plan the period is only *requested* (a ``requested``
    row holds the period, so the guard is the same): the planner need not come back after the
    approval, which draws it (``run_requested``). Nothing is drawn from an unapproved plan."""
    now = now or engine_now()
    schedule = _schedule(session, schedule_id)
    template = session.get(Plan, schedule.template["plan_id"])
    if template is None or template.status not in (*AWAITING_APPROVAL, "published"):
        raise DirectoryError("周期计划的模板计划已撤回或者不存在", "schedule")
    period, due_at = recurrence.parse(schedule.recurrence).period_of(now, load_calendar(session))
    earlier = session.scalar(select(ScheduleRun).where(ScheduleRun.schedule_id == schedule.id,
                                                       ScheduleRun.period == period))
    if earlier is not None and earlier.status == "requested":
        raise DirectoryError(f"{period}期已申请立即执行，负责人批准计划后即抽取", "schedule")
    if earlier is not None:
        raise DirectoryError(f"{period}期已经执行；需要重新抽取的，请说明理由后重新抽取", "schedule")
    if template.status != "published":
        run = ScheduleRun(schedule_id=schedule.id, period=period, due_at=due_at, ran_at=now, status="requested",
                          trigger="manual", runner=RUNNER, detail="待负责人批准计划后抽取")
        session.add(run)
        session.flush()
        audit.append(session, actor.user_id, "inspection_schedule_run_requested", now=now,
                     data={"schedule": schedule.id, "period": period})
        return run
    return _unit_of_work(session, actor, schedule, period, due_at, now, "manual")


def run_requested(session: Session, plan: Plan, *, now: datetime | None = None) -> list[ScheduleRun]:
    """Draw the periods a planner asked to run before ``plan`` (a schedule's template) was approved;
    called in the approval's transaction, right after it published the plan. Each period once: the
    request row gives way to the run in the same transaction, so a scheduler tick that sees the
    period finds it taken either way."""
    now = now or engine_now()
    if plan.status != "published" or plan.schedule_id is None:
        return []
    schedule = session.get(Schedule, plan.schedule_id)
    if schedule is None or schedule.template.get("plan_id") != plan.id:
        return []  # a period's own plan, not the template
    actor = Actor.of(plan.approved_by or "system", ["head"], [plan.unit_id])
    done = []
    for request in list(session.scalars(select(ScheduleRun).where(ScheduleRun.schedule_id == schedule.id,
                                                                  ScheduleRun.status == "requested"))):
        period, due_at = request.period, request.due_at
        session.delete(request)
        session.flush()
        done.append(_unit_of_work(session, actor, schedule, period, due_at, now, "manual"))
    return done


def statuses(session: Session, *, now: datetime | None = None) -> list[ScheduleStatus]:
    """Each schedule's next run, last run and outcome (the admin page and ``weijian draw schedules``)."""
    now = now or engine_now()
    calendar = load_calendar(session)
    out = []
    for schedule in session.scalars(select(Schedule).order_by(Schedule.id)):
        last = session.scalar(select(ScheduleRun).where(ScheduleRun.schedule_id == schedule.id)
                              .order_by(ScheduleRun.due_at.desc(), ScheduleRun.id.desc()).limit(1))
        upcoming = None if schedule.paused else recurrence.parse(schedule.recurrence).next_after(now, calendar)
        out.append(ScheduleStatus(schedule.id, schedule.name, schedule.recurrence, schedule.paused,
                                  upcoming[0] if upcoming else None, upcoming[1] if upcoming else None,
                                  last.period if last else None, last.ran_at if last else None,
                                  outcome_name(last.status, last.trigger) if last else None,
                                  last.detail if last else None))
    return out

"""Absences with a substitute (代理/顶岗): who stands in for whom, and when.

An officer on leave (or their head for them) records a period, China-time days inclusive, and a
colleague of the same unit. During it, a task that becomes theirs (a new task whose assignee
expression names them, or a reassignment to them) goes to the substitute instead, owned by the
absent officer so every view shows "代 X 办理" from the task row itself. The engine asks
``route_to_substitute`` (registered on import, ``engine.routing``) once, when the task is
assigned; no inbox read looks substitutions up.

Per task the substitute must be someone who could hold it, by the same rules as a head's
reassignment (``holder_problem``): active, holding the task's role, in the task's unit or above,
the task not bound to its member, and not recused in that case (the package's
``holder_refusal``). Otherwise the task stays with the absent officer, the refusal is on the
case's audit chain, and heads see it on the oversight page.

Tasks the officer already holds when the period starts are not moved behind their back: the
account page lists them and hands them over in one action (``hand_over_held``), each checked
the same way. Why not automatically at the start: a task already begun is often better finished
by its holder before leaving, and a transfer the holder or head chose is one nobody is
surprised by.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.actor import Actor
from engine.delegation import hand_over
from engine.errors import ConflictError, NotFound, PermissionDenied
from engine.models import HumanTask
from engine.routing import Route, RouteRequest, register_router

from .models import ROLES, Substitution, Unit, User

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
NOTE_MAX = 1000


class SubstitutionError(Exception):
    """Refused input: ``message`` is the zh-CN sentence for the person, ``field`` the form field."""

    def __init__(self, message: str, field: str = "_") -> None:
        super().__init__(message)
        self.message, self.field = message, field


def local_today(now: datetime) -> date:
    return now.astimezone(LOCAL_TZ).date()


def active_substitution(session: Session, user_id: str, now: datetime) -> Substitution | None:
    """The absence of ``user_id`` in force at ``now`` (one indexed read)."""
    today = local_today(now)
    return session.scalar(select(Substitution).where(
        Substitution.user_id == user_id, Substitution.starts_on <= today, Substitution.ends_on >= today,
        Substitution.ended_at.is_(None)).order_by(Substitution.starts_on).limit(1))


def absences_of(session: Session, user_ids: set[str], now: datetime) -> dict[str, Substitution]:
    """Those of ``user_ids`` absent at ``now`` (the oversight page: one query for the page)."""
    ids = sorted(u for u in user_ids if u)
    if not ids:
        return {}
    today = local_today(now)
    rows = session.scalars(select(Substitution).where(
        Substitution.user_id.in_(ids), Substitution.starts_on <= today, Substitution.ends_on >= today,
        Substitution.ended_at.is_(None)))
    return {row.user_id: row for row in rows}


def holder_problem(session: Session, user: User | None, *, candidate_role: str | None, unit_id: str | None,
                   instance_id: str, process_key: str | None, reassignable: bool = True) -> str | None:
    """Why ``user`` may not hold this task (a zh-CN sentence), or None: who could have claimed
    it, the task not bound to its member, and not recused in its case."""
    if user is None or not user.active:
        return "代理人不是在职人员。"
    if not reassignable:
        return "本任务须由本人办理（本人的签名、意见或者声明），不能交由他人代理。"
    if candidate_role and candidate_role not in (user.roles or []):
        return f"{user.display_name}不具有办理本任务所需的角色（{ROLES.get(candidate_role, candidate_role)}）。"
    if unit_id is not None:
        path = session.scalar(select(Unit.path).where(Unit.id == unit_id)) or f"/{unit_id}/"
        if f"/{user.unit_id}/" not in path:
            return f"{user.display_name}不在本任务所属单位。"
    from processes.registry import package_for_process

    package = package_for_process(process_key)
    if package is not None and package.holder_refusal is not None:
        return package.holder_refusal(session, instance_id, user.id)
    return None


@register_router
def route_to_substitute(session: Session, request: RouteRequest, now: datetime) -> Route | None:
    """The engine's question when a task becomes ``request.assignee``'s (see the module)."""
    absence = active_substitution(session, request.assignee, now)
    if absence is None:
        return None
    substitute = session.get(User, absence.substitute_id)
    problem = holder_problem(session, substitute, candidate_role=request.candidate_role, unit_id=request.unit_id,
                             instance_id=request.instance_id, process_key=request.process_key,
                             reassignable=request.reassignable)
    data = {"substitution_id": absence.id}
    if problem:
        return Route(absence.substitute_id, refused=problem, data=data)
    return Route(absence.substitute_id, owner=request.assignee, data=data)


def record_absence(session: Session, actor: Actor, user: User, substitute_id: str, starts_on: date | None,
                   ends_on: date | None, note: str, now: datetime) -> Substitution:
    """Record ``user``'s absence with ``substitute_id``; bad input raises ``SubstitutionError``
    and writes nothing. The caller checks that ``actor`` may do it for ``user`` and commits."""
    note = (note or "").strip()
    if starts_on is None:
        raise SubstitutionError("请填写休假开始日期。", "starts_on")
    if ends_on is None:
        raise SubstitutionError("请填写休假结束日期。", "ends_on")
    if ends_on < starts_on:
        raise SubstitutionError("结束日期不能早于开始日期。", "ends_on")
    if ends_on < local_today(now):
        raise SubstitutionError("结束日期已经过去，无需登记。", "ends_on")
    if len(note) > NOTE_MAX:
        raise SubstitutionError(f"说明不能超过{NOTE_MAX}个字。", "note")
    substitute_id = (substitute_id or "").strip()
    if not substitute_id:
        raise SubstitutionError("请选择代理人。", "substitute_id")
    if substitute_id == user.id:
        raise SubstitutionError("不能指定本人为自己的代理人。", "substitute_id")
    substitute = session.get(User, substitute_id)
    if substitute is None or not substitute.active:
        raise SubstitutionError("所选代理人不存在或者已停用。", "substitute_id")
    if substitute.unit_id != user.unit_id:
        raise SubstitutionError(f"代理人须与{user.display_name}同一单位；{substitute.display_name}在其他单位。",
                                "substitute_id")
    clash = _overlapping(session, user.id, starts_on, ends_on)
    if clash is not None:
        raise SubstitutionError(f"该期间与已登记的休假（{clash.starts_on}至{clash.ends_on}）重叠，"
                                "请先提前结束或者调整已登记的休假。", "starts_on")
    away = _overlapping(session, substitute.id, starts_on, ends_on)
    if away is not None:
        raise SubstitutionError(f"代理人{substitute.display_name}在该期间也已登记休假"
                                f"（{away.starts_on}至{away.ends_on}），请另选代理人。", "substitute_id")
    row = Substitution(user_id=user.id, substitute_id=substitute.id, starts_on=starts_on, ends_on=ends_on,
                       note=note or None, created_by=actor.user_id, created_at=now)
    session.add(row)
    session.flush()
    audit.append(session, actor.user_id, "substitution_recorded", now=now,
                 data={"id": row.id, "user": user.id, "substitute": substitute.id, "from": starts_on.isoformat(),
                       "to": ends_on.isoformat(), "note": note or None})
    return row


def end_absence(session: Session, actor: Actor, row: Substitution, now: datetime) -> None:
    """End an absence early (or withdraw one not yet begun); audited. Tasks already routed to the
    substitute stay with them (a head or the substitute moves them back if wanted)."""
    if row.ended_at is not None or row.ends_on < local_today(now):
        raise SubstitutionError("该休假已经结束。")
    row.ended_at, row.ended_by = now, actor.user_id
    audit.append(session, actor.user_id, "substitution_ended", now=now,
                 data={"id": row.id, "user": row.user_id, "substitute": row.substitute_id})


def _overlapping(session: Session, user_id: str, starts_on: date, ends_on: date) -> Substitution | None:
    return session.scalar(select(Substitution).where(
        Substitution.user_id == user_id, Substitution.ended_at.is_(None),
        Substitution.starts_on <= ends_on, Substitution.ends_on >= starts_on).limit(1))


def planned_absences(session: Session, user_id: str, now: datetime) -> list[Substitution]:
    """The person's absences in force or to come, soonest first."""
    return list(session.scalars(select(Substitution).where(
        Substitution.user_id == user_id, Substitution.ended_at.is_(None),
        Substitution.ends_on >= local_today(now)).order_by(Substitution.starts_on)))


def held_tasks(session: Session, user_id: str) -> list[HumanTask]:
    """Open tasks the person holds themselves (not ones they delegated)."""
    return list(session.scalars(select(HumanTask).where(
        HumanTask.status == "ready", HumanTask.assignee == user_id).order_by(HumanTask.due_sort, HumanTask.id)))


@dataclass
class HandOver:
    task: HumanTask
    problem: str | None


def hand_over_held(session: Session, actor: Actor, absence: Substitution, now: datetime) -> list[HandOver]:
    """Hand every task the absent person holds to the substitute, each checked and moved on its
    own (a savepoint per task); a task the substitute may not hold stays, with the reason."""
    substitute = session.get(User, absence.substitute_id)
    outcomes: list[HandOver] = []
    for task in held_tasks(session, absence.user_id):
        if task.delegation == "pending":
            continue
        problem = holder_problem(session, substitute, candidate_role=task.candidate_role, unit_id=task.unit_id,
                                 instance_id=task.instance_id, process_key=task.process_key)
        if problem is None:
            savepoint = session.begin_nested()
            try:
                hand_over(session, task.id, actor, absence.substitute_id, "休假期间交由代理人办理", now=now)
                savepoint.commit()
            except PermissionDenied:
                savepoint.rollback()
                problem = "本任务须由本人办理（本人的签名、意见或者声明），不能交由他人代理。"
            except (ConflictError, NotFound):
                savepoint.rollback()
                problem = "该任务刚被他人办理或者变更。"
        outcomes.append(HandOver(task, problem))
    return outcomes

"""Head oversight (督办): every open task of a head's unit and the units below it, who holds it,
when it is due and how overdue, and reassigning a selection in bulk with one reason.

Why a page of its own: the inbox is a person's own work (theirs and what they may claim); a
head needs the other view, everyone's open work in their units, to even out the load and to
move the work of someone absent. Each task of a bulk reassignment is checked and changed on its
own (a savepoint per task): a refused task gets a sentence saying why and stays as it was, the
others are reassigned, each with the reason in its case's audit chain, and the new holder is
told through the notifications (the bell, and an immediate email if they asked for one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from engine import Actor, ConflictError, InvalidData, NotFound, PermissionDenied, assign
from engine import permissions as perm
from engine.db import utcnow
from engine.models import HumanTask
from integrations.celery_app import dispatch_after_commit
from processes.directory.models import ROLES, Unit, User
from processes.directory.notifications import announce_assigned
from processes.directory.services import display_names, staff_in_units
from processes.directory.substitution import absences_of
from processes.registry import package_for_process

from .casework import Deadline, deadline, process_names
from .extensions import dbs
from .i18n import domain_text
from .security import current_actor

bp = Blueprint("oversight", __name__)
SHOWN = 200  # rows on one page; the filters narrow it down
MAX_SELECTED = 200
UNASSIGNED = "-"  # the officer filter's value for tasks nobody holds


def is_head(actor: Actor) -> bool:
    return actor.is_admin or perm.HEAD_ROLE in actor.roles


@dataclass
class OversightRow:
    task: HumanTask
    process_name: str
    holder_name: str
    deadline: Deadline
    owner_name: str = ""
    away: bool = False  # the holder is absent now: their substitute may not hold this task

    @property
    def assignee_name(self) -> str:
        return self.holder_name


@dataclass
class OversightQuery:
    officer: str = ""
    process: str = ""
    overdue: bool = False

    @classmethod
    def parse(cls, args: dict[str, str]) -> OversightQuery:
        return cls(str(args.get("officer") or "")[:64], str(args.get("process") or "")[:200],
                   args.get("overdue") in ("1", "on", "true"))

    def params(self) -> dict[str, Any]:
        values = {"officer": self.officer, "process": self.process, "overdue": "1" if self.overdue else ""}
        return {k: v for k, v in values.items() if v}


def open_tasks(actor: Actor, query: OversightQuery, now: datetime) -> tuple[list[HumanTask], bool]:
    """Ready tasks of the actor's units (an administrator: every unit), soonest due first."""
    conditions = [HumanTask.status == "ready"]
    if not actor.is_admin:
        conditions.append(HumanTask.unit_id.in_(sorted(actor.unit_ids)))
    if query.officer == UNASSIGNED:
        conditions.append(HumanTask.assignee.is_(None))
    elif query.officer:
        conditions.append(HumanTask.assignee == query.officer)
    if query.process:
        conditions.append(HumanTask.process_key == query.process)
    if query.overdue:
        conditions.append(HumanTask.due_sort < now)
    rows = list(dbs().scalars(select(HumanTask).where(*conditions)
                              .order_by(HumanTask.due_sort, HumanTask.id).limit(SHOWN + 1)))
    return rows[:SHOWN], len(rows) > SHOWN


def refusal(actor: Actor, task: HumanTask, user: User | None, task_unit_path: str | None) -> str | None:
    """Why ``user`` may not be given ``task`` by ``actor`` (a sentence), or None when they may.

    Eligible is who could have claimed the task: an active member of staff, in the actor's
    units, holding the task's candidate role, in the task's unit or a unit above it."""
    if not perm.can_reassign(actor, task):
        return _("You may reassign only tasks of your own units.")
    if user is None or not user.active:
        return _("The chosen person is not an active member of staff.")
    if not perm.can_see_unit(actor, user.unit_id):
        return _("%(name)s is not in your units.", name=user.display_name)
    if task.candidate_role and task.candidate_role not in (user.roles or []):
        return _("%(name)s does not hold the role this task needs (%(role)s).", name=user.display_name,
                 role=domain_text(ROLES.get(task.candidate_role, task.candidate_role)))
    if task.unit_id is not None and f"/{user.unit_id}/" not in (task_unit_path or f"/{task.unit_id}/"):
        return _("%(name)s is not in the unit this task belongs to.", name=user.display_name)
    return case_refusal(task, user)


def case_refusal(task: HumanTask, user: User) -> str | None:
    """The case's own reason, from its package (e.g. recused in this penalty case, Art. 43)."""
    package = package_for_process(task.process_key)
    if package is not None and package.holder_refusal is not None:
        return package.holder_refusal(dbs(), task.instance_id, user.id)
    return None


def unit_paths(unit_ids: set[str | None]) -> dict[str, str]:
    ids = sorted(u for u in unit_ids if u)
    return dict(dbs().execute(select(Unit.id, Unit.path).where(Unit.id.in_(ids))).all()) if ids else {}


@dataclass
class Outcome:
    task: HumanTask
    error: str | None


def reassign_many(actor: Actor, task_ids: list[str], assignee: str, reason: str) -> list[Outcome]:
    """Reassign each visible task to ``assignee``; a refused one is rolled back to its savepoint
    and reported, the others stand. The caller commits."""
    session = dbs()
    tasks = list(session.scalars(select(HumanTask).where(HumanTask.id.in_(task_ids))))
    tasks = [t for t in tasks if perm.can_see_task(actor, t)]
    user = session.get(User, assignee)
    paths = unit_paths({t.unit_id for t in tasks})
    now = utcnow()
    outcomes: list[Outcome] = []
    for task in sorted(tasks, key=lambda t: (t.due_sort, t.id)):
        problem = refusal(actor, task, user, paths.get(task.unit_id or ""))
        if problem is None and task.assignee == assignee:
            problem = _("%(name)s already holds this task.", name=user.display_name if user else assignee)
        if problem is None:
            savepoint = session.begin_nested()
            try:
                assign(session, task.id, actor, assignee, reason, now=now)
                savepoint.commit()
            except PermissionDenied:
                savepoint.rollback()
                problem = _("This task belongs to its holder personally (a member's signature, opinion or "
                            "declaration) and cannot be passed to anyone else.")
            except (ConflictError, NotFound):
                savepoint.rollback()
                problem = _("This task was completed or changed by someone else just now.")
        outcomes.append(Outcome(task, problem))
    done = [o.task for o in outcomes if o.error is None]
    if done:
        announce_assigned(session, [(t, t.assignee or assignee) for t in done], now)  # a substitute, maybe
    return outcomes


@bp.get("/oversight")
@login_required
def index() -> str:
    actor = current_actor()
    if not is_head(actor):
        abort(403)
    query = OversightQuery.parse(request.args.to_dict())
    now = utcnow()
    tasks, more = open_tasks(actor, query, now)
    names = process_names()
    people = display_names(dbs(), [t.assignee for t in tasks] + [t.owner for t in tasks])
    away = absences_of(dbs(), {t.assignee for t in tasks if t.assignee}, now)
    rows = [OversightRow(t, names.get(t.process_key, t.process_key), people.get(t.assignee or "", t.assignee or ""),
                         deadline(t.due_at, now, t.due_uncertain), people.get(t.owner or "", t.owner or ""),
                         bool(t.assignee in away and t.delegation is None)) for t in tasks]
    staff = staff_in_units(dbs(), actor.unit_ids)
    return render_template("oversight.html", rows=rows, more=more, query=query, processes=names, staff=staff,
                           unassigned=UNASSIGNED, shown=SHOWN)


@bp.post("/oversight/reassign")
@login_required
def reassign() -> Response | tuple[str, int]:
    actor = current_actor()
    if not is_head(actor):
        abort(403)
    task_ids = [t for t in request.form.getlist("task_id") if t][:MAX_SELECTED]
    assignee = request.form.get("assignee", "").strip()
    reason = request.form.get("reason", "").strip()
    back = redirect(url_for("oversight.index", **OversightQuery.parse(request.form.to_dict()).params()))
    problem = (_("Select at least one task.") if not task_ids else
               _("Choose the person to give the tasks to.") if not assignee else
               _("Give the reason for reassigning these tasks.") if not reason else
               _("The reason is longer than 1000 characters.") if len(reason) > 1000 else None)
    if problem:
        flash(problem, "error")
        return back
    try:
        outcomes = reassign_many(actor, task_ids, assignee, reason)
    except InvalidData as exc:
        dbs().rollback()
        flash(exc.message, "error")
        return back
    dbs().commit()
    dispatch_after_commit(dbs())
    moved = sum(1 for o in outcomes if o.error is None)
    if moved:
        flash(_("%(n)s tasks reassigned.", n=moved), "success")
    for outcome in outcomes:
        if outcome.error:
            flash(_("Not reassigned: %(task)s (%(case)s): %(why)s", task=domain_text(outcome.task.title),
                    case=outcome.task.business_key or "—", why=outcome.error), "error")
    if not outcomes:
        flash(_("None of the selected tasks is one you may see."), "error")
    return back


def eligible_staff(actor: Actor, task: HumanTask) -> list[User]:
    """Who the task page offers for a reassignment: those ``refusal`` would accept."""
    paths = unit_paths({task.unit_id})
    return [u for u in staff_in_units(dbs(), actor.unit_ids, task.candidate_role)
            if refusal(actor, task, u, paths.get(task.unit_id or "")) is None]

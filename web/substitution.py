"""The account page's absence section (代理/顶岗): record a period with a substitute, end it
early, and hand the tasks one already holds to the substitute in one action.

An officer records their own absence; a head may record one for the staff of their units. The
rules (same unit, not oneself, no overlap, per-task eligibility) are in
``processes.directory.substitution``; this module only reads the form and reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from engine import Actor
from engine.db import utcnow
from engine.models import HumanTask
from integrations.celery_app import dispatch_after_commit
from processes.directory.models import Substitution, User
from processes.directory.notifications import announce_assigned
from processes.directory.services import display_names, staff_in_units
from processes.directory.substitution import (
    SubstitutionError,
    active_substitution,
    end_absence,
    hand_over_held,
    held_tasks,
    planned_absences,
    record_absence,
)

from .extensions import dbs
from .i18n import domain_text
from .oversight import is_head
from .security import current_actor, current_db_user

bp = Blueprint("substitution", __name__)


@dataclass
class AbsencePanel:
    """What the account page shows: the periods, whom one may name, the tasks to hand over."""

    absences: list[Substitution]
    names: dict[str, str]
    colleagues: list[User]
    staff: list[User]  # a head: whom they may record an absence for (else empty)
    held: list[HumanTask] = field(default_factory=list)
    current: Substitution | None = None


def _manageable(actor: Actor, user: User | None) -> bool:
    return user is not None and (user.id == actor.user_id or (is_head(actor) and user.unit_id in actor.unit_ids))


@bp.app_template_global()
def absence_panel() -> AbsencePanel:
    """Only the account page calls this (a few small queries, never on inbox reads)."""
    actor = current_actor()
    session, now = dbs(), utcnow()
    me = session.get(User, actor.user_id)
    assert me is not None
    absences = planned_absences(session, actor.user_id, now)
    colleagues = [u for u in staff_in_units(session, [me.unit_id]) if u.id != me.id]
    staff = [u for u in staff_in_units(session, actor.unit_ids) if u.id != me.id] if is_head(actor) else []
    current = active_substitution(session, actor.user_id, now)
    held = held_tasks(session, actor.user_id) if current is not None else []
    names = display_names(session, [a.substitute_id for a in absences])
    return AbsencePanel(absences, names, colleagues, staff, held, current)


def _day(name: str) -> date | None:
    text = request.form.get(name, "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise SubstitutionError("日期格式应为 年-月-日（例如 2026-12-08）。", name) from None


def _refused(message: str) -> tuple[str, int]:
    """The account page again with the refusal and what was typed (a redirect lost every field)."""
    flash(message, "error")
    return render_template("account.html", user=current_db_user(), errors={},
                           absence_entered=request.form), 422


@bp.post("/account/absences")
@login_required
def record() -> Response | tuple[str, int]:
    actor = current_actor()
    back = redirect(url_for("auth.account") + "#absence")
    user = dbs().get(User, request.form.get("user_id", "").strip() or actor.user_id)
    if not _manageable(actor, user):
        return _refused(_("You may record an absence only for yourself or, as a head, for the staff of your units."))
    assert user is not None
    try:
        row = record_absence(dbs(), actor, user, request.form.get("substitute_id", ""), _day("starts_on"),
                             _day("ends_on"), request.form.get("note", ""), utcnow())
    except SubstitutionError as exc:
        dbs().rollback()
        return _refused(exc.message)
    substitute = dbs().get(User, row.substitute_id)
    dbs().commit()
    flash(_("Absence recorded: from %(start)s to %(end)s, %(name)s stands in.", start=row.starts_on.isoformat(),
            end=row.ends_on.isoformat(), name=substitute.display_name if substitute else row.substitute_id),
          "success")
    missing = sorted(set(user.roles or []) - set(substitute.roles if substitute else []) - {"admin"})
    if missing:
        flash(_("Note: %(name)s does not hold every role of yours; tasks that need it stay with you.",
                name=substitute.display_name if substitute else row.substitute_id), "warning")
    return back


def _own_row(absence_id: int) -> Substitution:
    actor = current_actor()
    row = dbs().get(Substitution, absence_id)
    if row is None or not _manageable(actor, dbs().get(User, row.user_id)):
        abort(404)
    return row


@bp.post("/account/absences/<int:absence_id>/end")
@login_required
def end(absence_id: int) -> Response:
    row = _own_row(absence_id)
    try:
        end_absence(dbs(), current_actor(), row, utcnow())
    except SubstitutionError as exc:
        dbs().rollback()
        flash(exc.message, "error")
        return redirect(url_for("auth.account") + "#absence")
    dbs().commit()
    flash(_("The absence was ended; new tasks come to you again."), "success")
    return redirect(url_for("auth.account") + "#absence")


@bp.post("/account/absences/<int:absence_id>/hand-over")
@login_required
def hand_over(absence_id: int) -> Response:
    """Every task the absent person holds goes to the substitute, each checked on its own."""
    row = _own_row(absence_id)
    now = utcnow()
    if (current := active_substitution(dbs(), row.user_id, now)) is None or current.id != row.id:
        flash(_("Tasks are handed over only while the absence is in force."), "error")
        return redirect(url_for("auth.account") + "#absence")
    outcomes = hand_over_held(dbs(), current_actor(), row, now)
    moved = [o.task for o in outcomes if o.problem is None]
    announce_assigned(dbs(), [(t, row.substitute_id) for t in moved], now)
    dbs().commit()
    dispatch_after_commit(dbs())
    if moved:
        flash(_("%(n)s tasks handed over to the substitute.", n=len(moved)), "success")
    for outcome in outcomes:
        if outcome.problem:
            flash(_("Not handed over: %(task)s (%(case)s): %(why)s", task=domain_text(outcome.task.title),
                    case=outcome.task.business_key or "—", why=outcome.problem), "error")
    if not outcomes:
        flash(_("You hold no open task."), "info")
    return redirect(url_for("auth.account") + "#absence")

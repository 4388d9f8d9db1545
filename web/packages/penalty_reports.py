"""一案一卡两次报告 in the web: which case-card reports are due or overdue, recording the reports
made, and the execution summary (remaining amount, surcharge so far, instalments) shown with a
penalty case and its payment task.

Why a blueprint of its own: the card export (``penalty.casecards``) stays where it was; this adds
the deadlines and the record of reports beside it without growing ``web/packages/penalty.py``
(which registers this blueprint through its ``WEB_PACKAGE``).
Recording a report is a POST with CSRF; a case outside the user's units, or one that owes no
such report, refuses the whole request and nothing is written.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import login_required
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from engine.clock import china_today
from engine.clock import now as engine_now
from forms.registry import _flatten
from processes import penalty
from processes.penalty.execution import ExecutionState
from processes.penalty.models import PenaltyCase
from web.extensions import dbs
from web.security import current_actor, require_roles

bp = Blueprint("card_reports", __name__)
SHOW = ("overdue", "open", "all")


def _listing(report: str, show: str) -> list[Any]:
    actor = current_actor()
    return penalty.reports_due(dbs(), today=china_today(), report=report, only_open=show == "open",
                               only_overdue=show == "overdue", unit_ids=None if actor.is_admin else actor.unit_ids)


@bp.route("/reports/casecards/due", methods=["GET", "POST"])
@login_required
@require_roles("head", "legal_reviewer", "officer")
def due() -> str | Response | tuple[str, int]:
    """The reports of a kind (first/second) that are overdue, not yet made, or all; POST records some."""
    report = request.values.get("report", "first")
    show = request.values.get("show", "overdue")
    if report not in penalty.REPORTS or show not in SHOW:
        return render_template("card_reports.html", items=[], report="first", show="overdue",
                               error=gettext("Choose the first or the second report.")), 422
    error = ""
    if request.method == "POST":
        actor = current_actor()
        try:
            rows = penalty.record_reports(dbs(), actor.user_id, request.form.getlist("case_id"), report,
                                          now=engine_now(), unit_ids=None if actor.is_admin else actor.unit_ids)
        except ValidationError as exc:
            dbs().rollback()
            error = "；".join(m for ms in _flatten(exc.messages).values() for m in ms)
        else:
            dbs().commit()
            flash(gettext("Report recorded for %(count)d case(s).", count=len(rows)), "success")
            return redirect(url_for("card_reports.due", report=report, show=show))
    return render_template("card_reports.html", items=_listing(report, show), report=report, show=show,
                           error=error), 422 if error else 200


def execution_summary(case: PenaltyCase) -> ExecutionState | None:
    """What a payment needs to be recorded correctly: owed, paid, surcharge so far, instalments."""
    return penalty.execution_state_of(dbs(), case, china_today())


def pending_arrangement(case: PenaltyCase) -> dict[str, Any] | None:
    return penalty.pending_arrangement(dbs(), case)


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {"penalty_execution": execution_summary, "penalty_pending_arrangement": pending_arrangement,
            "card_report_labels": penalty.REPORTS}

"""The complaint rules on the administration pages: every period and threshold of
``processes/complaints/rules.toml`` with its source and [law]/[practice]/[unconfirmed] label,
changed with a reason (audited) for complaints registered afterwards, as penalty rules are.
The page templates are penalty's, given this package's endpoints and texts."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from processes.complaints.rule_store import reset_rule, rule_history, rule_state, rule_states, set_rule
from processes.penalty.rule_catalogue import RuleValueError, display
from web.extensions import dbs
from web.security import current_actor, require_roles

bp = Blueprint("admin_complaint_rules", __name__, url_prefix="/admin/complaints")
ENDPOINTS = {"edit_endpoint": "admin_complaint_rules.rule_edit", "reset_endpoint": "admin_complaint_rules.rule_reset"}


@bp.before_request
@login_required
@require_roles("admin")
def _admins_only() -> None:
    return None


def _texts() -> dict[str, str]:
    return {"page_title": _("Complaint rules"), "page_heading": _("Complaint rules: periods and thresholds"),
            "page_intro": _("Defaults come from processes/complaints/rules.toml. A change applies to complaints "
                            "registered after it; earlier ones keep the values they were registered under. [law] "
                            "values are fixed by statute: change them only when the law changes.")}


@bp.get("/rules")
def rules() -> str:
    return render_template("admin/rules.html", sections=rule_states(dbs()), display=display, **ENDPOINTS, **_texts())


def _rule_page(key: str, values: dict[str, Any], error: str | None = None, status: int = 200) -> Any:
    state = rule_state(dbs(), key)
    if state is None:
        abort(404)
    return render_template("admin/rules_edit.html", state=state, values=values, error=error,
                           history=rule_history(dbs(), key), display=display, **ENDPOINTS,
                           page_heading=_("Change a complaint rule")), status


@bp.route("/rules/<key>", methods=["GET", "POST"])
def rule_edit(key: str) -> Any:
    state = rule_state(dbs(), key)
    if state is None:
        abort(404)
    if request.method == "GET":
        return _rule_page(key, {"value": display(state.value), "reason": ""})
    values = {k: request.form.get(k, "") for k in ("value", "reason")}
    try:
        set_rule(dbs(), current_actor().user_id, key, values["value"], values["reason"],
                 confirm_law=request.form.get("confirm_law") == "1")
    except RuleValueError as exc:
        dbs().rollback()
        return _rule_page(key, values, exc.message, 422)
    dbs().commit()
    flash(_("%(key)s changed. New complaints use the new value; earlier ones keep theirs.", key=key), "success")
    return redirect(url_for("admin_complaint_rules.rules"))


@bp.post("/rules/<key>/reset")
def rule_reset(key: str) -> Any:
    if rule_state(dbs(), key) is None:
        abort(404)
    try:
        reset_rule(dbs(), current_actor().user_id, key, request.form.get("reason", ""))
    except RuleValueError as exc:
        dbs().rollback()
        return _rule_page(key, {"value": "", "reason": request.form.get("reason", "")}, exc.message, 422)
    dbs().commit()
    flash(_("%(key)s is back to the default in rules.toml for new complaints.", key=key), "success")
    return redirect(url_for("admin_complaint_rules.rules"))

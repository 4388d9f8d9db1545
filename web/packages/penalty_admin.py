"""Administration of the penalty rules: periods and thresholds (``rules.toml``) and the DMN tables.

Why a page and not the files: an agency changes a practice period or a hearing threshold
without shell access or a redeploy by hand. Every change needs a reason, lands in the database
(so web, scheduler and Celery workers agree) and in the system audit chain; ``[law]`` entries
need an explicit confirmation. New cases get the new values, running cases keep theirs.
Registered (with its tabs on the administration pages) by ``web.packages.penalty.WEB_PACKAGE``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from processes.penalty import rule_overrides
from processes.penalty.dmn_overrides import current_table, dmn_history, reset_table, save_table, table_files
from processes.penalty.dmn_tables import WILDCARD, DecisionTable, DmnTableError, Row
from web.extensions import dbs
from web.rules_admin import add_rule_pages
from web.security import current_actor, require_roles

bp = Blueprint("admin_rules", __name__, url_prefix="/admin")


@bp.before_request
@login_required
@require_roles("admin")
def _admins_only() -> None:
    return None


def _texts() -> dict[str, str]:
    return {}  # the templates' own texts are penalty's


add_rule_pages(bp, rule_overrides, _texts,
               lambda key: _("%(key)s changed. New cases use the new value; running cases keep theirs.", key=key),
               lambda key: _("%(key)s is back to the default in rules.toml for new cases.", key=key))


@bp.get("/decision-tables")
def tables() -> str:
    listing = []
    for name in table_files():
        table, row = current_table(dbs(), name)
        listing.append((name, table, row))
    return render_template("admin/rules_dmn.html", tables=listing)


def _known_table(file_name: str) -> None:
    if file_name not in table_files():
        abort(404)


def _table_page(file_name: str, table: DecisionTable | None = None, error: DmnTableError | None = None,
                reason: str = "", status: int = 200) -> Any:
    current, row = current_table(dbs(), file_name)
    return render_template("admin/rules_dmn_edit.html", file_name=file_name, table=table or current, current=row,
                           error=error, reason=reason, history=dmn_history(dbs(), file_name),
                           wildcard=WILDCARD), status


def posted_rows(table: DecisionTable) -> list[dict[str, Any]]:
    """The rows of the posted form in their new order: deleted rows dropped, the blank new row
    taken only when something was typed into it (``pos-*`` fields give the order)."""
    count = request.form.get("rows", type=int) or 0
    found: list[tuple[float, int, int, dict[str, Any]]] = []
    for index in [*(str(i) for i in range(count)), "new"]:
        if request.form.get(f"del-{index}") == "1":
            continue
        row: dict[str, Any] = {
            "description": request.form.get(f"desc-{index}", ""),
            "inputs": [request.form.get(f"in-{index}-{j}", "") for j in range(len(table.inputs))],
            "outputs": [request.form.get(f"out-{index}-{j}", "") for j in range(len(table.outputs))]}
        if index == "new" and not (row["description"].strip() or any(
                v.strip() not in ("", WILDCARD) for v in row["inputs"]) or any(v.strip() for v in row["outputs"])):
            continue
        try:
            position = float(request.form.get(f"pos-{index}", "") or 0)
        except ValueError:
            position = float(count + 1)
        found.append((position, 0 if index == "new" else 1, len(found), row))
    return [row for *_key, row in sorted(found, key=lambda item: item[:3])]


@bp.route("/decision-tables/<file_name>", methods=["GET", "POST"])
def table_edit(file_name: str) -> Any:
    _known_table(file_name)
    if request.method == "GET":
        return _table_page(file_name)
    current, _row = current_table(dbs(), file_name)
    rows = posted_rows(current)
    reason = request.form.get("reason", "")
    try:
        save_table(dbs(), current_actor(), file_name, rows, reason)
    except DmnTableError as exc:
        dbs().rollback()
        shown = DecisionTable(**{**current.__dict__, "rows": [Row(r["description"], r["inputs"], r["outputs"])
                                                             for r in rows]})
        return _table_page(file_name, shown, exc, reason, 422)
    dbs().commit()
    flash(_("Decision table %(name)s saved and deployed as a new version. Running cases keep theirs.",
            name=file_name), "success")
    return redirect(url_for("admin_rules.tables"))


@bp.post("/decision-tables/<file_name>/reset")
def table_reset(file_name: str) -> Any:
    _known_table(file_name)
    try:
        reset_table(dbs(), current_actor(), file_name, request.form.get("reason", ""))
    except DmnTableError as exc:
        dbs().rollback()
        return _table_page(file_name, None, exc, request.form.get("reason", ""), 422)
    dbs().commit()
    flash(_("Decision table %(name)s is back to the file version for new cases.", name=file_name), "success")
    return redirect(url_for("admin_rules.tables"))

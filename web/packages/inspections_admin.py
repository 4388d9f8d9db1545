"""Recurring plans and the inspection directories on the staff side.

Schedules: each schedule's next run, last run and outcome (``scheduling.statuses``), pause,
resume and "run now" (the current period, exactly once: ``scheduling.run_now`` is refused when
the period already ran, whoever ran it). Planners (officers) and heads use it.

Directory imports: the item list (抽查事项清单), entity profiles and the inspector roster from a
CSV or XLSX file. Why the page only shows errors and never a partial result: ``imports.import_rows``
checks every row and writes nothing unless all are good, so the page lists every wrong row and
column and the person fixes the file and sends it again. Heads and administrators only.
"""

from __future__ import annotations

import zipfile
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from engine.calendar import CHINA_TZ
from integrations.celery_app import dispatch_after_commit
from processes.directory.services import DirectoryError
from processes.inspections import imports, scheduling
from processes.inspections.models import Schedule
from web.extensions import dbs
from web.security import current_actor, require_roles

bp = Blueprint("inspections_admin", __name__, url_prefix="/inspections")
PLANNERS = ("officer", "head")
MAX_IMPORT_BYTES = 5_000_000
COLUMNS = {
    "items": "事项编码, 专业类别, 抽查事项, 检查依据, 检查内容（多项以|分隔）",
    "entities": "统一社会信用代码, 经营状态, 信用等级, 投诉举报次数, 最近检查日期, 行政区划代码, 纬度, 经度",
    "inspectors": "用户名, 执法证号, 有效期起, 有效期止, 专业特长, 亲属任职单位, 曾任职单位",
}


@bp.context_processor
def _column_labels() -> dict[str, Any]:
    """Row errors name their column by the file's header (``imports.COLUMN_LABELS``)."""
    return {"column_labels": imports.COLUMN_LABELS}


@bp.get("/schedules")
@login_required
@require_roles(*PLANNERS)
def schedules() -> str:
    rows = scheduling.statuses(dbs())
    plans = {s.id: s.template.get("plan_id") for s in dbs().query(Schedule).all()}
    return render_template("inspections/schedules.html", rows=rows, plans=plans, tz=CHINA_TZ)


def _schedule_action(schedule_id: int, action: str) -> Response:
    actor = current_actor()
    if dbs().get(Schedule, schedule_id) is None:
        abort(404)
    try:
        if action == "run":
            run = scheduling.run_now(dbs(), actor, schedule_id)
            message = (_("Period %(period)s will be drawn as soon as the head approves the plan.", period=run.period)
                       if run.status == "requested" else _("Period %(period)s drawn.", period=run.period))
        else:
            scheduling.set_paused(dbs(), actor, schedule_id, action == "pause")
            message = _("Schedule paused.") if action == "pause" else _("Schedule resumed.")
    except DirectoryError as exc:
        dbs().rollback()
        flash(exc.message, "error")
    else:
        dbs().commit()
        dispatch_after_commit(dbs())
        flash(message, "success")
    return redirect(url_for("inspections_admin.schedules"))


@bp.post("/schedules/<int:schedule_id>/pause")
@login_required
@require_roles(*PLANNERS)
def pause(schedule_id: int) -> Response:
    return _schedule_action(schedule_id, "pause")


@bp.post("/schedules/<int:schedule_id>/resume")
@login_required
@require_roles(*PLANNERS)
def resume(schedule_id: int) -> Response:
    return _schedule_action(schedule_id, "resume")


@bp.post("/schedules/<int:schedule_id>/run")
@login_required
@require_roles(*PLANNERS)
def run(schedule_id: int) -> Response:
    return _schedule_action(schedule_id, "run")


@bp.get("/directories")
@login_required
@require_roles("head")
def imports_index() -> str:
    return render_template("inspections/imports.html", kinds=imports.KINDS, columns=COLUMNS, kind=None,
                           errors=[], imported=None)


@bp.route("/directories/<kind>", methods=["GET", "POST"])
@login_required
@require_roles("head")
def import_kind(kind: str) -> Any:
    if kind not in imports.KINDS:
        abort(404)
    if request.method == "GET":
        return render_template("inspections/imports.html", kinds=imports.KINDS, columns=COLUMNS, kind=kind,
                               errors=[], imported=None)
    upload = request.files.get("file")
    errors: list[imports.RowError] = []
    imported = None
    if upload is None or not upload.filename:
        errors = [imports.RowError(0, "-", _("Choose a CSV or XLSX file."))]
    elif not upload.filename.lower().endswith((".csv", ".xlsx")):
        errors = [imports.RowError(0, "-", _("Only CSV and XLSX files can be imported."))]
    else:
        content = upload.read(MAX_IMPORT_BYTES + 1)
        if len(content) > MAX_IMPORT_BYTES:
            errors = [imports.RowError(0, "-", _("The file is larger than 5 MB."))]
        else:
            try:
                imported = imports.import_rows(dbs(), current_actor(), kind, upload.filename, content)
            except imports.ImportRefused as exc:
                dbs().rollback()
                errors = exc.errors
            except (ValueError, KeyError, OSError, zipfile.BadZipFile, DirectoryError) as exc:
                dbs().rollback()
                errors = [imports.RowError(0, "-", _("The file cannot be read: %(error)s", error=str(exc)[:200]))]
            else:
                dbs().commit()
                flash(_("%(n)d rows imported.", n=imported), "success")
                return redirect(url_for("inspections_admin.import_kind", kind=kind))
    return render_template("inspections/imports.html", kinds=imports.KINDS, columns=COLUMNS, kind=kind,
                           errors=errors, imported=imported), 422


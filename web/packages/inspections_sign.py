"""Signing a draw record on the plan page, and its verification report (HTML and PDF).

The form here and the signer's inbox task 签署抽取记录 are one action (``draw_signing.sign``):
signing here completes the task. Looks and behaves like the deliberation signature: the signer
types their own signing passphrase (POSTed, never kept in the session, a log line or an error
message), the server unlocks their key for this one request and signs the canonical draw record;
every stored signature is verified again from the stored bytes each time the page or the report
is shown (VALID/INVALID, who, when, certificate serial). There is no route that edits a draw:
a wrong draw is re-drawn with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask import Blueprint, abort, flash, make_response, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

import signing
from integrations.celery_app import dispatch_after_commit
from processes.directory.services import DirectoryError
from processes.inspections import draw_record, draw_signing
from processes.inspections.models import Draw
from web.extensions import dbs
from web.security import current_actor

bp = Blueprint("inspections_sign", __name__, url_prefix="/inspections")


@dataclass
class DrawSignatures:
    """What the plan page shows of one draw's record."""

    record_id: str | None = None
    verification: signing.RecordVerification | None = None
    pending: list[str] = field(default_factory=list)
    problem: str | None = None
    due_on: date | None = None
    overdue: bool = False


def draw_signatures(draws: list[Draw]) -> dict[str, DrawSignatures]:
    out: dict[str, DrawSignatures] = {}
    for draw in draws:
        if draw.status == "committed":
            continue
        step = draw_signing.status(dbs(), draw)
        entry = DrawSignatures(pending=step.pending, due_on=step.due_on, overdue=step.overdue)
        try:
            found = draw_record.verification(dbs(), draw.id)
        except signing.SigningError as exc:
            entry.problem = str(exc)
        else:
            if found is not None:
                entry.record_id, entry.verification = found[0].id, found[1]
                entry.problem = found[1].record_problem
        out[draw.id] = entry
    return out


def _draw(draw_id: str) -> Draw:
    from .inspections import _visible_plan

    draw = dbs().get(Draw, draw_id)
    if draw is None:
        abort(404)
    _visible_plan(current_actor(), draw.plan_id)
    return draw


@bp.post("/draws/<draw_id>/sign")
@login_required
def sign(draw_id: str) -> Response:
    draw = _draw(draw_id)
    actor = current_actor()
    try:  # the same action as the signer's task 签署抽取记录, which it completes
        report = draw_signing.sign(dbs(), actor, draw.id, request.form.get("passphrase", ""))
    except DirectoryError as exc:
        dbs().rollback()
        flash(exc.message, "error")
    else:
        dbs().commit()
        dispatch_after_commit(dbs())
        flash(_("Signed: the signature over the draw record is valid (certificate %(serial)s).",
                serial=report.certificate_serial or ""), "success")
    return redirect(url_for("inspections.plan", plan_id=draw.plan_id))


def _report(draw_id: str) -> tuple[bytes, signing.RecordVerification]:
    draw = _draw(draw_id)
    found = draw_record.verification(dbs(), draw.id)
    if found is None:
        abort(404)
    record, verification = found
    return record.record_xml, verification


@bp.get("/draws/<draw_id>/record")
@login_required
def record(draw_id: str) -> Response:
    """The draw record as people read it, with every signature checked again."""
    xml, verification = _report(draw_id)
    try:
        html = signing.render_html(xml, verification, draw_record.parameter_labels(dbs(), draw_id))
    except signing.RecordInvalidError as exc:
        return make_response(_("The stored draw record is damaged: %(problem)s", problem=str(exc)), 409)
    return make_response(html)


@bp.get("/draws/<draw_id>/record.pdf")
@login_required
def record_pdf(draw_id: str) -> Response:
    xml, verification = _report(draw_id)
    try:
        pdf = signing.render_pdf(xml, verification, draw_record.parameter_labels(dbs(), draw_id))
    except signing.RecordInvalidError as exc:
        return make_response(_("The stored draw record is damaged: %(problem)s", problem=str(exc)), 409)
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="draw-{draw_id[:36]}.pdf"'
    return response


@bp.get("/draws/<draw_id>/record.xml")
@login_required
def record_xml(draw_id: str) -> Response:
    """The canonical record bytes exactly as signed (for an outside XMLDSig verifier)."""
    xml, _verification = _report(draw_id)
    response = make_response(xml)
    response.headers["Content-Type"] = "application/xml; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="draw-{draw_id[:36]}.xml"'
    return response

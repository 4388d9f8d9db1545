"""The citizen's side of complaints: file one from a phone, follow it with the tracking number and
query code, rate the reply, ask for 复查/复核. No sign-in (``web.public``'s limits and challenge).

What a page may show is decided by ``processes.complaints.track`` (status, public timeline, the
reply): never internal notes, staff names or the complainant's identity. A wrong code and an
unknown number get the same answer. The query code is shown once, on the page that files the
complaint (never stored in clear, never sent back later).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from sqlalchemy import select
from werkzeug.wrappers import Response

from processes import complaints
from processes.complaints.records import KINDS
from processes.directory.models import Entity, Unit
from web.extensions import dbs
from web.public import PublicLink, check_challenge, client_address, limit, register_public_link

bp = Blueprint("public_complaints", __name__, url_prefix="/public/complaints")
PUBLIC_KINDS = {"": "不确定", "complaint": KINDS["complaint"], "report": KINDS["report"]}
CONTACT_FIELDS = ("name", "phone", "email", "address")
MAX_FILES = 10

register_public_link(PublicLink("public_complaints.new", _l("File a complaint or report"),
                                _l("Anonymous reports are accepted. You get a tracking number and a query code.")))
register_public_link(PublicLink("public_complaints.track", _l("Follow a complaint"),
                                _l("Enter the tracking number and query code to see progress and the reply.")))


def _units() -> list[Unit]:
    return list(dbs().scalars(select(Unit).where(Unit.active).order_by(Unit.path)))


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/entities")
def entities() -> Response:
    """Supervised entities by name (public register data: name, credit code, unit), for the form."""
    limit("track", client_address())
    query = (request.args.get("q") or "").strip()[:50]
    rows: list[Entity] = [] if len(query) < 2 else list(dbs().scalars(
        select(Entity).where(Entity.name.contains(query, autoescape=True)).order_by(Entity.name).limit(10)))
    return jsonify([{"credit_code": e.credit_code, "name": e.name, "unit_id": e.unit_id} for e in rows])


def _active_unit(unit_id: str) -> bool:
    return bool(unit_id) and dbs().scalar(select(Unit.id).where(Unit.id == unit_id, Unit.active)) is not None


@bp.route("/new", methods=["GET", "POST"])
def new() -> Any:
    values: dict[str, Any] = {k: request.form.get(k, "") for k in
                              ("kind", "target_name", "entity_id", "unit_id", "facts", "request", "reply_channel",
                               *CONTACT_FIELDS)}
    errors: dict[str, list[str]] = {}
    if request.method == "GET":
        return render_template("public/complaint_new.html", values=values, errors=errors, units=_units(),
                               kinds=PUBLIC_KINDS)
    limit("submit", client_address())
    if request.form.get("website"):  # the honeypot a person never sees
        errors["_"] = [_("The form could not be accepted. Please try again.")]
    elif not check_challenge(request.form.get("challenge")):
        errors["_"] = [_("The anti-robot check did not pass. Wait until the button is enabled, then send again.")]
    contact = next((values[k].strip().lower() for k in ("phone", "email") if values[k].strip()), "")
    if contact and not errors:
        limit("submit_contact", contact)
    entity = dbs().get(Entity, values["entity_id"]) if values["entity_id"] else None
    unit_id = entity.unit_id if entity is not None else values["unit_id"]
    if not errors and not _active_unit(unit_id):  # one row, not the whole list the form shows
        errors["unit_id"] = [_("Choose the area where it happened.")]
    files = [f for f in request.files.getlist("attachments") if f and f.filename][:MAX_FILES + 1]
    if not errors:
        attachments = [complaints.Attachment(f.filename or "file", f.read()) for f in files]
        identity = {k: values[k] for k in CONTACT_FIELDS if values[k].strip()}
        try:
            tracking_no, code = complaints.submit_public(
                dbs(), unit_id=unit_id, facts=values["facts"], target_name=values["target_name"],
                entity_id=entity.credit_code if entity else None, entity_name=entity.name if entity else None,
                request=values["request"], kind=values["kind"] or None, identity=identity or None,
                reply_channel=values["reply_channel"] or None, attachments=attachments)
        except ValidationError as exc:
            dbs().rollback()
            errors = {k: [str(m) for m in (v if isinstance(v, list) else [v])]
                      for k, v in (exc.messages.items() if isinstance(exc.messages, dict) else [("_", exc.messages)])}
        else:
            dbs().commit()
            from integrations.celery_app import dispatch_after_commit

            dispatch_after_commit(dbs())
            response = make_response(render_template("public/complaint_filed.html", tracking_no=tracking_no,
                                                      code=code))
            return _no_store(response)
    dbs().rollback()
    return render_template("public/complaint_new.html", values=values, errors=errors, units=_units(),
                           kinds=PUBLIC_KINDS), 422


@bp.route("/track", methods=["GET", "POST"])
def track() -> Any:
    """Status, timeline and reply for the right number and code; the same refusal for anything else."""
    number = (request.values.get("tracking_no") or "").strip()[:24]
    view = None
    error = None
    if request.method == "POST":
        limit("track", client_address())
        code = (request.form.get("code") or "").strip()[:64]
        action = request.form.get("action", "view")
        try:
            if action == "rate":
                complaints.rate(dbs(), number, code, _int(request.form.get("score")),
                                request.form.get("comment", ""))
                dbs().commit()
            elif action == "review":
                complaints.request_review(dbs(), number, code, request.form.get("reason", ""))
                dbs().commit()
            view = complaints.track(dbs(), number, code)
        except complaints.TrackingRefused:
            dbs().rollback()
            error = _("The tracking number or the query code is not right.")
        except ValidationError as exc:
            dbs().rollback()
            error = "；".join(str(m) for v in (exc.messages.values() if isinstance(exc.messages, dict)
                                               else [exc.messages]) for m in (v if isinstance(v, list) else [v]))
            try:
                view = complaints.track(dbs(), number, code)
            except complaints.TrackingRefused:
                view = None
        page = render_template("public/complaint_track.html", number=number, code=code if view else "", view=view,
                               error=error)
        response = make_response(page, 200 if view else 422)
        return _no_store(response)
    return render_template("public/complaint_track.html", number=number, code="", view=None, error=None)


def _int(value: str | None) -> int:
    try:
        return int(value or "")
    except ValueError:
        return 0

"""The public disclosure site of double-random inspections (一公开) under ``/public/inspections/``:
published plans, disclosed results, disclosed penalty decisions, an entity's page with its QR code
and a printable door poster (PDF), and anyone's re-verification of a draw.

Why every page reads ``processes.inspections.disclosure`` and nothing else: that module picks
what the law asks to publish and leaves out staff names, internal notes and personal data; a
page that printed a row directly could leak them. No sign-in; every page is rate limited per
address (``web.public.limit``), the PDF poster under the stricter ``track`` budget.

The QR code is made with ``segno`` (pure Python, maintained, no image library needed) as inline
SVG; it encodes the entity page's absolute URL, so a phone that scans the door poster opens it.
"""

from __future__ import annotations

import io
from typing import Any

import segno
from flask import Blueprint, abort, make_response, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from werkzeug.wrappers import Response

from engine.clock import china_today
from processes.directory.codes import normalize_credit_code
from processes.directory.models import Entity
from processes.inspections import disclosure, public_changes
from web.extensions import dbs
from web.public import PublicLink, client_address, limit, register_public_link

bp = Blueprint("public_inspections", __name__, url_prefix="/public/inspections")
PAGE = 30

register_public_link(PublicLink("public_inspections.plans", _l("Random inspection plans"),
                                _l("Published double-random inspection plans and how each draw can be checked.")))
register_public_link(PublicLink("public_inspections.results", _l("Inspection results"),
                                _l("Results of random inspections: entity, items, date, result and handling.")))
register_public_link(PublicLink("public_inspections.decisions", _l("Administrative penalty decisions"),
                                _l("Penalty decisions made public; personal data of individuals removed.")))
register_public_link(PublicLink("public_inspections.changes", _l("Corrections and withdrawals"),
                                _l("Every correction or withdrawal of a published item: when, why and what changed.")))


@bp.before_request
def _page_limit() -> None:
    limit("page", client_address())


def _cached(response: Response, seconds: int = 60) -> Response:
    response.headers["Cache-Control"] = f"public, max-age={seconds}"
    return response


def _page() -> int:
    try:
        return max(1, min(int(request.args.get("page") or "1"), 1000))
    except ValueError:
        return 1


@bp.get("/plans")
def plans() -> Response:
    return _cached(make_response(render_template("public/inspection_plans.html",
                                                 plans=disclosure.published_plans(dbs()))))


@bp.get("/results")
def results() -> Response:
    query = (request.args.get("q") or "").strip()[:50]
    page = _page()
    rows = disclosure.disclosed_results(dbs(), query=query or None, limit=PAGE + 1, offset=(page - 1) * PAGE)
    return _cached(make_response(render_template("public/inspection_results.html", rows=rows[:PAGE], query=query,
                                                 page=page, more=len(rows) > PAGE)))


@bp.get("/decisions")
def decisions() -> Response:
    page = _page()
    rows = disclosure.disclosed_decisions(dbs(), limit=PAGE + 1, offset=(page - 1) * PAGE)
    return _cached(make_response(render_template("public/penalty_decisions.html", rows=rows[:PAGE], page=page,
                                                 more=len(rows) > PAGE, periods=disclosure.decision_periods(dbs()))))


@bp.get("/changes")
def changes() -> Response:
    page = _page()
    rows = public_changes.public_log(dbs(), limit=PAGE + 1, offset=(page - 1) * PAGE)
    return _cached(make_response(render_template("public/public_changes.html", rows=rows[:PAGE], page=page,
                                                 more=len(rows) > PAGE)))


def _record(credit_code: str) -> disclosure.EntityRecord:
    record = disclosure.entity_record(dbs(), normalize_credit_code(credit_code)[:40])
    if record is None:
        abort(404)
    return record


def entity_url(credit_code: str) -> str:
    """The absolute address a QR code carries (the page a phone opens)."""
    return url_for("public_inspections.entity", credit_code=credit_code, _external=True)


def qr_svg(data: str, scale: int = 5) -> Markup:
    """An inline SVG QR code (error correction M; no XML declaration, sized by the page)."""
    out = io.BytesIO()
    segno.make(data, error="m").save(out, kind="svg", scale=scale, xmldecl=False, svgns=True,
                                     title="QR", border=2, svgclass="qr")
    return Markup(out.getvalue().decode("utf-8"))  # noqa: S704 - segno's own SVG, no user markup inside


@bp.get("/entities/<credit_code>")
def entity(credit_code: str) -> Response:
    record = _record(credit_code)
    url = entity_url(record.credit_code)
    return _cached(make_response(render_template("public/inspection_entity.html", record=record, url=url)))


@bp.get("/entities/<credit_code>/qr.svg")
def entity_qr(credit_code: str) -> Response:
    """The page's QR code as an image of its own: drawing it (segno choosing the best of eight
    masks) costs more than the rest of the page, a phone that scanned the door has no use for it
    at once (it loads lazily), and it never changes, so browsers and proxies keep it a day."""
    entity = dbs().get(Entity, normalize_credit_code(credit_code)[:40])
    if entity is None:
        abort(404)
    svg = str(qr_svg(entity_url(entity.credit_code)))
    response = make_response(svg)
    response.headers["Content-Type"] = "image/svg+xml; charset=utf-8"
    return _cached(response, 86_400)


@bp.get("/entities/<credit_code>/poster.pdf")
def poster(credit_code: str) -> Response:
    """The door poster (管理相对人公示二维码): name, credit code, grade, the QR code, as PDF."""
    limit("track", client_address())
    record = _record(credit_code)
    url = entity_url(record.credit_code)
    html = render_template("public/inspection_poster.html", record=record, qr=qr_svg(url, scale=10), url=url,
                           today=china_today())
    from processes.penalty.documents import html_to_pdf

    response = make_response(html_to_pdf(html))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="poster-{record.credit_code}.pdf"'
    return _cached(response, 300)


@bp.get("/draws/<draw_id>/verify")
def verify(draw_id: str) -> Any:
    report = disclosure.verify_public(dbs(), draw_id[:36])
    if report is None:
        abort(404)
    return _cached(make_response(render_template("public/inspection_verify.html", report=report)))


@bp.get("/draws/<draw_id>/snapshot.json")
def snapshot(draw_id: str) -> Response:
    """The entity half of the draw's snapshot, byte for byte: SHA-256 it and compare with the
    published ``entities_hash``, then re-run the documented algorithm with the revealed seed."""
    data = disclosure.public_snapshot(dbs(), draw_id[:36])
    if data is None:
        abort(404)
    response = make_response(data)
    response.headers["Content-Type"] = "application/json; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="draw-{draw_id[:36]}-entities.json"'
    return _cached(response, 3600)

"""Errors as people and programs should see them.

HTML pages get a short page in the UI language; ``/api/`` paths get JSON
``{"code", "message", ...}`` with a stable ``code``; the message and field errors are in the UI
language (Chinese domain messages pass through ``web.i18n.domain_text``). Engine errors map to HTTP statuses here,
once: not found → 404, forbidden → 403, conflict → 409, invalid data → 422.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from engine import ConflictError, EngineError, InvalidData, InvalidDefinition, NotFound, PermissionDenied

from .extensions import dbs
from .i18n import domain_text

log = logging.getLogger(__name__)

HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
              409: "conflict", 413: "too_large", 415: "unsupported_media_type", 422: "invalid_data",
              429: "too_many_requests", 500: "server_error"}


def engine_status(exc: EngineError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, PermissionDenied):
        return 403
    if isinstance(exc, ConflictError):
        return 409
    if isinstance(exc, InvalidData | InvalidDefinition):
        return 422
    return 500


def wants_json() -> bool:
    return request.path.startswith("/api/")


def json_error(http_status: int, code: str | None = None, message: str | None = None, **extra: Any) -> Response:
    body = {"code": code or HTTP_CODES.get(http_status, "error"),
            "message": domain_text(message) if message else _default_message(http_status)}
    if isinstance(extra.get("errors"), Mapping):
        extra["errors"] = {str(k): field_messages(v) for k, v in extra["errors"].items()}
    body.update({k: v for k, v in extra.items() if v is not None and k not in ("code", "message")})
    response = jsonify(body)
    response.status_code = http_status
    if http_status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="weijian"'
    return response


def field_messages(value: Any) -> list[str]:
    """A field's messages in the UI language. Marshmallow reports a list's items as ``{index:
    [messages]}``: those come out as ``"index: message"``, so the caller learns which item."""
    if isinstance(value, Mapping):
        return [f"{k}: {m}" for k, v in value.items() for m in field_messages(v)]
    if isinstance(value, list | tuple):
        return [m for v in value for m in field_messages(v)]
    return [domain_text(value)]


def _default_message(status: int) -> str:
    return {
        400: _("The request could not be understood."),
        401: _("Please sign in."),
        403: _("You may not do this."),
        404: _("Not found."),
        405: _("This method is not allowed here."),
        409: _("Someone else changed this first. Reload and try again."),
        413: _("The upload is too large."),
        422: _("Some of the data is not valid."),
        500: _("Something went wrong on our side. The change was not saved."),
    }.get(status, _("Error"))


def error_page(status: int, message: str | None = None) -> tuple[str, int]:
    return render_template("error.html", status=status, message=message or _default_message(status)), status


def init_errors(app: Flask) -> None:
    @app.errorhandler(EngineError)
    def _engine_error(exc: EngineError) -> Any:
        dbs().rollback()
        status = engine_status(exc)
        if status == 500:
            log.exception("engine error", exc_info=exc)
        if wants_json():
            details = {k: v for k, v in exc.details.items() if k in ("field", "task_id", "status")}
            return json_error(status, exc.code, exc.message if status != 404 else _default_message(404),
                              **details)
        return error_page(status, domain_text(exc.message) if status in (409, 422) else None)

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> Any:
        dbs().rollback()
        message = _("The form expired or was not sent from this site. Go back, reload the page and try again.")
        if wants_json():
            return json_error(400, "csrf_failed", message)
        return error_page(400, message)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        dbs().rollback()
        status = exc.code or 500
        if wants_json():
            data = getattr(exc, "data", None) or {}
            messages = data.get("messages") if isinstance(data, dict) else None
            if status == 422 and messages:
                fields = {k: v for loc in messages.values() for k, v in loc.items()}
                return json_error(422, "invalid_data", _default_message(422), errors=fields)
            return json_error(status, message=_default_message(status))
        return error_page(status)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        dbs().rollback()
        if app.testing:
            raise exc  # tests see the traceback, not a polite page
        log.exception("unhandled error on %s", request.path, exc_info=exc)
        if wants_json():
            return json_error(500)
        return error_page(500)

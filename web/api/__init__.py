"""The JSON API under ``/api/v1`` (flask-smorest): everything the UI does, for programs.

Authentication: ``Authorization: Bearer <token>`` for outside systems (tokens are stored
hashed), or the browser's session cookie, in which case unsafe methods must also send the
CSRF token in ``X-CSRFToken`` (the page's ``<meta name="csrf-token">``). Errors are
``{"code", "message", ...}`` JSON (see ``web.errors``). The OpenAPI document is at
``/api/v1/openapi.json``; ``/api/v1/docs`` is a browsable page rendered from it, offline.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, g, render_template, request
from flask_login import current_user
from flask_smorest import Api
from flask_wtf.csrf import validate_csrf
from werkzeug.wrappers import Response
from wtforms.validators import ValidationError as CsrfInvalid

from engine import PermissionDenied
from forms import registered_forms
from web.errors import json_error
from web.extensions import csrf
from web.security import current_actor, user_for_token

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
docs_bp = Blueprint("api_docs_page", __name__)


def authenticate_api() -> Response | None:
    """Bearer token or session (with CSRF header on writes); otherwise 401."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _sep, token = header.partition(" ")
        user = user_for_token(token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            return json_error(401, "invalid_token", "API token missing, unknown, expired or revoked")
        g.token_user = user
        return None
    if current_user.is_authenticated:
        if request.method not in SAFE_METHODS:
            try:
                validate_csrf(request.headers.get("X-CSRFToken", ""))
            except CsrfInvalid:
                return json_error(400, "csrf_failed", "send the page's CSRF token in the X-CSRFToken header")
        return None
    return json_error(401)


def admins_only() -> None:
    """``before_request`` of the admin blueprints, after ``authenticate_api``."""
    if not current_actor().is_admin:
        raise PermissionDenied("administrators only")


@docs_bp.get("/api/v1/docs")
def docs() -> str:
    spec = current_app.extensions["weijian_api"].spec.to_dict()
    operations = []
    for path, methods in sorted(spec.get("paths", {}).items()):
        for method, op in methods.items():
            if method in ("get", "post", "put", "patch", "delete"):
                operations.append((method.upper(), path, op))
    return render_template("api_docs.html", spec=spec, operations=operations)


def init_api(app: Flask) -> None:
    from web.packages import api_blueprints

    from .admin import blp as admin_blp
    from .admin_calendar import blp as admin_calendar_blp
    from .admin_instances import blp as admin_instances_blp
    from .admin_processes import blp as admin_processes_blp
    from .routes import blp as main_blp

    api = Api()
    app.extensions["weijian_api"] = api
    api.init_app(app, spec_kwargs={
        "info": {"description": __doc__},
        "components": {"securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "session": {"type": "apiKey", "in": "cookie", "name": app.config["SESSION_COOKIE_NAME"]}}},
        "security": [{"bearer": []}, {"session": []}],
    })
    # *api_blueprints(): the process packages' own APIs
    for blp in (main_blp, admin_blp, *api_blueprints(), admin_calendar_blp, admin_processes_blp,
                admin_instances_blp):
        csrf.exempt(blp)  # checked in authenticate_api: only session-authenticated writes need it
        api.register_blueprint(blp, url_prefix="/api/v1" + (blp.url_prefix or ""))
    app.register_blueprint(docs_bp)
    _document_forms(api)


def _document_forms(api: Api) -> None:
    """Every task form's schema as an OpenAPI component ``Form.<formKey>``."""
    existing: dict[str, Any] = api.spec.components.schemas
    documented: set[type] = set()
    for form in registered_forms():  # several form keys may share one schema class: document it once
        name = f"Form.{form.key}"
        if name not in existing and form.schema not in documented:
            api.spec.components.schema(name, schema=form.schema)
            documented.add(form.schema)

"""The front door: where a signed-in person lands, and the health check for load balancers."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from .extensions import dbs

bp = Blueprint("home", __name__)


@bp.get("/")
def index() -> Response:
    return redirect(url_for("inbox.index" if current_user.is_authenticated else "auth.login"))


@bp.get("/healthz")
def healthz() -> dict[str, str]:
    dbs().execute(select(1))
    return {"status": "ok"}

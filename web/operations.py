"""What an operator needs from every web process: probes, metrics, request ids, production headers.

* ``/healthz`` answers as long as the process can serve (no database): a load balancer or
  systemd watchdog restarts a process that stops answering it.
* ``/readyz`` answers 200 only when a request could succeed: the database answers, Redis
  answers when configured, and the schema is at the newest migration of every branch (a
  worker started before ``weijian db upgrade`` finished must not get traffic). Otherwise 503
  with the reasons as JSON.
* Every response carries ``X-Request-ID`` (the client's, if well-formed, or a new one); log
  lines and the Celery jobs the request queues carry the same id (``integrations.logs``).
* In production mode: the development secret is refused at start, HSTS is sent, and each
  request is logged as one JSON line (gunicorn's own access log stays off).
"""

from __future__ import annotations

import logging
import time
from functools import lru_cache
from typing import Any

from flask import Blueprint, Flask, current_app, g, jsonify, request
from sqlalchemy import text
from werkzeug.wrappers import Response

from engine.settings import Settings
from integrations.logs import new_request_id, request_id_var

from .extensions import db

log = logging.getLogger("weijian.request")
bp = Blueprint("operations", __name__)
HSTS = "max-age=31536000; includeSubDomains"
PROBE_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def init_operations(app: Flask) -> None:
    """Register the probes, metrics and request hooks; refuse unsafe production settings.

    Call it before the other blueprints so the request id is set before any other hook runs.
    """
    from . import metrics
    from .server import check_production_settings

    if app.config.get("WEIJIAN_PRODUCTION"):
        check_production_settings(app.config["WEIJIAN_SETTINGS"])
    app.before_request(_begin)
    app.after_request(_finish)
    app.teardown_request(_end)
    app.register_blueprint(bp)
    app.register_blueprint(metrics.bp)


def _begin() -> None:
    g.request_started = time.perf_counter()
    g.request_id = new_request_id(request.headers.get("X-Request-ID"))
    g.request_id_token = request_id_var.set(g.request_id)


def _finish(response: Response) -> Response:
    from .metrics import observe_request

    request_id = g.get("request_id")
    if request_id:
        response.headers["X-Request-ID"] = request_id
    if current_app.config.get("WEIJIAN_PRODUCTION"):
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    started = g.get("request_started")
    if started is None:
        return response
    seconds = time.perf_counter() - started
    rule = request.url_rule.rule if request.url_rule is not None else None
    observe_request(request.method, rule, request.endpoint, response.status_code, seconds)
    if current_app.config.get("WEIJIAN_PRODUCTION") and request.path not in PROBE_PATHS:
        log.info("%s %s %s", request.method, request.path, response.status_code,
                 extra={"method": request.method, "path": request.path, "status": response.status_code,
                        "duration_ms": round(seconds * 1000, 2), "remote_addr": request.remote_addr})
    return response


def _end(_exc: BaseException | None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        request_id_var.reset(token)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    settings: Settings = current_app.config["WEIJIAN_SETTINGS"]
    checks: dict[str, str] = {}
    reasons: list[str] = []
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            checks["database"] = "ok"
            try:
                missing = migrations_behind(connection)
            except Exception as exc:
                missing = [f"unknown ({_first_line(exc)})"]
        checks["migrations"] = "behind" if missing else "ok"
        if missing:
            reasons.append("database schema is not at the newest migration (run `weijian db upgrade`): "
                           f"missing {', '.join(missing)}")
    except Exception as exc:
        checks["database"] = "unreachable"
        reasons.append(f"database unreachable: {_first_line(exc)}")
    if settings.redis_url:
        checks["redis"] = _redis_check(settings.redis_url, reasons)
    else:
        checks["redis"] = "not configured"
    body: dict[str, Any] = {"status": "ready" if not reasons else "not ready", "checks": checks}
    if reasons:
        body["reasons"] = reasons
    return jsonify(body), 200 if not reasons else 503


def migrations_behind(connection: Any) -> list[str]:
    """Heads of the migration scripts that the database has not reached (empty: up to date)."""
    from alembic.runtime.migration import MigrationContext

    current = set(MigrationContext.configure(connection).get_current_heads())
    return sorted(set(_script_heads()) - current)


@lru_cache(maxsize=1)
def _script_heads() -> tuple[str, ...]:
    """The newest revision of each branch, read from the migration files once per process."""
    from alembic.script import ScriptDirectory

    from migrations.runner import alembic_config

    return tuple(ScriptDirectory.from_config(alembic_config()).get_heads())


def _redis_check(url: str, reasons: list[str]) -> str:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    try:
        client.ping()
        return "ok"
    except redis.RedisError as exc:
        reasons.append(f"Redis unreachable: {_first_line(exc)}")
        return "unreachable"
    finally:
        client.close()


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [exc.__class__.__name__])[0][:300]

"""Structured logs and the request id that ties a request to the jobs it caused.

In production mode every process (gunicorn workers, Celery workers, the scheduler) writes one
JSON object per line to stderr, so a log shipper can index fields without parsing prose. Each
line carries ``request_id``: the web app takes it from ``X-Request-ID`` (or makes one) and the
outbox relay hands it to the Celery task as a keyword argument, so an operator's failure in a
worker can be traced back to the completion that queued it. The id lives in a ``ContextVar``
so neither the engine nor Celery needs to know about Flask.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

request_id_var: ContextVar[str | None] = ContextVar("weijian_request_id", default=None)

# What we accept from a client's X-Request-ID: short and printable, so it cannot forge log lines.
_VALID_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")
_STANDARD_ATTRS = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime", "request_id"}


def production_mode() -> bool:
    """``WEIJIAN_ENV=production`` (``weijian serve --production`` sets it for its children)."""
    return os.environ.get("WEIJIAN_ENV", "").strip().lower() == "production"


def new_request_id(offered: str | None = None) -> str:
    """The client's id when it is well-formed, else a fresh random one."""
    if offered and _VALID_ID.match(offered):
        return offered
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    return request_id_var.get()


@contextmanager
def request_id_context(request_id: str | None) -> Iterator[None]:
    """Run a block (a Celery job) under ``request_id``; restores the previous one afterwards."""
    token = request_id_var.set(request_id)
    try:
        yield
    finally:
        request_id_var.reset(token)


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` (``None`` outside a request or job)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request id, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
            "pid": record.process,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(production: bool | None = None, level: str | None = None) -> None:
    """Root logger to stderr: JSON lines in production mode, plain text otherwise.

    Idempotent: the handler it installs is replaced, never stacked, when called again.
    """
    production = production_mode() if production is None else production
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_weijian", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._weijian = True  # type: ignore[attr-defined]
    handler.addFilter(RequestIdFilter())
    if production:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level or os.environ.get("WEIJIAN_LOG_LEVEL") or "INFO")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # a line per job run every few seconds


def celery_logging_hook(**_kwargs: object) -> None:
    """Celery's ``setup_logging`` signal: in production mode the worker logs JSON like the web.

    Connected only in production mode, because connecting it at all tells Celery to leave
    logging alone (the development worker keeps Celery's own readable format).
    """
    configure_logging(production=True)


def connect_celery_logging() -> None:
    if production_mode():
        from celery.signals import setup_logging

        setup_logging.connect(celery_logging_hook, weak=False)

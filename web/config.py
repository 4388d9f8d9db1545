"""Web-only settings (uploads, sign-in policy, sessions), read from the environment.

The engine's ``Settings`` carries what every process shares (database, Redis, secret key,
time zone); what only the web app needs lives here, as Flask config keys, overridable per app
(``create_app(settings, {"UPLOAD_MAX_BYTES": ...})``) for tests.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from engine.settings import PROJECT_ROOT, Settings
from integrations.logs import production_mode

MB = 1024 * 1024
LANGUAGES = {"zh_CN": "中文", "en": "English"}


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"environment variable {name} must be an integer, got {raw!r}") from exc


def web_config(settings: Settings) -> dict[str, Any]:
    upload_max = _int("WEIJIAN_UPLOAD_MAX_BYTES", 20 * MB)
    idle = _int("WEIJIAN_SESSION_IDLE_MINUTES", 30)
    production = production_mode()
    return {
        "SECRET_KEY": settings.secret_key,
        "UPLOAD_DIR": os.environ.get("WEIJIAN_UPLOAD_DIR") or str(PROJECT_ROOT / "instance" / "uploads"),
        "UPLOAD_MAX_BYTES": upload_max,
        # The whole request may carry a few files plus the form; per-file limits are checked per field.
        "MAX_CONTENT_LENGTH": _int("WEIJIAN_REQUEST_MAX_BYTES", 4 * upload_max + MB),
        "LOGIN_MAX_FAILURES": _int("WEIJIAN_LOGIN_MAX_FAILURES", 5),
        "LOGIN_LOCK_MINUTES": _int("WEIJIAN_LOGIN_LOCK_MINUTES", 15),
        "SESSION_IDLE_MINUTES": idle,
        "SESSION_MAX_HOURS": _int("WEIJIAN_SESSION_MAX_HOURS", 12),
        "PERMANENT_SESSION_LIFETIME": timedelta(minutes=idle),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Production mode (WEIJIAN_ENV=production) defaults to HTTPS-only cookies (and sends HSTS).
        "SESSION_COOKIE_SECURE": os.environ.get("WEIJIAN_SECURE_COOKIES", "1" if production else "0")
        in ("1", "true", "yes"),
        "WEIJIAN_PRODUCTION": production,
        "SESSION_COOKIE_NAME": "weijian_session",
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the (idle-limited) session
        "BABEL_DEFAULT_LOCALE": "zh_CN",
        "BABEL_DEFAULT_TIMEZONE": settings.timezone,
        "BABEL_TRANSLATION_DIRECTORIES": str(PROJECT_ROOT / "web" / "translations"),
        "INBOX_PAGE_SIZE": 25,
        "API_TITLE": "Weijian API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
    }

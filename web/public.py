"""The public site under ``/public/``: no sign-in, its own rate limits and anti-bot challenge,
its own templates (``templates/public/``) that never share a layout with staff pages.

Why rate limits from ``limits`` (the library under Flask-Limiter): one storage per app, in
memory in the embedded default and in Redis when ``REDIS_URL`` is set, so every web worker of
a scale-out counts the same hits. Why a proof-of-work challenge (ALTCHA's v1 protocol through
the ``altcha`` library, solved in the browser with js-sha256): it needs no third party and no
puzzle for a person to read; a bot must spend CPU per submission. A solved challenge is good
once (its signature is remembered in the same storage until it expires).

Process packages add their public pages as blueprints under ``/public/<name>/`` extending
``public/base.html`` and call ``limit`` and ``check_challenge`` from here.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from altcha import ChallengeOptionsV1, create_challenge_v1, verify_solution_v1
from flask import Blueprint, Flask, current_app, jsonify, render_template
from flask_babel import gettext as _
from limits import parse
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response

bp = Blueprint("public", __name__, url_prefix="/public")
EXTENSION = "weijian_public_limits"

# [practice] what one address or contact may do; WEIJIAN_PUBLIC_LIMIT_<NAME> overrides each.
DEFAULT_LIMITS = {
    "page": "120/minute",
    "challenge": "30/minute",
    "submit": "10/hour",
    "submit_contact": "5/day",
    "track": "20/minute",
}


class PeriodicExpiryMemoryStorage(MemoryStorage):
    """``limits``' in-memory storage, its expired entries dropped once a second instead of 100 times.

    Why: the library starts a new thread 10 ms after any hit to drop expired entries, so a busy
    web worker started one thread per request (about 6 % of a public page's CPU). Expiry only
    frees memory here: the moving window (the only strategy used) compares each entry's time with
    the window itself, so dropping entries a second later changes no decision."""

    STORAGE_SCHEME = ["weijian-memory"]  # noqa: RUF012 - the library reads it as a plain list
    EXPIRY_INTERVAL_S = 1.0

    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802 - the name the library calls (name-mangled)
        if not self.timer.is_alive():
            expire = self._MemoryStorage__expire_events  # type: ignore[attr-defined]
            self.timer = threading.Timer(self.EXPIRY_INTERVAL_S, expire)
            self.timer.daemon = True
            self.timer.start()


def init_public(app: Flask) -> None:
    """Rate-limit storage for this app and the public blueprint."""
    import os

    settings = app.config["WEIJIAN_SETTINGS"]
    uri = app.config.get("PUBLIC_LIMITS_STORAGE") or (settings.redis_url if getattr(settings, "redis_url", None)
                                                     else "weijian-memory://")
    limits = {name: os.environ.get(f"WEIJIAN_PUBLIC_LIMIT_{name.upper()}", rate)
              for name, rate in DEFAULT_LIMITS.items()}
    limits.update(app.config.get("PUBLIC_LIMITS", {}))
    storage = storage_from_string(uri)
    app.extensions[EXTENSION] = (MovingWindowRateLimiter(storage), {n: parse(r) for n, r in limits.items()})
    app.config.setdefault("PUBLIC_POW_MAX_NUMBER", int(os.environ.get("WEIJIAN_PUBLIC_POW_MAX", "50000")))
    app.register_blueprint(bp)


def limit(name: str, *identifiers: str) -> None:
    """Count one hit of ``name`` for these identifiers (an address, a contact); 429 when over."""
    strategy, rates = current_app.extensions[EXTENSION]
    item = rates[name]
    if not strategy.hit(item, name, *identifiers):
        reset = strategy.get_window_stats(item, name, *identifiers).reset_time
        error = TooManyRequests(_("Too many requests. Please wait a moment and try again."))
        error.retry_after = max(1, int(reset - datetime.now(UTC).timestamp()))
        raise error


def client_address() -> str:
    from flask import request

    return request.remote_addr or "unknown"


def _hmac_key() -> str:
    return hashlib.sha256(("public-challenge:" + str(current_app.config["SECRET_KEY"])).encode()).hexdigest()


def new_challenge() -> dict[str, Any]:
    """A fresh challenge (valid ten minutes) as the browser's solver expects it."""
    options = ChallengeOptionsV1(hmac_key=_hmac_key(), max_number=int(current_app.config["PUBLIC_POW_MAX_NUMBER"]),
                                 expires=datetime.now(UTC) + timedelta(minutes=10))
    challenge = create_challenge_v1(options)
    return dict(challenge.to_dict())


def check_challenge(payload: str | None) -> bool:
    """True once for a correctly solved, unexpired challenge made by this server."""
    if not payload or len(payload) > 2000:
        return False
    ok, _error = verify_solution_v1(payload, _hmac_key(), check_expires=True)
    if not ok:
        return False
    strategy, _rates = current_app.extensions[EXTENSION]
    used = hashlib.sha256(payload.encode()).hexdigest()
    return bool(strategy.hit(parse("1/15minutes"), "challenge-used", used))


@bp.before_request
def _page_limit() -> None:
    limit("page", client_address())


@dataclass(frozen=True)
class PublicLink:
    """An entry of the public home page (``label``/``description``: lazy_gettext message ids)."""

    endpoint: str
    label: Any
    description: Any = ""


_LINKS: list[PublicLink] = []


def register_public_link(link: PublicLink) -> None:
    """A process package's public page, listed on ``/public/`` (once per endpoint)."""
    if all(existing.endpoint != link.endpoint for existing in _LINKS):
        _LINKS.append(link)


@bp.get("/")
def index() -> str:
    links = [link for link in _LINKS if link.endpoint in current_app.view_functions]
    return render_template("public/index.html", links=links)


@bp.get("/challenge")
def challenge() -> Response:
    limit("challenge", client_address())
    response = jsonify(new_challenge())
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/weijian-root.cer")
def root_certificate() -> Response:
    """The Weijian root certificate (DER): import it in a PDF reader as a trusted root to see the
    units' seals on decisions as valid (signing/README.md). Public, like any CA certificate."""
    from cryptography.hazmat.primitives.serialization import Encoding
    from flask import abort

    import signing

    from .extensions import dbs

    try:
        der = signing.ca_certificate(dbs()).public_bytes(Encoding.DER)
    except signing.CaNotInitializedError:
        abort(404)
    return Response(der, mimetype="application/pkix-cert",
                    headers={"Content-Disposition": 'attachment; filename="weijian-root.cer"'})


@bp.app_errorhandler(TooManyRequests)
def _too_many(error: TooManyRequests) -> Any:
    from flask import request

    retry = str(getattr(error, "retry_after", 60))
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        response = jsonify({"error": "too_many_requests", "message": error.description})
        response.status_code = 429
    else:
        response = current_app.make_response((render_template("public/error.html", message=error.description), 429))
    response.headers["Retry-After"] = retry
    return response



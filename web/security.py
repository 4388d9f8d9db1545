"""Who is asking: Flask-Login sessions, API tokens, the idle timeout, and the engine ``Actor``.

Every view and API endpoint gets its actor from ``current_actor()``; every permission question
is then answered by ``engine.permissions`` (the one place), so HTML and API agree.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, abort, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import AnonymousUserMixin, LoginManager, UserMixin, current_user, logout_user
from sqlalchemy import delete, select, update
from werkzeug.wrappers import Response

from engine import Actor
from engine.db import utcnow
from processes.directory.models import User
from processes.directory.services import actor_for

from .extensions import dbs
from .models import ApiToken, WebSession

F = TypeVar("F", bound=Callable[..., Any])
login_manager = LoginManager()
TOKEN_PREFIX = "wj_"  # noqa: S105 - a marker that makes leaked tokens greppable, not a secret


class WebUser(UserMixin):
    """Flask-Login's view of a directory ``User`` (the directory stays free of Flask)."""

    def __init__(self, user: User) -> None:
        self.user = user

    def get_id(self) -> str:
        return self.user.id

    @property
    def is_active(self) -> bool:
        return bool(self.user.active)


@login_manager.user_loader
def _load_user(user_id: str) -> WebUser | None:
    user = dbs().get(User, user_id)
    if user is None or not user.active:
        return None
    if session.get("pw") != user.password_changed_at.isoformat():
        return None  # password changed (or reset by an admin) since this session signed in
    if not _session_is_live(user.id):
        return None  # signed out, revoked or past its absolute lifetime: the cookie is worthless
    return WebUser(user)


def _sid_hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def _session_is_live(user_id: str) -> bool:
    sid = session.get("sid")
    if not isinstance(sid, str) or len(sid) > 100:
        return False
    row = dbs().get(WebSession, _sid_hash(sid))
    return row is not None and row.user_id == user_id and row.revoked_at is None and row.expires_at > utcnow()


def start_session(user: User) -> None:
    """A new server-side session (a fresh id: the one before sign-in is never reused)."""
    from flask import current_app
    from flask_login import login_user

    end_session()
    session.clear()
    session.permanent = True
    now = utcnow()
    sid = secrets.token_urlsafe(32)
    dbs().execute(delete(WebSession).where(WebSession.user_id == user.id, WebSession.expires_at < now))
    dbs().add(WebSession(id_hash=_sid_hash(sid), user_id=user.id, created_at=now,
                         expires_at=now + timedelta(hours=current_app.config["SESSION_MAX_HOURS"]),
                         address=(request.remote_addr or "")[:64], user_agent=request.user_agent.string[:300]))
    session["sid"] = sid
    session["pw"] = user.password_changed_at.isoformat()
    session["seen"] = now.isoformat()
    login_user(WebUser(user))


def end_session() -> None:
    """Revoke this browser's server-side session (sign-out); the caller commits."""
    sid = session.get("sid")
    if isinstance(sid, str) and len(sid) <= 100:
        row = dbs().get(WebSession, _sid_hash(sid))
        if row is not None and row.revoked_at is None:
            row.revoked_at = utcnow()


def end_all_sessions(user_id: str) -> int:
    """Revoke every session of a user (password changed or reset); the caller commits."""
    result = dbs().execute(update(WebSession).where(WebSession.user_id == user_id, WebSession.revoked_at.is_(None))
                           .values(revoked_at=utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)


def current_db_user() -> User | None:
    """The signed-in user: a bearer token's user on API calls, else the session's."""
    token_user: User | None = g.get("token_user")
    if token_user is not None:
        return token_user
    if current_user.is_authenticated:
        return cast(WebUser, current_user).user
    return None


def current_actor() -> Actor:
    actor: Actor | None = g.get("actor")
    if actor is None:
        user = current_db_user()
        if user is None:
            abort(401)
        actor = actor_for(dbs(), user)
        g.actor = actor
    return actor


def require_roles(*roles: str) -> Callable[[F], F]:
    """HTML views only for these roles (admins pass everywhere); others get 403."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            actor = current_actor()
            if not actor.is_admin and not actor.roles.intersection(roles):
                abort(403)
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def _idle_timeout() -> Response | None:
    """Sign out a browser session idle for longer than SESSION_IDLE_MINUTES (checked server-side)."""
    from flask import current_app

    if not current_user.is_authenticated:
        return None
    now = datetime.now(UTC)
    seen = session.get("seen")
    limit = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    try:
        expired = seen is None or now - datetime.fromisoformat(seen) > limit
    except ValueError:
        expired = True
    if expired:
        logout_user()
        session.clear()
        if request.path.startswith("/api/"):
            return None  # the API answers 401 itself
        flash(_("Your session timed out. Please sign in again."), "warning")
        return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
    session["seen"] = now.isoformat()
    return None


# -- API tokens ------------------------------------------------------------------------------

def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user: User, name: str, created_by: str, days: int | None = 365) -> tuple[ApiToken, str]:
    """A new token for ``user``; the plain token is returned once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=(name or "api").strip()[:100], token_hash=token_hash(token),
                   prefix=token[:10], created_by=created_by, created_at=utcnow(),
                   expires_at=utcnow() + timedelta(days=days) if days else None)
    dbs().add(row)
    return row, token


def user_for_token(token: str) -> User | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    # The token and its user in one round trip (an outer join: a token whose user is gone is refused).
    found = dbs().execute(select(ApiToken, User).outerjoin(User, User.id == ApiToken.user_id)
                          .where(ApiToken.token_hash == token_hash(token))).first()
    now = utcnow()
    row, user = found if found is not None else (None, None)
    if row is None or row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        return None
    if user is None or not user.active:
        return None
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=5):
        row.last_used_at = now  # committed with the request (coarse, to avoid a write per call)
    return user


def _has_nul(value: Any, depth: int = 0) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if depth > 32:
        return False  # deeper than any form; the schema refuses it anyway
    if isinstance(value, dict):
        return any(_has_nul(k, depth + 1) or _has_nul(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v, depth + 1) for v in value)
    return False


def _refuse_nul() -> None:
    """A NUL character has no place in a path, query, form or JSON text, and PostgreSQL cannot
    store or compare it (the driver raises): refuse it up front with a clean 400."""
    if "\x00" in request.path:
        abort(400)
    for key, values in request.args.lists():
        if _has_nul(key) or any(_has_nul(v) for v in values):
            abort(400)
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if request.is_json:
            body = request.get_json(silent=True)
            if _has_nul(body):
                abort(400)
        elif any(_has_nul(k) or any(_has_nul(v) for v in vs) for k, vs in request.form.lists()):
            abort(400)


def init_security(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = ""
    login_manager.session_protection = "basic"
    login_manager.anonymous_user = AnonymousUserMixin
    app.before_request(_refuse_nul)
    app.before_request(_idle_timeout)

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'")
        if current_user.is_authenticated:
            response.headers.setdefault("Cache-Control", "no-store")
        return response

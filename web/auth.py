"""Sign-in, sign-out, language switch and the user's own password.

Failed sign-ins are counted per login name and source address, with a growing wait after too
many (``processes.directory.throttle``): nobody can lock another person out, and neither the
answer nor its timing tells whether a login name exists. Sessions live on the server
(``web_session``): signing out or changing the password ends them whatever the cookie says.
Every POST carries the CSRF token (Flask-WTF).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_required, logout_user
from werkzeug.wrappers import Response

from processes.directory.services import DirectoryError, SignInRefused, authenticate, set_password

from .config import LANGUAGES
from .extensions import dbs
from .filters import localtime
from .security import current_db_user, end_all_sessions, end_session, start_session

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: an attacker-supplied ``next`` must not send people elsewhere."""
    if not target:
        return url_for("inbox.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("inbox.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    username = request.form.get("username", "").strip()
    if request.method == "GET":
        return render_template("login.html", username="", next=request.args.get("next", ""))
    try:
        user = authenticate(dbs(), username, request.form.get("password", ""), source=request.remote_addr or "",
                            max_failures=current_app.config["LOGIN_MAX_FAILURES"],
                            lock_minutes=current_app.config["LOGIN_LOCK_MINUTES"])
    except SignInRefused as refused:
        dbs().commit()
        if refused.locked_until is not None:
            message = _("Too many attempts: try again after %(time)s.", time=localtime(refused.locked_until))
        else:
            message = _("Wrong login name or password.")
        return render_template("login.html", username=username, error=message,
                               next=request.form.get("next", "")), 401
    lang = session.get("lang")
    start_session(user)
    dbs().commit()
    if lang:
        session["lang"] = lang
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout")
def logout() -> Response:
    lang = session.get("lang")
    end_session()
    dbs().commit()
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/lang")
def switch_language() -> Response:
    lang = request.form.get("lang", "")
    if lang in LANGUAGES:
        session["lang"] = lang
    return redirect(_safe_next(request.form.get("next") or (request.referrer and urlsplit(request.referrer).path)))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account() -> str | Response | tuple[str, int]:
    user = current_db_user()
    assert user is not None
    errors: dict[str, str] = {}
    if request.method == "POST":
        current = request.form.get("current_password", "")
        new = request.form.get("new_password", "")
        try:
            authenticate(dbs(), user.id, current, source=request.remote_addr or "",
                         max_failures=current_app.config["LOGIN_MAX_FAILURES"],
                         lock_minutes=current_app.config["LOGIN_LOCK_MINUTES"])
        except SignInRefused:
            dbs().commit()
            errors["current_password"] = _("The current password is wrong.")
        else:
            if new != request.form.get("confirm_password", ""):
                errors["confirm_password"] = _("The two new passwords differ.")
            else:
                try:
                    set_password(user, new)
                except DirectoryError as exc:
                    errors["new_password"] = exc.message
        if not errors:
            end_all_sessions(user.id)  # every other browser signed in as this user is signed out
            start_session(user)
            dbs().commit()
            flash(_("Your password was changed."), "success")
            return redirect(url_for("auth.account"))
        dbs().rollback()
        return render_template("account.html", user=user, errors=errors), 422
    return render_template("account.html", user=user, errors=errors)

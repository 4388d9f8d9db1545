"""Sign-in, lockout, CSRF on every form, session timeout, safe redirects, language, headers."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.models import AuditEvent
from processes.directory.models import User
from tests.web.conftest import PASSWORD, Browser, ready_task, start_lead


def test_sign_in_and_out(browser: Browser) -> None:
    page = browser.get("/inbox")
    assert page.status_code == 302 and "/login" in page.location
    login = browser.get("/login")
    assert login.status_code == 200 and "登录" in login.get_data(as_text=True)
    response = browser.post("/login", {"username": "officer.a", "password": PASSWORD})
    assert response.status_code == 302 and response.location.endswith("/inbox")
    inbox = browser.get("/inbox")
    assert inbox.status_code == 200 and "张伟" in inbox.get_data(as_text=True)
    assert browser.post("/logout").status_code == 302
    assert browser.get("/inbox").status_code == 302


def test_wrong_password_and_unknown_user_look_the_same(browser: Browser) -> None:
    wrong = browser.post("/login", {"username": "officer.a", "password": "nope"})
    unknown = browser.post("/login", {"username": "ghost", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert "登录名或密码错误" in wrong.get_data(as_text=True) and "登录名或密码错误" in unknown.get_data(as_text=True)


def test_guessing_is_slowed_per_name_and_source_and_locks_nobody_out(browser: Browser, app: Flask) -> None:
    for _ in range(3):  # LOGIN_MAX_FAILURES = 3 in the test app
        assert browser.post("/login", {"username": "officer.b", "password": "x"}).status_code == 401
    waiting = browser.post("/login", {"username": "officer.b", "password": PASSWORD})  # even the right one
    assert waiting.status_code == 401 and "请在" in waiting.get_data(as_text=True)
    for _ in range(3):  # an unknown name answers exactly as a real one: no hint which names exist
        browser.post("/login", {"username": "ghost", "password": "x"})
    ghost = browser.post("/login", {"username": "ghost", "password": "x"})
    assert _message(ghost) == _message(waiting).replace("officer.b", "ghost")
    elsewhere = Browser(app.test_client())  # the owner, from another address, is not locked out
    elsewhere.get("/login")
    ok = elsewhere.client.post("/login", data={"username": "officer.b", "password": PASSWORD,
                                               "csrf_token": elsewhere.token},
                               environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert ok.status_code == 302


def _message(response: Any) -> str:
    found = re.search(r'class="[^"]*error[^"]*"[^>]*>([^<]+)<', response.get_data(as_text=True))
    assert found is not None
    return re.sub(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?", "TIME", found.group(1))


def test_a_copied_cookie_dies_at_sign_out(as_user: Any, app: Flask) -> None:
    officer = as_user("officer.a")
    assert officer.get("/inbox").status_code == 200
    stolen = app.test_client()
    for cookie in officer.client._cookies.values():  # the cookie as it was before signing out
        stolen.set_cookie(cookie.key, cookie.value, domain=cookie.domain)
    assert stolen.get("/inbox").status_code == 200
    officer.post("/logout")
    assert stolen.get("/inbox").status_code == 302  # revoked on the server
    assert stolen.get("/api/v1/me").status_code == 401


def test_sessions_end_after_their_absolute_lifetime(as_user: Any, session: Session) -> None:
    from web.models import WebSession

    officer = as_user("officer.a")
    assert officer.get("/inbox").status_code == 200
    for row in session.scalars(select(WebSession).where(WebSession.user_id == "officer.a")):
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    session.commit()
    assert officer.get("/inbox").status_code == 302  # however active it was


def test_posts_without_csrf_token_are_refused_and_change_nothing(browser: Browser, as_user: Any,
                                                                  session: Session) -> None:
    assert browser.post("/login", {"username": "officer.a", "password": PASSWORD}, csrf=False).status_code == 400
    instance = start_lead(session)
    task = ready_task(session, instance.id)
    officer = as_user("officer.a")
    events = session.scalar(select(func.count()).select_from(AuditEvent))
    for url, data in [(f"/tasks/{task.id}/claim", {}),
                      (f"/tasks/{task.id}", {"source": "other", "summary": "x", "facts": "x", "kinds": "other",
                                             "amount": "1"}),
                      ("/inbox/filters", {"name": "mine"}),
                      ("/logout", {})]:
        response = officer.post(url, data, csrf=False)
        assert response.status_code == 400, url
        assert "表单已过期" in response.get_data(as_text=True)
        forged = officer.post(url, {**data, "csrf_token": "forged-token"}, csrf=False)
        assert forged.status_code == 400
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == events
    assert ready_task(session, instance.id).assignee is None


def test_idle_session_times_out(app: Flask, as_user: Any) -> None:
    officer = as_user("officer.a")
    assert officer.get("/inbox").status_code == 200
    with officer.client.session_transaction() as sess:
        sess["seen"] = (datetime.now(UTC) - timedelta(minutes=31)).isoformat()
    expired = officer.get("/inbox")
    assert expired.status_code == 302 and "/login" in expired.location
    assert officer.get("/inbox").status_code == 302  # signed out for good


def test_password_change_ends_other_sessions(as_user: Any) -> None:
    laptop, tablet = as_user("officer.a"), as_user("officer.a")
    changed = laptop.post("/account", {"current_password": PASSWORD, "new_password": "another-pass-1",
                                       "confirm_password": "another-pass-1"})
    assert changed.status_code == 302
    assert laptop.get("/inbox").status_code == 200
    assert tablet.get("/inbox").status_code == 302
    mismatch = laptop.post("/account", {"current_password": "another-pass-1", "new_password": "abcdefgh1",
                                        "confirm_password": "abcdefgh2"})
    assert mismatch.status_code == 422 and "不一致" in mismatch.get_data(as_text=True)


def test_next_parameter_cannot_leave_the_site(browser: Browser) -> None:
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        response = browser.post("/login", {"username": "officer.a", "password": PASSWORD, "next": target})
        assert response.status_code == 302 and response.location == "/inbox", target
    ok = browser.post("/login", {"username": "officer.a", "password": PASSWORD, "next": "/entities?q=x"})
    assert ok.location == "/entities?q=x"


def test_english_is_switchable(as_user: Any) -> None:
    officer = as_user("officer.a")
    assert "我的待办" in officer.get("/inbox").get_data(as_text=True)
    officer.post("/lang", {"lang": "en", "next": "/inbox"})
    page = officer.get("/inbox").get_data(as_text=True)
    assert "Assigned to me" in page and 'lang="en"' in page
    officer.post("/lang", {"lang": "xx"})
    assert "Assigned to me" in officer.get("/inbox").get_data(as_text=True)


def test_security_headers_and_cookie_flags(browser: Browser) -> None:
    login = browser.login("officer.a")
    cookie = login.headers["Set-Cookie"]
    assert "weijian_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    response = browser.get("/inbox")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"


def test_inactive_user_cannot_sign_in(browser: Browser, session: Session) -> None:
    user = session.get(User, "officer.a2")
    assert user is not None
    user.active = False
    session.commit()
    assert browser.post("/login", {"username": "officer.a2", "password": PASSWORD}).status_code == 401

"""Sign-in, lockout, CSRF on every form, session timeout, safe redirects, language, headers."""

from __future__ import annotations

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


def test_lockout_after_three_failures(browser: Browser, session: Session) -> None:
    for _ in range(2):
        assert browser.post("/login", {"username": "officer.b", "password": "x"}).status_code == 401
    locked = browser.post("/login", {"username": "officer.b", "password": "x"})
    assert "已锁定" in locked.get_data(as_text=True)
    right = browser.post("/login", {"username": "officer.b", "password": PASSWORD})
    assert right.status_code == 401 and "已锁定" in right.get_data(as_text=True)
    session.expire_all()
    user = session.get(User, "officer.b")
    assert user is not None and user.locked_until is not None and user.locked_until > datetime.now(UTC)


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

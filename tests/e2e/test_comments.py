"""Comments in the browser: an officer asks a question on her task, the head reads it on the case
page and answers; both see who said what and when."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from engine import start
from tests.e2e.conftest import ARTIFACTS, LiveServer
from tests.web.conftest import COUNTY_A, ENTITY_A, PASSWORD, actor, ready_task

pytestmark = pytest.mark.e2e


def _sign_in(chromium: Any, server: LiveServer, login: str, width: int = 1280) -> Page:
    page: Page = chromium.new_context(locale="zh-CN", viewport={"width": width, "height": 900}).new_page()
    page.goto(f"{server.url}/login")
    page.fill("#username", login)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("待办")
    return page


def test_officer_asks_on_her_task_and_the_head_answers_on_the_case(chromium: Any, live_server: LiveServer) -> None:
    with live_server.session() as session:
        instance = start(session, "case_lead", actor(session, "officer.a"), {}, "C-COMMENT-1", unit_id=COUNTY_A,
                         entity_id=ENTITY_A, entity_name="康宁诊所")
        session.commit()
        task = ready_task(session, instance.id)
    officer = _sign_in(chromium, live_server, "officer.a")
    officer.goto(f"{live_server.url}/tasks/{task.id}")
    officer.fill("#comment-body", "现场照片是否需要当事人签字确认？")
    officer.click("#comments button[type=submit]")
    expect(officer.locator("#comments .comment")).to_have_count(1)
    expect(officer.locator("#comments .comment").first).to_contain_text("张伟")

    head = _sign_in(chromium, live_server, "head.a", width=390)
    head.goto(f"{live_server.url}/cases/{instance.id}")
    expect(head.locator("#comments")).to_contain_text("现场照片是否需要当事人签字确认？")
    head.fill("#comment-body", "需要，请补签。")
    head.click("#comments button[type=submit]")
    expect(head.locator("#comments .comment")).to_have_count(2)
    head.screenshot(path=str(ARTIFACTS / "comments-phone.png"), full_page=True)
    officer.reload()
    expect(officer.locator("#comments .comment").nth(1)).to_contain_text("需要，请补签。")
    expect(officer.locator("#comments .comment").nth(1)).to_contain_text("赵磊")

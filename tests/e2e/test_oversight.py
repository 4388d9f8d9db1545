"""Head oversight in the browser: the head of county A opens 督办 from the menu on a phone-width
screen, narrows to one officer's tasks, selects two (one of county A, one a reviewer may not
take) by keyboard-reachable checkboxes, reassigns them with a reason and reads the per-task
outcome; the new holder's bell shows the notice."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from engine import claim, start
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


def test_head_reassigns_an_officers_tasks_in_bulk(chromium: Any, live_server: LiveServer) -> None:
    ids = []
    with live_server.session() as session:
        for key in ("OV-1", "OV-2"):
            instance = start(session, "case_lead", actor(session, "officer.a"), {}, key, unit_id=COUNTY_A,
                             entity_id=ENTITY_A, entity_name="康宁诊所")
            session.commit()
            task = ready_task(session, instance.id)
            claim(session, task.id, actor(session, "officer.a"))
            session.commit()
            ids.append(task.id)

    head = _sign_in(chromium, live_server, "head.a", width=390)
    head.click("#nav-oversight")
    expect(head.locator("h1")).to_have_text("在办任务督办")
    head.fill("#filter-officer-search", "zw")  # 张伟 by pinyin initials, as in the other person pickers
    head.press("#filter-officer-search", "Enter")
    expect(head.locator("#filter-officer")).to_have_value("officer.a")
    head.click("#oversight-filter button[type=submit]")
    rows = head.locator("table.oversight tbody tr[data-task-id]")
    expect(rows).to_have_count(2)
    expect(rows.first.locator(".holder")).to_have_text("张伟")
    for task_id in ids:
        head.locator(f"#sel-{task_id}").focus()
        head.keyboard.press("Space")
    head.select_option("#bulk-assignee", "reviewer.a")  # lacks the officer role: each task refused
    head.fill("#bulk-reason", "张伟休假")
    head.click("#bulk-reassign")
    expect(head.locator(".flash-error")).to_have_count(2)
    expect(head.locator(".flash-error").first).to_contain_text("不具备办理该任务所需的角色")
    expect(head.locator("table.oversight tbody tr[data-task-id]")).to_have_count(2)  # still 张伟's

    for task_id in ids:
        head.check(f"#sel-{task_id}")
    head.select_option("#bulk-assignee", "officer.a2")
    head.fill("#bulk-reason", "张伟休假，由李娜接办")
    head.click("#bulk-reassign")
    expect(head.locator(".flash-success")).to_contain_text("已改派 2 项任务")
    expect(head.locator("table.oversight tbody tr[data-task-id]")).to_have_count(0)  # no longer 张伟's
    head.screenshot(path=str(ARTIFACTS / "oversight-phone.png"), full_page=True)

    officer = _sign_in(chromium, live_server, "officer.a2")
    expect(officer.locator("#bell .bell-count")).to_have_text("2")
    expect(officer.locator("table.inbox tbody tr[data-task-id]")).to_have_count(2)

"""Inbox bulk actions in the browser: an officer selects claimable rows by keyboard, claims them
(one was taken by a colleague meanwhile and is reported, the other is hers), then exports her
selection as CSV and gets the file with only the selected rows."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from engine import claim, start
from tests.e2e.conftest import ARTIFACTS, LiveServer
from tests.web.conftest import COUNTY_A, ENTITY_A, PASSWORD, actor, ready_task

pytestmark = pytest.mark.e2e


def _sign_in(chromium: Any, server: LiveServer, login: str, width: int = 1280) -> Page:
    page: Page = chromium.new_context(locale="zh-CN", viewport={"width": width, "height": 900},
                                      accept_downloads=True).new_page()
    page.goto(f"{server.url}/login")
    page.fill("#username", login)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("待办")
    return page


def test_officer_claims_and_exports_selected_rows(chromium: Any, live_server: LiveServer) -> None:
    ids = []
    with live_server.session() as session:
        for key in ("BK-1", "BK-2"):
            instance = start(session, "case_lead", actor(session, "officer.a"), {}, key, unit_id=COUNTY_A,
                             entity_id=ENTITY_A, entity_name="康宁诊所")
            session.commit()
            ids.append(ready_task(session, instance.id).id)

    page = _sign_in(chromium, live_server, "officer.a2", width=390)
    page.goto(f"{live_server.url}/inbox?tab=claimable&q=BK-")
    expect(page.locator("table.inbox tbody tr[data-task-id]")).to_have_count(2)
    for task_id in ids:
        page.locator(f"#sel-{task_id}").focus()
        page.keyboard.press("Space")
    with live_server.session() as session:  # a colleague takes BK-2 while she is choosing
        claim(session, ids[1], actor(session, "officer.a"))
        session.commit()
    page.click("#bulk-claim")
    expect(page.locator(".flash-success")).to_contain_text("已领取 1 项任务")
    expect(page.locator(".flash-error")).to_contain_text("该任务已由他人办理")
    expect(page.locator("table.inbox tbody tr[data-task-id]")).to_have_count(0)  # nothing claimable is left
    page.screenshot(path=str(ARTIFACTS / "inbox-bulk-phone.png"), full_page=True)

    page.goto(f"{live_server.url}/inbox?tab=assigned")
    page.check(f"#sel-{ids[0]}")
    with page.expect_download() as download:
        page.click("#bulk-export-csv")
    text = download.value.path().read_text(encoding="utf-8-sig")
    assert "BK-1" in text and "BK-2" not in text and text.splitlines()[0].startswith("任务,")

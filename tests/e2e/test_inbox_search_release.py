"""Inbox search and bulk actions beyond claiming (issue 15), in the browser: an officer finds her
tasks by the entity's name and by the case number (not only by task name), exports two selected
tasks as XLSX (exactly those rows), then releases them in bulk: they leave her tab and wait
under 可领取 for anyone in the unit, while the one she did not select stays hers."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
import pytest
from playwright.sync_api import Page, expect

from engine import claim, start
from tests.e2e.conftest import ARTIFACTS, LiveServer
from tests.e2e.test_inbox_bulk import _sign_in
from tests.web.conftest import COUNTY_A, ENTITY_A, ENTITY_A2, actor, ready_task

pytestmark = pytest.mark.e2e


def _cases(page: Page) -> list[str]:
    return sorted(page.locator("table.inbox tbody tr[data-task-id] td.case").all_inner_texts())


def _search(page: Page, text: str) -> list[str]:
    page.fill("#inbox-q", text)
    with page.expect_navigation():
        page.press("#inbox-q", "Enter")
    return _cases(page)


def test_search_by_entity_and_case_number_then_export_and_release_in_bulk(
        chromium: Any, live_server: LiveServer) -> None:
    ids: dict[str, str] = {}
    with live_server.session() as session:
        for key, entity, name in (("IS-1", ENTITY_A, "康宁诊所"), ("IS-2", ENTITY_A2, "第二自来水公司"),
                                  ("IS-3", ENTITY_A, "康宁诊所")):
            instance = start(session, "case_lead", actor(session, "officer.a"), {}, key, unit_id=COUNTY_A,
                             entity_id=entity, entity_name=name)
            session.commit()
            ids[key] = ready_task(session, instance.id).id
            claim(session, ids[key], actor(session, "officer.a"))
            session.commit()

    page = _sign_in(chromium, live_server, "officer.a")
    assert _cases(page) == ["IS-1", "IS-2", "IS-3"]
    assert _search(page, "自来水") == ["IS-2"]  # part of the entity's name
    expect(page.locator("table.inbox tbody td.entity")).to_have_text(["第二自来水公司"])
    assert _search(page, "IS-3") == ["IS-3"]  # the case number
    assert _search(page, "康宁诊所") == ["IS-1", "IS-3"]
    assert _search(page, "不存在的单位") == []
    expect(page.locator(".no-match")).to_be_visible()

    assert _search(page, "IS-") == ["IS-1", "IS-2", "IS-3"]
    page.check(f"#sel-{ids['IS-1']}")
    page.check(f"#sel-{ids['IS-2']}")
    with page.expect_download() as download:
        page.click("#bulk-export-xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    assert sheet is not None
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0][:3] == ["任务", "案件编号", "被监督单位"]
    assert sorted((r[1], r[2]) for r in rows[1:]) == [("IS-1", "康宁诊所"), ("IS-2", "第二自来水公司")]

    page.click("#bulk-release")
    expect(page.locator(".flash-success")).to_contain_text("已释放 2 项任务")
    page.goto(f"{live_server.url}/inbox?tab=assigned&q=IS-")
    assert _cases(page) == ["IS-3"]  # the one she did not select is still hers
    page.goto(f"{live_server.url}/inbox?tab=claimable&q=IS-")
    assert _cases(page) == ["IS-1", "IS-2"]
    expect(page.locator("table.inbox tbody td.assignee")).to_have_text(["未分配", "未分配"])
    page.screenshot(path=str(ARTIFACTS / "inbox-bulk-release.png"), full_page=True)

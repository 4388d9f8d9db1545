"""An officer looks for her cases: the case list from the top navigation, searched by an entity's
name, narrowed to the overdue ones, a case opened; then the inbox searched by a task's name. On a
phone the list is cards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from engine import start
from engine.models import HumanTask
from tests.e2e.conftest import LiveServer
from tests.e2e.test_browser import shot, sign_in, signed_in_page
from tests.web.conftest import COUNTY_A, COUNTY_B, ENTITY_A, ENTITY_A2, ENTITY_B, actor

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def search_cases(live_server: LiveServer) -> dict[str, str]:
    """Two cases of 康宁诊所 (one overdue), one of 第二自来水公司, and one of another county."""
    with live_server.session() as session:
        officer = actor(session, "officer.a")
        made = {}
        for key, entity, name in (("搜-001", ENTITY_A, "康宁诊所"), ("搜-002", ENTITY_A, "康宁诊所"),
                                  ("搜-003", ENTITY_A2, "第二自来水公司")):
            made[key] = start(session, "case_lead", officer, {}, key, unit_id=COUNTY_A, entity_id=entity,
                              entity_name=name).id
        made["搜-B"] = start(session, "case_lead", actor(session, "officer.b"), {}, "搜-B", unit_id=COUNTY_B,
                             entity_id=ENTITY_B, entity_name="康宁口腔门诊部").id
        past = datetime.now(UTC) - timedelta(days=4)
        session.execute(update(HumanTask).where(HumanTask.instance_id == made["搜-002"])
                        .values(due_at=past, due_sort=past))
        session.commit()
        return made


def test_officer_finds_her_overdue_case_and_searches_the_inbox(chromium: Any, live_server: LiveServer,
                                                               search_cases: dict[str, str]) -> None:
    page = signed_in_page(chromium, live_server, "officer.a")
    page.click("#nav-cases")
    expect(page.locator("h1")).to_have_text("案件")

    page.fill("#case-q", "康宁")
    page.click("form.case-search button[type=submit]")
    rows = page.locator("table.case-list tbody tr[data-instance-id]")
    expect(rows).to_have_count(2)  # not 第二自来水公司's, nor 康宁口腔门诊部's in another county
    assert sorted(t.strip() for t in rows.locator("a.case-link").all_inner_texts()) == ["搜-001", "搜-002"]
    shot(page, "case-search-01-by-name")

    page.check("#case-overdue")
    page.click("form.case-search button[type=submit]")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("a.case-link")).to_have_text("搜-002")
    expect(rows.first.locator(".badge-overdue")).to_be_visible()
    assert "overdue=1" in page.url and "q=" in page.url
    shot(page, "case-search-02-overdue")

    rows.first.locator("a.case-link").click()
    expect(page).to_have_url(f"{live_server.url}/cases/{search_cases['搜-002']}")
    expect(page.locator("main")).to_contain_text("搜-002")

    page.click("nav.mainnav >> text=待办")
    page.click("a[data-tab=claimable]")
    page.fill("#inbox-q", "登记案源")
    page.click("form.inbox-search button[type=submit]")
    tasks = page.locator("table.inbox tbody tr[data-task-id]")
    expect(tasks.first).to_contain_text("登记案源")
    cases = [t.strip() for t in tasks.locator("td:nth-child(3)").all_inner_texts()]  # select, task, case
    assert {"搜-001", "搜-002", "搜-003"} <= set(cases) and "搜-B" not in cases
    page.fill("#inbox-q", "没有这个任务")
    page.click("form.inbox-search button[type=submit]")
    expect(page.locator(".no-match")).to_contain_text("没有这个任务")
    shot(page, "case-search-03-inbox")


def test_on_a_phone_the_case_list_is_cards(chromium: Any, live_server: LiveServer,
                                           search_cases: dict[str, str]) -> None:
    page = chromium.new_context(locale="zh-CN", viewport={"width": 390, "height": 800}).new_page()
    sign_in(page, live_server, "officer.a")
    page.goto(f"{live_server.url}/cases?q=康宁")
    expect(page.locator("table.case-list thead")).to_be_hidden()
    first = page.locator("table.case-list tbody tr[data-instance-id]").first
    expect(first).to_be_visible()
    assert first.evaluate("el => getComputedStyle(el).display") == "block"
    shot(page, "case-search-04-phone")

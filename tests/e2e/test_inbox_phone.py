"""The inbox and the head's oversight on a phone (390 px wide) and on a desk (1280 px).

On the phone every tab of the inbox and the oversight list show one card per task, each line
labelled (案件, 被监督单位, 办理期限 …), with nothing scrolling sideways and the selection checkbox
still worked by keyboard. On the desk the inbox stays a table whose every column header sorts it:
the officer sorts by 流程 from the keyboard, then turns the order around."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from engine import claim, start
from tests.e2e.conftest import ARTIFACTS, LiveServer
from tests.engine_helpers import deploy_fixture
from tests.web.conftest import COUNTY_A, ENTITY_A, PASSWORD, actor, ready_task

pytestmark = pytest.mark.e2e

TABS = ("assigned", "deferred", "delegated", "claimable", "overdue", "completed")
NO_SIDEWAYS_SCROLL = "() => document.scrollingElement.scrollWidth"
WRAP_OVERFLOW = ("() => Math.max(0, ...[...document.querySelectorAll('.table-wrap')]"
                 ".map(w => w.scrollWidth - w.clientWidth))")


def _sign_in(chromium: Any, server: LiveServer, login: str, width: int) -> Page:
    page: Page = chromium.new_context(locale="zh-CN", viewport={"width": width, "height": 900}).new_page()
    page.goto(f"{server.url}/login")
    page.fill("#username", login)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("待办")
    return page


@pytest.fixture(scope="module")
def cases(live_server: LiveServer) -> dict[str, str]:
    """Leads PH-1 and PH-2 (PH-1 claimed by 张伟, officer.a) and a structured case PH-S (two tasks), all
    of county A for 康宁诊所; returns one task id of each case."""
    ids: dict[str, str] = {}
    with live_server.session() as session:
        deploy_fixture(session, "structures")
        for key, process in (("PH-1", "case_lead"), ("PH-2", "case_lead"), ("PH-S", "structured_case")):
            instance = start(session, process, actor(session, "officer.a"), {}, key, unit_id=COUNTY_A,
                             entity_id=ENTITY_A, entity_name="康宁诊所")
            session.commit()
            ids[key] = ready_task(session, instance.id).id
        claim(session, ids["PH-1"], actor(session, "officer.a"))
        session.commit()
    return ids


def _assert_cards(page: Page, rows: Any) -> None:
    """Each row a card no wider than the screen, its lines stacked and labelled; no table header."""
    assert page.evaluate(NO_SIDEWAYS_SCROLL) <= 390 + 1
    assert page.evaluate(WRAP_OVERFLOW) <= 1
    expect(page.locator("table.inbox thead")).to_be_hidden()
    for i in range(rows.count()):
        row = rows.nth(i)
        assert row.evaluate("r => getComputedStyle(r).display") == "block"
        box = row.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        case, due = row.locator("td.case"), row.locator("td.due")
        for cell in (case, due):
            assert cell.evaluate("c => getComputedStyle(c, '::before').content") != "none"
        case_box, due_box = case.bounding_box(), due.bounding_box()
        assert case_box is not None and due_box is not None and due_box["y"] > case_box["y"]  # stacked


def test_inbox_and_oversight_are_cards_on_a_phone(chromium: Any, live_server: LiveServer,
                                                   cases: dict[str, str]) -> None:
    page = _sign_in(chromium, live_server, "officer.a", width=390)
    for tab in TABS:
        page.goto(f"{live_server.url}/inbox?tab={tab}&q=PH-")
        _assert_cards(page, page.locator("table.inbox tbody tr[data-task-id]"))

    page.goto(f"{live_server.url}/inbox?tab=claimable&q=PH-")
    cards = page.locator("table.inbox tbody tr[data-task-id]")
    expect(cards).to_have_count(3)  # PH-2 and PH-S's two tasks (PH-1 is hers now)
    card = page.locator(f"tr[data-task-id='{cases['PH-2']}']")
    expect(card.locator("td.case")).to_have_attribute("data-label", "案件")
    expect(card.locator("td.case")).to_have_text("PH-2")
    expect(card.locator("td.entity")).to_have_attribute("data-label", "被监督单位")
    expect(card.locator("td.entity")).to_have_text("康宁诊所")
    expect(card.locator("td.due")).to_have_attribute("data-label", "办理期限")
    expect(card.locator("td.due")).not_to_have_text("—")  # a lead has a due date
    checkbox = page.locator(f"#sel-{cases['PH-2']}")
    checkbox.focus()
    page.keyboard.press("Space")
    expect(checkbox).to_be_checked()
    page.screenshot(path=str(ARTIFACTS / "inbox-cards-phone.png"), full_page=True)

    page.goto(f"{live_server.url}/inbox?tab=assigned&q=PH-")
    expect(page.locator(f"tr[data-task-id='{cases['PH-1']}'] td.case")).to_have_text("PH-1")
    expect(page.locator(f"tr[data-task-id='{cases['PH-1']}'] td.assignee")).to_have_attribute("data-label", "办理人")

    head = _sign_in(chromium, live_server, "head.a", width=390)
    head.goto(f"{live_server.url}/oversight")
    rows = head.locator("table.oversight tbody tr[data-task-id]")
    expect(rows).not_to_have_count(0)
    _assert_cards(head, rows)
    mine = head.locator(f"tr[data-task-id='{cases['PH-1']}']")
    expect(mine.locator("td.case")).to_have_attribute("data-label", "案件")
    expect(mine.locator("td.case")).to_contain_text("PH-1")
    expect(mine.locator("td.case .entity")).to_have_text("康宁诊所")
    expect(mine.locator("td.holder")).to_have_attribute("data-label", "办理人")
    head.locator(f"#sel-{cases['PH-1']}").focus()
    head.keyboard.press("Space")
    expect(head.locator(f"#sel-{cases['PH-1']}")).to_be_checked()
    head.screenshot(path=str(ARTIFACTS / "oversight-cards-phone.png"), full_page=True)


def test_inbox_is_a_table_sorted_by_any_header_on_a_desk(chromium: Any, live_server: LiveServer,
                                                         cases: dict[str, str]) -> None:
    page = _sign_in(chromium, live_server, "officer.a", width=1280)
    page.goto(f"{live_server.url}/inbox?tab=claimable&q=PH-")
    expect(page.locator("table.inbox thead")).to_be_visible()
    rows = page.locator("table.inbox tbody tr[data-task-id]")
    assert rows.first.evaluate("r => getComputedStyle(r).display") == "table-row"
    for key in ("title", "case", "entity", "process", "due", "assignee"):
        expect(page.locator(f"table.inbox th a.sort[data-sort='{key}']")).to_have_count(1)
    cases_shown = page.locator("table.inbox tbody td.case")
    expect(cases_shown).to_have_text(["PH-2", "PH-S", "PH-S"])  # by due date: the lead's, then none

    page.locator("table.inbox th a.sort[data-sort='process']").focus()
    page.keyboard.press("Enter")  # 案件线索 (case_lead) before the structured case
    process_header = page.locator("table.inbox th:has(a.sort[data-sort='process'])")
    expect(process_header).to_have_attribute("aria-sort", "ascending")
    expect(cases_shown).to_have_text(["PH-2", "PH-S", "PH-S"])
    page.locator("table.inbox th a.sort[data-sort='process']").click()
    expect(process_header).to_have_attribute("aria-sort", "descending")
    expect(cases_shown).to_have_text(["PH-S", "PH-S", "PH-2"])  # the order turned around
    assert "order=-process" in page.url

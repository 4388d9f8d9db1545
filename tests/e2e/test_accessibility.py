"""WCAG 2.1 AA on the pages officers and citizens use, checked by axe-core in Chromium, and the
inbox and a task form worked with the keyboard alone.

axe-core (``tests/e2e/vendor/axe.min.js``, MPL-2.0, see ``tests/e2e/vendor/README.md``) runs the
rules tagged wcag2a, wcag2aa, wcag21a and wcag21aa: labels, names, contrast, landmarks, language.
Any violation fails the test with the rule, its help text and the first elements it found.
The keyboard test signs in, opens a task from the inbox, claims it, fills and submits its form
with Tab, typing, Space and Enter only, and checks that every focused control shows a visible
focus indicator (WCAG 2.4.7).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from engine import start
from tests.e2e.conftest import LiveServer
from tests.web.conftest import COUNTY_A, ENTITY_A, PASSWORD, actor

pytestmark = pytest.mark.e2e
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                      nodes: v.nodes.slice(0, 4).map(n => n.target.join(' '))}));
}"""
FOCUS_VISIBLE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
  const ring = style.boxShadow && style.boxShadow !== 'none';
  return {tag: el.tagName, id: el.id, name: el.getAttribute('name'), visible: outline || !!ring};
}"""


def violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate(RUN_AXE, WCAG_TAGS)
    return found


class Audit:
    """Every page's violations, reported together at the end (one run shows all that is wrong)."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def check(self, page: Page, what: str) -> None:
        self.problems += [f"{what}: {v['id']} ({v['impact']}): {v['help']} at {v['nodes']}"
                          for v in violations(page)]

    def assert_clean(self) -> None:
        assert self.problems == [], "\n".join(self.problems)


def new_page(chromium: Browser, width: int = 1280) -> Page:
    # bypass_csp: the page's Content-Security-Policy allows no injected script, axe is one
    context = chromium.new_context(locale="zh-CN", viewport={"width": width, "height": 900}, bypass_csp=True)
    return context.new_page()


def sign_in(page: Page, server: LiveServer, login: str) -> None:
    page.goto(f"{server.url}/login")
    page.fill("#username", login)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("待办")


def tab_to(page: Page, element_id: str, limit: int = 60) -> None:
    """Press Tab until the element with ``element_id`` has focus (fails if it is never reached)."""
    for _ in range(limit):
        if page.evaluate("() => document.activeElement && document.activeElement.id") == element_id:
            return
        page.keyboard.press("Tab")
    visited = page.evaluate("() => document.activeElement && document.activeElement.outerHTML.slice(0, 120)")
    pytest.fail(f"#{element_id} was not reached with Tab (focus on {visited})")


@pytest.fixture(scope="module")
def case_id(live_server: LiveServer) -> str:
    with live_server.session() as session:
        instance = start(session, "case_lead", actor(session, "officer.a"), {}, "宝卫医案〔2026〕7号",
                         unit_id=COUNTY_A, entity_id=ENTITY_A, entity_name="康宁诊所")
        session.commit()
        return instance.id


def test_staff_pages_meet_wcag_aa(chromium: Any, live_server: LiveServer, case_id: str) -> None:
    audit = Audit()
    page = new_page(chromium)
    page.goto(f"{live_server.url}/login")
    audit.check(page, "login")
    sign_in(page, live_server, "officer.a")
    audit.check(page, "inbox (assigned)")
    page.goto(f"{live_server.url}/inbox?tab=claimable")
    audit.check(page, "inbox (claimable)")
    page.locator("table.inbox tbody tr", has_text="宝卫医案〔2026〕7号").locator("td a").first.click()
    audit.check(page, "task form")
    page.goto(f"{live_server.url}/cases/{case_id}")
    audit.check(page, "case page")
    page.goto(f"{live_server.url}/cases")
    audit.check(page, "case list")
    page.goto(f"{live_server.url}/account")
    audit.check(page, "account")
    audit.assert_clean()


def test_public_pages_meet_wcag_aa_on_a_phone(chromium: Any, live_server: LiveServer) -> None:
    audit = Audit()
    page = new_page(chromium, width=390)
    page.goto(f"{live_server.url}/public/")
    audit.check(page, "public index")
    links = page.locator("main a[href^='/public/']").all()[:6]
    assert len(links) >= 2, "the public index links to the complaint portal and the disclosure pages"
    for link in links:
        href = link.get_attribute("href")
        other = new_page(chromium, width=390)
        other.goto(f"{live_server.url}{href}")
        audit.check(other, f"public page {href}")
        other.context.close()
    audit.assert_clean()


def test_inbox_and_task_form_work_by_keyboard_alone(chromium: Any, live_server: LiveServer, case_id: str) -> None:
    page = new_page(chromium)
    sign_in(page, live_server, "officer.a2")
    page.goto(f"{live_server.url}/inbox?tab=claimable")
    target = page.locator("table.inbox tbody tr", has_text="宝卫医案〔2026〕7号").locator("td a").first
    unseen: list[dict[str, Any]] = []
    for _ in range(80):  # Tab to the case's link, checking each stop shows where focus is
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS_VISIBLE)
        if focus and not focus["visible"]:
            unseen.append(focus)
        if target.evaluate("el => el === document.activeElement"):
            break
    else:
        pytest.fail("the task link was never reached with Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#claim")).to_be_visible()
    page.locator("#claim").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".flash")).to_contain_text("您已领取该任务")
    page.locator("#f-source").focus()
    page.keyboard.press("ArrowDown")
    for _ in range(40):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS_VISIBLE)
        if focus and not focus["visible"]:
            unseen.append(focus)
        if focus and focus["id"] == "f-summary":
            page.keyboard.type("诊所超范围开展医疗美容")
        if focus and focus["id"] == "submit":
            break
    assert unseen == [], f"focus not visible on {unseen}"
    page.keyboard.press("Enter")  # the facts are missing: every problem is listed, and focus starts there
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary.locator("a[href='#field-facts']")).to_contain_text("必填")
    expect(page.locator("#f-summary")).to_have_value("诊所超范围开展医疗美容")
    page.keyboard.press("Tab")
    while not summary.locator("a[href='#field-facts']").evaluate("el => el === document.activeElement"):
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the link leads to the field: the next Tab is in it
    page.keyboard.press("Tab")
    expect(page.locator("#f-facts")).to_be_focused()
    page.keyboard.type("现场发现诊所开展注射美容项目")
    expect(page.locator("#f-facts")).to_have_value("现场发现诊所开展注射美容项目")
    page.keyboard.press("Tab")  # the violation kinds: Space ticks one
    page.keyboard.press("Space")
    tab_to(page, "f-amount")
    page.keyboard.type("20000")
    tab_to(page, "submit")
    page.keyboard.press("Enter")
    expect(page.locator(".flash")).to_contain_text("已办理")  # waits for the next page
    expect(page.locator(".error-summary")).to_have_count(0)

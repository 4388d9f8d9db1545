"""What a person clicks: sign in, inbox, claim, a form with a mistake then corrected, the case page
with its highlighted diagram and audit trail; then the head approves with the staff picker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from engine import start
from tests.e2e.conftest import ARTIFACTS, LiveServer
from tests.web.conftest import COUNTY_A, ENTITY_A, PASSWORD, actor

pytestmark = pytest.mark.e2e
EVIDENCE = b"%PDF-1.4\n% scanned site record\n" + b"0" * 2000


def sign_in(page: Page, server: LiveServer, login: str) -> None:
    page.goto(f"{server.url}/login")
    page.fill("#username", login)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("待办")


def signed_in_page(chromium: Browser, server: LiveServer, login: str) -> Page:
    """A fresh Chinese-locale browser context, signed in as ``login``."""
    page = chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
    sign_in(page, server, login)
    return page


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def case_id(live_server: LiveServer) -> str:
    with live_server.session() as session:
        instance = start(session, "case_lead", actor(session, "officer.a"), {}, "宝卫医案〔2026〕1号",
                         unit_id=COUNTY_A, entity_id=ENTITY_A, entity_name="康宁诊所")
        session.commit()
        return instance.id


def test_officer_claims_corrects_and_submits(chromium: Any, live_server: LiveServer, case_id: str,
                                             tmp_path: Path) -> None:
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/login")
    shot(page, "01-login")
    sign_in(page, live_server, "officer.a")

    page.click("a[data-tab=claimable]")
    row = page.locator("table.inbox tbody tr", has_text="宝卫医案〔2026〕1号")
    expect(row).to_have_count(1)
    expect(row.locator(".badge")).to_contain_text("工作日")
    shot(page, "02-inbox-claimable")
    row.locator("td a").first.click()

    expect(page.locator(".instructions")).to_contain_text("核实线索来源并登记违法事实")
    page.click("#claim")
    expect(page.locator(".flash")).to_contain_text("您已领取该任务")
    expect(page.locator(".holder")).to_have_text("张伟")

    page.select_option("#f-source", "inspection")
    page.fill("#f-summary", "诊所超范围开展医疗美容")
    page.check("input[name=kinds][value=beyond_scope]")
    page.fill("#f-amount", "20000.123")  # a mistake: more than two decimals; and no facts given
    evidence = tmp_path / "现场笔录.pdf"
    evidence.write_bytes(EVIDENCE)
    page.set_input_files("#f-evidence", str(evidence))
    page.click("#submit")
    expect(page.locator("[data-field=amount] .field-error")).to_contain_text("两位小数")
    expect(page.locator("[data-field=facts] .field-error")).to_contain_text("必填")
    expect(page.locator("#f-summary")).to_have_value("诊所超范围开展医疗美容")  # input kept
    expect(page.locator("[data-field=evidence] .uploaded")).to_contain_text("现场笔录.pdf")  # upload kept
    shot(page, "03-form-with-errors")

    page.fill("#f-amount", "20000")
    page.fill("#f-facts", "现场检查发现该诊所未取得医疗美容科目，开展注射美容项目。")
    page.click("#submit")
    expect(page.locator(".flash")).to_contain_text("已办理")
    shot(page, "04-inbox-after-submit")

    page.goto(f"{live_server.url}/cases/{case_id}")
    diagram = page.locator("#diagram")
    expect(diagram).to_have_attribute("data-state", "ready", timeout=15_000)
    expect(page.locator("#diagram .djs-element.wj-done")).not_to_have_count(0)
    expect(page.locator('#diagram .djs-element.wj-current[data-element-id="approve"]')).to_have_count(1)
    expect(page.locator(".bjs-powered-by")).to_be_visible()  # the bpmn.io watermark stays visible
    expect(page.locator(".timeline .event")).not_to_have_count(0)
    expect(page.locator(".timeline")).to_contain_text("完成任务")
    expect(page.locator(".documents")).to_contain_text("现场笔录.pdf")
    shot(page, "05-case-page")
    context.close()


def test_head_approves_with_the_staff_picker(chromium: Any, live_server: LiveServer, case_id: str) -> None:
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1024, "height": 1366})  # a tablet
    page = context.new_page()
    sign_in(page, live_server, "head.a")
    page.click("a[data-tab=claimable]")
    page.locator("table.inbox tbody tr", has_text="负责人审批").locator("td a").first.click()
    page.click("#claim")
    page.select_option("#f-approved", "true")
    page.fill("#f-opinion", "同意立案，由张伟、李娜承办。")
    page.check("input[name=officers][value='officer.a']")
    page.check("input[name=officers][value='officer.a2']")
    shot(page, "06-head-approval")
    page.click("#submit")
    expect(page.locator(".flash")).to_contain_text("已办理")
    page.goto(f"{live_server.url}/cases/{case_id}")
    expect(page.locator("h1 .badge")).to_have_text("已完成")
    expect(page.locator("#diagram")).to_have_attribute("data-state", "ready", timeout=15_000)
    shot(page, "07-case-completed")
    context.close()

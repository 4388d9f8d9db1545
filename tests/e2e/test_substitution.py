"""Substitution and delegation in the browser: an officer records leave with a substitute on the
account page; a task then routed to the officer appears in the substitute's inbox marked
代 张伟办理. A head delegates an approval, the delegate fills in the opinion and hands it back,
the head sees it back with the opinion and completes it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from engine import SYSTEM, claim, complete_task, deploy, start
from engine.db import utcnow
from tests.e2e.conftest import LiveServer
from tests.web.conftest import COUNTY_A, ENTITY_A, PASSWORD, actor, ready_task
from tests.web.test_substitution import ROUTED

pytestmark = pytest.mark.e2e


def _sign_in(chromium: Any, server: LiveServer, login: str) -> Page:
    page: Page = chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{server.url}/login")
    page.fill("#username", login)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("待办")
    return page


def test_leave_with_a_substitute_routes_the_new_task(chromium: Any, live_server: LiveServer) -> None:
    today = utcnow().astimezone(ZoneInfo("Asia/Shanghai")).date()
    officer = _sign_in(chromium, live_server, "officer.a")
    officer.goto(f"{live_server.url}/account")
    officer.fill("#starts_on", today.isoformat())
    officer.fill("#ends_on", (today + timedelta(days=3)).isoformat())
    officer.select_option("#substitute_id", "officer.a2")
    officer.fill("#absence-note", "年休假")
    officer.click("#record-absence")
    expect(officer.locator(".flash-success")).to_contain_text("由 李娜 代理")
    expect(officer.locator("table.absences tbody tr")).to_have_count(1)

    with live_server.session() as session:
        deploy(session, {"routed.bpmn": ROUTED.encode()}, SYSTEM)
        start(session, "routed", actor(session, "head.a"), {"handler": "officer.a"}, "SUB-1", unit_id=COUNTY_A)
        session.commit()

    substitute = _sign_in(chromium, live_server, "officer.a2")
    row = substitute.locator("table.inbox tbody tr", has_text="SUB-1")
    expect(row).to_have_count(1)
    expect(row.locator("[data-mark=on-behalf]")).to_have_text("代 张伟办理")


def test_a_head_delegates_an_approval_and_completes_it_when_it_is_back(chromium: Any,
                                                                      live_server: LiveServer) -> None:
    with live_server.session() as session:
        instance = start(session, "case_lead", actor(session, "officer.a"), {}, "DEL-1", unit_id=COUNTY_A,
                         entity_id=ENTITY_A, entity_name="康宁诊所")
        session.commit()
        complete_task(session, ready_task(session, instance.id).id, actor(session, "officer.a"),
                      {"source": "complaint", "summary": "超范围执业", "facts": "现场发现", "kinds": ["unlicensed"],
                       "amount": 20000})
        session.commit()
        approval = ready_task(session, instance.id)
        claim(session, approval.id, actor(session, "head.a"))
        session.commit()

    head = _sign_in(chromium, live_server, "head.a")
    head.goto(f"{live_server.url}/tasks/{approval.id}")
    head.select_option("#delegate-to", "officer.a2")
    head.fill("#delegate-note", "请先拟写审批意见")
    head.click("#delegate-submit")
    expect(head.locator("nav.tabs a.active")).to_contain_text("已委托")
    expect(head.locator("table.inbox tbody tr", has_text="DEL-1").locator("[data-mark=delegated-to]")) \
        .to_have_text("已委托 李娜")

    delegate = _sign_in(chromium, live_server, "officer.a2")
    delegate.goto(f"{live_server.url}/tasks/{approval.id}")
    expect(delegate.locator("#submit")).to_have_count(0)  # the delegate cannot complete it
    delegate.fill("#f-opinion", "事实清楚，建议立案。")
    delegate.click("#resolve")
    expect(delegate.locator(".flash-success")).to_contain_text("已交回委托人")

    head.goto(f"{live_server.url}/inbox")
    row = head.locator("table.inbox tbody tr", has_text="DEL-1")
    expect(row.locator("[data-mark=resolved]")).to_have_text("委托已办回")
    row.locator("td a").first.click()
    expect(head.locator("#f-opinion")).to_have_value("事实清楚，建议立案。")
    expect(head.locator("#task-history")).to_contain_text("受托人办完交回")
    head.select_option("#f-approved", "true")
    head.check("input[name=officers][value='officer.a']")
    head.check("input[name=officers][value='officer.a2']")
    head.click("#submit")
    expect(head.locator(".flash-success")).to_contain_text("已办理")

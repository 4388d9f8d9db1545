"""An officer starts a case on 新建案件 by typing the entity's name (not its credit code); the
page has no case-number field, since case numbers are never typed (issue 15, item 6)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from engine.models import ProcessInstance
from tests.e2e.conftest import LiveServer
from tests.e2e.test_browser import shot, signed_in_page
from tests.web.conftest import COUNTY_A, ENTITY_A2

pytestmark = pytest.mark.e2e


def test_typing_an_entity_s_name_starts_the_case_for_that_entity(chromium: Any, live_server: LiveServer) -> None:
    page = signed_in_page(chromium, live_server, "officer.a")
    page.goto(f"{live_server.url}/cases/new")
    expect(page.locator("h1")).to_have_text("新建案件")
    expect(page.locator("form input[name=business_key]")).to_have_count(0)
    expect(page.get_by_text("案件编号")).to_have_count(0)
    expect(page.locator("#entity")).to_have_attribute("placeholder", re.compile("名称"))

    page.select_option("#process", "case_lead")
    page.fill("#entity", "第二自来水公司")
    shot(page, "new-case-01-typed-name")
    page.click("form button.primary")
    expect(page).to_have_url(re.compile(r"/cases/[0-9a-f-]{36}$"))
    expect(page.locator("main")).to_contain_text("第二自来水公司")
    expect(page.locator(".flash-success")).to_contain_text("已启动")
    shot(page, "new-case-02-started")

    instance_id = page.url.rsplit("/", 1)[1]
    with live_server.session() as session:
        instance = session.get(ProcessInstance, instance_id)
        assert instance is not None and instance.entity_id == ENTITY_A2 and instance.unit_id == COUNTY_A
        assert instance.business_key and re.fullmatch(r"\d{8}-[0-9A-F]{6}", instance.business_key)

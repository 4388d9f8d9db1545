"""The new-plan page's scope is a searchable multiple choice (issue #12): a provincial officer
finds each county by its pinyin initials in the scope's search box, ticks two of them, and the
plan saved covers exactly those counties; the weight fields show the rules in force."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine.clock import china_today
from processes.inspections.models import Plan
from tests.e2e.conftest import LiveServer
from tests.e2e.test_penalty_case import People
from tests.web.conftest import CITY, COUNTY_A, COUNTY_B

pytestmark = pytest.mark.e2e


@pytest.fixture
def people(chromium: Any, live_server: LiveServer) -> Iterator[People]:
    crowd = People(chromium, live_server)
    yield crowd
    crowd.close()


def test_two_counties_are_found_by_pinyin_initials_and_ticked_for_the_scope(people: People,
                                                                           live_server: LiveServer) -> None:
    page = people.page("officer.p")
    page.goto(f"{live_server.url}/inspections/plans/new")
    search = page.locator("#plan-scope-search")
    scope = page.locator("#plan-scope label.check")
    expect(scope).to_have_count(4)
    search.fill("jt")  # 金台区卫生监督所
    expect(page.locator("#plan-scope label.check:not([hidden])")).to_have_text(["金台区卫生监督所"])
    search.press("Enter")  # focus moves to the first match
    page.keyboard.press("Space")
    search.fill("wbq")  # 渭滨区卫生监督所; the ticked 金台 stays in view
    expect(page.locator("#plan-scope label.check:not([hidden])")).to_have_count(2)
    page.locator(f'#plan-scope input[value="{COUNTY_A}"]').check()
    search.press("Escape")
    expect(scope.filter(has=page.locator("input:checked"))).to_have_count(2)
    expect(page.locator("#weight_credit_d")).to_have_attribute("placeholder", "3")
    today = china_today().isoformat()
    page.fill("input[name=title]", "两区公共场所双随机抽查")
    page.select_option("select[name=unit_id]", CITY)
    page.fill("input[name=window_start]", today)
    page.fill("input[name=window_end]", today)
    page.check('input[name=categories][value="public_place"]')
    page.fill("#weight_credit_d", "5")
    page.locator("#plan-form button", has_text="保存草稿").click()
    expect(page.locator("#plan-scope")).to_have_text("渭滨区卫生监督所、金台区卫生监督所")
    with live_server.session() as session:
        plan = session.scalar(select(Plan).where(Plan.title == "两区公共场所双随机抽查"))
        assert plan is not None and plan.params["scope_units"] == sorted([COUNTY_A, COUNTY_B])
        assert plan.params["weights"]["credit_d"] == 5

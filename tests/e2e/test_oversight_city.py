"""Oversight across units (issue 15): a city office's head opens 督办 and sees the tasks held in
both counties below the city (sub-units), with their holders, and narrows them to one county
officer; a county head still sees only their own county's tasks."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from engine import claim, start
from processes.directory.services import create_user
from tests.e2e.conftest import LiveServer
from tests.e2e.test_inbox_bulk import _sign_in
from tests.web.conftest import CITY, COUNTY_A, COUNTY_B, ENTITY_A, ENTITY_B, PASSWORD, actor, ready_task

pytestmark = pytest.mark.e2e


def _cases(page: Page) -> list[str]:
    return sorted(t.split(" · ")[0] for t in
                  page.locator("table.oversight tbody tr[data-task-id] td.case").all_inner_texts()
                  if t.startswith("OC-"))


def test_a_city_head_oversees_the_tasks_of_the_counties_below(chromium: Any, live_server: LiveServer) -> None:
    with live_server.session() as session:
        create_user(session, "head.city", "孙强", CITY, ["chief_head", "head", "officer"], PASSWORD, "C-C-1")
        session.commit()
        for key, login, unit, entity, name in (("OC-A", "officer.a", COUNTY_A, ENTITY_A, "康宁诊所"),
                                               ("OC-B", "officer.b", COUNTY_B, ENTITY_B, "仁和口腔门诊部")):
            instance = start(session, "case_lead", actor(session, login), {}, key, unit_id=unit,
                             entity_id=entity, entity_name=name)
            session.commit()
            claim(session, ready_task(session, instance.id).id, actor(session, login))
            session.commit()

    city = _sign_in(chromium, live_server, "head.city")
    city.click("#nav-oversight")
    expect(city.locator("h1")).to_have_text("在办任务督办")
    assert _cases(city) == ["OC-A", "OC-B"]  # both counties under 宝鸡市
    holders = city.locator("table.oversight tbody tr[data-task-id] td.holder").all_inner_texts()
    assert "张伟" in holders and "刘洋" in holders
    city.select_option("#filter-officer", "officer.b")
    with city.expect_navigation():
        city.click("#oversight-filter button[type=submit]")
    assert _cases(city) == ["OC-B"]

    county = _sign_in(chromium, live_server, "head.a")
    county.click("#nav-oversight")
    expect(county.locator("h1")).to_have_text("在办任务督办")
    assert _cases(county) == ["OC-A"]  # county A's head does not see county B

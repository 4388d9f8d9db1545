"""The public entity page of double-random inspections in Chromium on a 390 px phone: the data is
made through the domain services (a plan the head approves, its draw, the drawn pair's
declarations, the on-site record, the head's review); the QR code on the entity's page is read
back (its modules compared with a QR code of the page's own address), that address is opened on
the phone, and the page shows the entity's result without sideways scrolling or staff names.

Why compare the QR code's modules: no QR decoder is installed; two QR codes of the same text, level
and version are the same module matrix, so equal paths mean the printed code carries this address.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
import segno
from playwright.sync_api import Page, expect
from sqlalchemy import select

from engine.models import HumanTask
from processes.inspections import directories
from processes.inspections.models import Inspection, Plan, ScheduleRun
from tests.e2e.conftest import ARTIFACTS, LiveServer
from tests.e2e.test_browser import signed_in_page
from tests.web.conftest import STAFF, actor
from tests.web.inspections_flow import NOTES, approved_plan, draft_plan, finish, inspections_of, setup_inspections

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 3}
PATH_RE = re.compile(r'<path[^>]* d="([^"]+)"')


@pytest.fixture(scope="module")
def inspected(live_server: LiveServer) -> dict[str, str]:
    with live_server.session() as session:
        setup_inspections(session)
        _plan, draw = approved_plan(session)
        row = inspections_of(session, draw)[0]
        finish(session, row, "correction")
        row = inspections_of(session, draw)[0]
        return {"code": row.credit_code, "name": row.entity_name, "due": str(row.correction_due)}


def fits(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url} is {width} px wide on a 390 px screen"


def test_the_entity_page_opened_from_its_qr_code_shows_its_result_on_a_phone(
        chromium: Any, live_server: LiveServer, inspected: dict[str, str]) -> None:
    page = chromium.new_context(locale="zh-CN", **PHONE).new_page()
    for path in ("changes", "decisions"):  # the correction/withdrawal log and the periods' sources wrap too
        page.goto(f"{live_server.url}/public/inspections/{path}")
        expect(page.locator("h1")).to_be_visible()
        fits(page)
    page.goto(f"{live_server.url}/public/inspections/results")
    fits(page)
    page.get_by_role("link", name=inspected["name"]).first.click()
    expect(page.locator("#entity h1")).to_have_text(inspected["name"])
    qr = page.locator("#qr img")
    qr.scroll_into_view_if_needed()  # loaded lazily
    expect(qr).to_be_visible()
    page.wait_for_function("document.querySelector('#qr img').naturalWidth > 0")  # the SVG loaded and drew
    box = qr.bounding_box()
    assert box is not None and 100 <= box["width"] <= 390
    address = f"{live_server.url}/public/inspections/entities/{inspected['code']}"
    svg = page.request.get(live_server.url + str(qr.get_attribute("src")))
    assert svg.ok and svg.headers["content-type"].startswith("image/svg+xml")
    printed = PATH_RE.search(svg.text())
    expected = segno.make(address, error="m").svg_inline(scale=5, border=2)
    assert printed is not None and printed.group(1) == PATH_RE.search(expected).group(1)  # type: ignore[union-attr]

    phone = chromium.new_context(locale="zh-CN", **PHONE).new_page()  # a phone that scanned the door poster
    response = phone.goto(address)
    assert response is not None and response.status == 200
    expect(phone.locator("#credit-code")).to_have_text(inspected["code"])
    result = phone.locator("#entity-results li.result").first
    expect(result).to_contain_text("责令改正")
    expect(result).to_contain_text(inspected["due"])
    expect(result).to_contain_text("公共场所卫生监督抽查")
    fits(phone)
    text = phone.locator("body").inner_text()
    assert NOTES not in text and not [name for _login, name, *_rest in STAFF if name in text]
    phone.screenshot(path=str(ARTIFACTS / "inspection-entity-390.png"), full_page=True)
    poster = phone.locator("#poster")
    expect(poster).to_be_visible()
    assert (poster.get_attribute("href") or "").endswith("/poster.pdf")


def test_planner_makes_a_plan_recurring_the_head_approves_run_now_and_both_inspectors_see_their_task(
        chromium: Any, live_server: LiveServer, inspected: dict[str, str]) -> None:
    with live_server.session() as session:  # a fourth inspector: the first draw used two of three pairs
        directories.save_inspector(session, actor(session, "head.a"), "reviewer.a", certificate_no="ZF-reviewer.a",
                                   valid_from=date(2024, 1, 1), valid_until=date(2030, 12, 31),
                                   specialties=["public_place"])
        session.commit()
        template = draft_plan(session, 1, kind="quarterly")
    planner = signed_in_page(chromium, live_server, "officer.a")
    planner.goto(f"{live_server.url}/inspections/plans/{template.id}")
    planner.click("#schedule-form >> xpath=.. >> summary")
    planner.fill("#schedule-form input[name=recurrence]", "quarterly first-workday 08:00")
    planner.click("#schedule-form button")
    expect(planner.locator(".flash")).to_contain_text("已设为周期计划")
    planner.click("#submit-plan")
    expect(planner.locator("#plan-status")).to_have_text("待负责人审批")

    with live_server.session() as session:
        plan = session.get(Plan, template.id)
        assert plan is not None and plan.instance_id
        task = session.scalar(select(HumanTask).where(HumanTask.instance_id == plan.instance_id,
                                                      HumanTask.status == "ready"))
        assert task is not None
    head = signed_in_page(chromium, live_server, "head.a")
    head.goto(f"{live_server.url}/tasks/{task.id}")
    expect(head.locator(".inspection-panel")).to_contain_text(template.code)
    if head.locator("#claim").count():
        head.click("#claim")
    head.select_option("#f-approved", "true")
    head.click("#submit")
    expect(head.locator(".flash")).to_contain_text("已办理")

    planner.goto(f"{live_server.url}/inspections/schedules")
    row = planner.locator("#schedule-list tbody tr", has_text=template.title)
    row.locator("button.run-now").click()
    expect(planner.locator(".flash")).to_contain_text("期已抽取")
    expect(planner.locator("#schedule-list tbody tr", has_text=template.title).locator(".outcome")).to_have_text(
        "done (manual)")

    with live_server.session() as session:
        run = session.scalar(select(ScheduleRun).where(ScheduleRun.plan_id.is_not(None))
                             .order_by(ScheduleRun.id.desc()))
        assert run is not None
        drawn = session.scalar(select(Inspection).where(Inspection.draw_id == run.draw_id))
        assert drawn is not None and len(drawn.inspectors) == 2, drawn and drawn.status
    for login in drawn.inspectors:
        page = signed_in_page(chromium, live_server, login)
        expect(page.locator("body")).to_contain_text("声明无利益冲突")
        expect(page.locator("body")).to_contain_text(drawn.entity_name)
        page.context.close()

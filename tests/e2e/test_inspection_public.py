"""The public entity page of double-random inspections in Chromium on a 390 px phone: the data is
made through the domain services (a plan the head approves, its draw, the drawn pair's
declarations, the on-site record and its confirmation, the head's review); the QR code on the
entity's page is read back (its modules compared with a QR code of the page's own address), that
address is opened on the phone, and the page shows the entity's result without sideways scrolling
or staff names. The second test is the issue's whole flow through the UI: the planner makes a
quarterly plan and presses "run now" after the head's approval, both drawn inspectors declare on
their task pages, the lead records 责令改正 on the on-site form, the other inspector reads that
record on their own task and confirms it (a dispute without a reason refused first), the head
reviews (the sealed 卫生监督意见书 with the deadline is produced), the public results page shows
it, and its QR code's address opens it.

Why compare the QR code's modules: no QR decoder is installed; two QR codes of the same text, level
and version are the same module matrix, so equal paths mean the printed code carries this address.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
import segno
from playwright.sync_api import Page, expect
from sqlalchemy import select

import signing
from engine.clock import china_today
from engine.models import HumanTask
from processes.directory.models import Unit
from processes.inspections import directories
from processes.inspections.models import Inspection, Plan, ScheduleRun
from processes.penalty.storage import load_blob
from tests.e2e.conftest import ARTIFACTS, LiveServer
from tests.e2e.test_browser import signed_in_page
from tests.web.conftest import COUNTY_A, STAFF, actor
from tests.web.inspections_flow import NOTES, approved_plan, draft_plan, finish, inspections_of, setup_inspections

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 3}
CA_PASSPHRASE = "e2e-inspections-ca-passphrase"
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


def test_quarterly_plan_run_now_approved_inspected_with_a_correction_public_and_opened_from_its_qr_code(
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
    planner.goto(f"{live_server.url}/inspections/schedules")  # run now before the approval: requested
    row = planner.locator("#schedule-list tbody tr", has_text=template.title)
    row.locator("button.run-now").click()
    expect(planner.locator(".flash")).to_contain_text("负责人批准计划后即抽取")
    expect(planner.locator("#schedule-list tbody tr", has_text=template.title).locator(".outcome")).to_have_text(
        "已申请立即执行，待计划批准")

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

    planner.goto(f"{live_server.url}/inspections/schedules")  # the approval drew the requested period
    expect(planner.locator("#schedule-list tbody tr", has_text=template.title).locator(".outcome")).to_have_text(
        "已立即执行抽取")

    with live_server.session() as session:
        run = session.scalar(select(ScheduleRun).where(ScheduleRun.plan_id.is_not(None))
                             .order_by(ScheduleRun.id.desc()))
        assert run is not None
        drawn = session.scalar(select(Inspection).where(Inspection.draw_id == run.draw_id))
        assert drawn is not None and len(drawn.inspectors) == 2, drawn and drawn.status
    inspectors = {}
    for login in drawn.inspectors:
        page = signed_in_page(chromium, live_server, login)
        expect(page.locator("body")).to_contain_text("声明无利益冲突")
        expect(page.locator("body")).to_contain_text(drawn.entity_name)
        inspectors[login] = page
    _records_a_correction_the_public_sees_it_and_the_qr_code_opens_it(chromium, live_server, drawn, inspectors, head)


def _task(live_server: LiveServer, instance_id: str, form_key: str, assignee: str | None = None) -> str:
    with live_server.session() as session:
        query = select(HumanTask.id).where(HumanTask.instance_id == instance_id, HumanTask.status == "ready",
                                           HumanTask.form_key == form_key)
        if assignee:
            query = query.where(HumanTask.assignee == assignee)
        task_id = session.scalar(query)
    assert task_id is not None, f"no ready {form_key} for {assignee}"
    return str(task_id)


def _open_task(page: Page, live_server: LiveServer, task_id: str) -> None:
    page.goto(f"{live_server.url}/tasks/{task_id}")
    if page.locator("#claim").count():
        page.click("#claim")


def _records_a_correction_the_public_sees_it_and_the_qr_code_opens_it(
        chromium: Any, live_server: LiveServer, drawn: Inspection, inspectors: dict[str, Page], head: Page) -> None:
    """The rest of the issue's flow: both declare, the lead records 责令改正 through the on-site form
    (the 卫生监督意见书 is produced with the deadline), the head's review, the public results page and
    the entity page opened from the address its QR code carries."""
    assert drawn.instance_id
    with live_server.session() as session:  # the opinion is an outward document: sealed by the unit (PAdES)
        unit = session.get(Unit, COUNTY_A)
        assert unit is not None
        signing.init_ca(session, ca_passphrase=CA_PASSPHRASE)
        signing.issue_seal_certificate(session, unit.id, unit.name, ca_passphrase=CA_PASSPHRASE,
                                       validity=timedelta(days=30))
        session.commit()
    for login, page in inspectors.items():
        _open_task(page, live_server, _task(live_server, drawn.instance_id, "inspections.declare", login))
        page.select_option("#f-conflict", "false")
        page.click("#submit")
        expect(page.locator(".flash")).to_contain_text("已办理")
    lead = inspectors[drawn.inspectors[0]]
    _open_task(lead, live_server, _task(live_server, drawn.instance_id, "inspections.onsite", drawn.inspectors[0]))
    expect(lead.locator(".inspection-panel")).to_contain_text(drawn.entity_name)
    today = china_today()
    due = (today + timedelta(days=20)).isoformat()  # the first test's entity is due in 15 days
    lead.fill("#f-checked_on", today.isoformat())
    lead.fill("#f-nonconforming", "从业人员健康合格证明")
    lead.fill("#f-findings", NOTES)
    lead.select_option("#f-outcome", "correction")
    lead.fill("#f-correction_due", due)
    lead.select_option("#f-representative", "signed")
    lead.click("#submit")
    expect(lead.locator(".flash")).to_contain_text("已办理")

    # the other inspector reads the lead's record on their own task and confirms it (Art. 42)
    co_login = drawn.inspectors[1]
    co = inspectors[co_login]
    _open_task(co, live_server, _task(live_server, drawn.instance_id, "inspections.confirm_onsite", co_login))
    expect(co.locator("body")).to_contain_text(NOTES)
    expect(co.locator("body")).to_contain_text("从业人员健康合格证明")
    co.select_option("#f-confirmed", "false")
    co.click("#submit")  # a dispute without its reason is refused, nothing kept
    expect(co.locator("body")).to_contain_text("有异议的，请写明理由")
    co.select_option("#f-confirmed", "true")
    co.click("#submit")
    expect(co.locator(".flash")).to_contain_text("已办理")
    with live_server.session() as session:
        confirmed = session.get(Inspection, drawn.id)
        assert confirmed is not None and confirmed.findings["onsite_confirmation"]["by"] == co_login

    _open_task(head, live_server, _task(live_server, drawn.instance_id, "inspections.review"))
    expect(head.locator(".inspection-panel")).to_contain_text(drawn.entity_name)
    head.select_option("#f-approved", "true")
    head.fill("#f-opinion", "内部意见：同意")
    head.click("#submit")
    expect(head.locator(".flash")).to_contain_text("已办理")
    with live_server.session() as session:
        row = session.get(Inspection, drawn.id)
        assert row is not None and row.status == "correcting" and str(row.correction_due) == due
        assert row.opinion_sha256, "the 卫生监督意见书 was not produced"
        opinion = load_blob(session, row.opinion_sha256)
    assert opinion.startswith(b"%PDF-")  # rendered, sealed and stored by SHA-256 (tests/inspections/test_opinion_seal)

    visitor = chromium.new_context(locale="zh-CN", **PHONE).new_page()
    visitor.goto(f"{live_server.url}/public/inspections/results")
    listed = visitor.locator("#results li", has_text=drawn.entity_name).filter(has_text=due)
    expect(listed).to_contain_text("责令改正")
    assert NOTES not in visitor.locator("body").inner_text()
    listed.get_by_role("link", name=drawn.entity_name).first.click()
    expect(visitor.locator("#credit-code")).to_have_text(drawn.credit_code)
    qr = visitor.locator("#qr img")
    qr.scroll_into_view_if_needed()
    address = f"{live_server.url}/public/inspections/entities/{drawn.credit_code}"
    svg = visitor.request.get(live_server.url + str(qr.get_attribute("src")))
    printed = PATH_RE.search(svg.text())
    expected = PATH_RE.search(segno.make(address, error="m").svg_inline(scale=5, border=2))
    assert printed is not None and expected is not None and printed.group(1) == expected.group(1)
    phone = chromium.new_context(locale="zh-CN", **PHONE).new_page()  # scanned: opens the address in the code
    response = phone.goto(address)
    assert response is not None and response.status == 200
    result = phone.locator("#entity-results li.result", has_text=due)
    expect(result).to_contain_text("责令改正")
    expect(result).to_contain_text("公共场所卫生监督抽查")
    fits(phone)

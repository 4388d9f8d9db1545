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
from typing import Any

import pytest
import segno
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ARTIFACTS, LiveServer
from tests.web.conftest import STAFF
from tests.web.inspections_flow import NOTES, approved_plan, finish, inspections_of, setup_inspections

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
    page.goto(f"{live_server.url}/public/inspections/results")
    fits(page)
    page.get_by_role("link", name=inspected["name"]).first.click()
    expect(page.locator("#entity h1")).to_have_text(inspected["name"])
    qr = page.locator("#qr svg")
    expect(qr).to_be_visible()
    box = qr.bounding_box()
    assert box is not None and box["width"] <= 390
    address = f"{live_server.url}/public/inspections/entities/{inspected['code']}"
    printed = PATH_RE.search(qr.evaluate("e => e.outerHTML"))
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

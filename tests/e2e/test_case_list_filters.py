"""The case list (/cases) in the browser: a provincial officer narrows the cases by process,
status, current stage, unit and officer (each filter leaves exactly the right cases), sorts by
case number both ways, and downloads the filtered list as CSV and XLSX, whose rows are the
filtered cases and whose party name that starts with "=" is neutralised (no live formula)."""

from __future__ import annotations

import csv
import io
from typing import Any

import openpyxl
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from engine import complete_task, start
from engine.models import ProcessInstance
from tests.e2e.conftest import ARTIFACTS, LiveServer
from tests.e2e.test_inbox_bulk import _sign_in
from tests.engine_helpers import deploy_fixture
from tests.web.conftest import COUNTY_A, COUNTY_B, ENTITY_A, ENTITY_B, actor, ready_task

pytestmark = pytest.mark.e2e

FORMULA = '=HYPERLINK("http://evil.example","点此")'


def _seed(server: LiveServer) -> None:
    with server.session() as session:
        deploy_fixture(session, "manual")
        for key, login, unit, entity, name in (("CL-1", "officer.a", COUNTY_A, ENTITY_A, "康宁诊所"),
                                               ("CL-2", "officer.a2", COUNTY_A, ENTITY_A, FORMULA),
                                               ("CL-3", "officer.a", COUNTY_A, ENTITY_A, "康宁诊所"),
                                               ("CL-4", "officer.b", COUNTY_B, ENTITY_B, "仁和口腔门诊部")):
            start(session, "case_lead", actor(session, login), {}, key, unit_id=unit, entity_id=entity,
                  entity_name=name)
            session.commit()
        start(session, "manual_check", actor(session, "officer.a"), {}, "CL-5", unit_id=COUNTY_A)
        session.commit()
        by_key = {i.business_key: i.id for i in session.scalars(select(ProcessInstance))}
        # CL-2 goes on to the head's approval (over 10000 元), CL-3 is finished
        complete_task(session, ready_task(session, by_key["CL-2"]).id, actor(session, "officer.a2"),
                      {"amount": 20000, "facts": "x"})
        complete_task(session, ready_task(session, by_key["CL-3"]).id, actor(session, "officer.a"),
                      {"amount": 1, "facts": "x"})
        session.commit()


def _keys(page: Page) -> list[str]:
    return [k for k in page.locator("table.case-list tbody a.case-link").all_inner_texts() if k.startswith("CL-")]


def _search(page: Page, server: LiveServer, **choices: str) -> list[str]:
    page.goto(f"{server.url}/cases?q=CL-")
    for name, value in choices.items():
        page.select_option(f"#case-{name}", value)
    with page.expect_navigation():
        page.click("form.case-search button.primary")
    return sorted(_keys(page))


def test_filters_sort_and_exports_of_the_case_list(chromium: Any, live_server: LiveServer) -> None:
    _seed(live_server)
    page = _sign_in(chromium, live_server, "officer.p")
    assert _search(page, live_server) == ["CL-1", "CL-2", "CL-3", "CL-4", "CL-5"]
    assert _search(page, live_server, process="manual_check") == ["CL-5"]
    assert _search(page, live_server, status="completed") == ["CL-3"]
    assert _search(page, live_server, process="case_lead", stage="approve") == ["CL-2"]
    assert _search(page, live_server, unit=COUNTY_B) == ["CL-4"]
    assert _search(page, live_server, officer="officer.a2") == ["CL-2"]

    _search(page, live_server, process="case_lead", status="running")
    assert sorted(_keys(page)) == ["CL-1", "CL-2", "CL-4"]
    with page.expect_navigation():
        page.click("a.sort[data-sort=case]")
    expect(page.locator("th[aria-sort=ascending] a[data-sort=case]")).to_have_count(1)
    assert _keys(page) == ["CL-1", "CL-2", "CL-4"]
    with page.expect_navigation():
        page.click("a.sort[data-sort=case]")
    expect(page.locator("th[aria-sort=descending] a[data-sort=case]")).to_have_count(1)
    assert _keys(page) == ["CL-4", "CL-2", "CL-1"]
    page.screenshot(path=str(ARTIFACTS / "case-list-filtered.png"), full_page=True)

    with page.expect_download() as csv_download:
        page.click("#export-csv")
    rows = list(csv.reader(io.StringIO(csv_download.value.path().read_text(encoding="utf-8-sig"))))
    assert rows[0][:3] == ["案件编号", "流程", "被监督单位"]
    assert [r[0] for r in rows[1:]] == ["CL-4", "CL-2", "CL-1"]  # the filtered rows, in the list's order
    party = next(r[2] for r in rows if r[0] == "CL-2")
    assert party == "'" + FORMULA  # a leading quote: Excel/WPS show the text, run nothing

    with page.expect_download() as xlsx_download:
        page.click("#export-xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_download.value.path().read_bytes())).active
    assert sheet is not None
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert [r[0] for r in values[1:]] == ["CL-4", "CL-2", "CL-1"]
    cell = next(row for row in sheet.iter_rows(min_row=2) if row[0].value == "CL-2")[2]
    assert cell.data_type == "s" and str(cell.value).startswith("'=")  # stored as text, not a formula

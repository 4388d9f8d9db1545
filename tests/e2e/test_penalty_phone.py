"""The penalty case panel on a 390 px phone: after the deliberation record is signed, the signature
report and the documents table read as cards inside the screen (the report was a 652 px wide
table, and each document's 64-character SHA-256 a column ten lines tall); a document's digest shows
its first characters and the whole value one tap away; members who have not signed are named.

The case gets there through the task forms, posted from the browser (``fetch`` with the form's
CSRF token) with what ``tests.web.penalty_flow`` types into each form, so the test stays quick;
the full walk through every rendered form is ``test_penalty_case.py``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from engine.models import HumanTask
from tests.e2e.conftest import ARTIFACTS, LiveServer
from tests.web.conftest import PASSWORD
from tests.web.penalty_flow import EVIDENCE, FILE, form_data, ready_tasks, setup_penalty, who

pytestmark = pytest.mark.e2e
PHONE = 390
AFTER_SIGNING = {"legal_review", "serve_prior_notice", "collective_discussion", "approve_decision"}

POST = """async ({url, fields, evidence, marker}) => {
  const page = await (await fetch(url)).text();
  const token = /name="csrf_token" value="([^"]+)"/.exec(page)[1];
  const body = new FormData();
  body.append("csrf_token", token);
  for (const [name, value] of fields) {
    if (value === marker) { body.append(name, new Blob([evidence], {type: "application/pdf"}), "现场笔录.pdf"); }
    else { body.append(name, value); }
  }
  const r = await fetch(url, {method: "POST", body, redirect: "manual"});
  return r.type === "opaqueredirect" ? 302 : r.status;
}"""


def _page(chromium: Any, server: LiveServer, login: str, width: int) -> Page:
    page: Page = chromium.new_context(locale="zh-CN", viewport={"width": width, "height": 900}).new_page()
    page.goto(f"{server.url}/login")
    page.fill("#username", login)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("待办")
    return page


def _post(page: Page, url: str, data: dict[str, Any]) -> int:
    fields = [(k, str(v)) for k, vs in data.items() for v in (vs if isinstance(vs, list) else [vs])]
    return int(page.evaluate(POST, {"url": url, "fields": fields, "evidence": EVIDENCE.decode(), "marker": FILE}))


@pytest.fixture(scope="module")
def signed_case(chromium: Any, live_server: LiveServer) -> str:
    """An ordinary case whose deliberation record the three members have signed."""
    with live_server.session() as session:
        setup_penalty(session)
        session.commit()
    pages: dict[str, Page] = {}

    def page_of(login: str) -> Page:
        if login not in pages:
            pages[login] = _page(chromium, live_server, login, 1280)
        return pages[login]

    officer = page_of("officer.a")
    officer.goto(f"{live_server.url}/penalty/new")
    officer.click("#start-penalty")
    found = re.search(r"/tasks/([0-9a-f-]{36})", officer.url)
    assert found, officer.url
    with live_server.session() as session:
        task = session.get(HumanTask, found.group(1))
        assert task is not None
        instance_id = task.instance_id
    for _ in range(40):
        with live_server.session() as session:
            tasks = ready_tasks(session, instance_id)
            assert tasks, "the case stopped before the record was signed"
            if AFTER_SIGNING & {t.task_name for t in tasks}:
                break
            task = tasks[0]
            data, login, name = form_data(session, task), who(task), task.task_name
        status = _post(page_of(login), f"{live_server.url}/tasks/{task.id}", data)
        assert status == 302, (name, status)
    else:
        raise AssertionError("the record was never signed")
    for page in pages.values():
        page.context.close()
    return instance_id


def test_signature_report_and_documents_fit_a_phone(chromium: Any, live_server: LiveServer,
                                                    signed_case: str) -> None:
    head = _page(chromium, live_server, "head.a", PHONE)
    head.goto(f"{live_server.url}/cases/{signed_case}")
    report = head.locator("table.signature-report")
    expect(report.locator(".verdict")).to_have_count(3)
    head.locator("#penalty").screenshot(path=str(ARTIFACTS / "penalty-panel-phone.png"))
    assert head.evaluate("document.documentElement.scrollWidth") <= PHONE
    box = report.bounding_box()
    assert box is not None and box["x"] + box["width"] <= PHONE
    # each signature is a card that names its fields (the column headings are hidden on a phone)
    first = report.locator("tbody tr").first
    expect(first.locator("td[data-label]")).to_have_count(4)
    assert "证书序列号" in first.locator("td").nth(2).evaluate("e => getComputedStyle(e, '::before').content")

    documents = head.locator("table.penalty-documents tbody tr")
    assert documents.count() >= 4
    for row in documents.all():
        digest = row.locator(".digest")
        full = digest.locator(".digest-full").text_content() or ""
        assert re.fullmatch(r"[0-9a-f]{64}", full)
        expect(digest.locator("summary .hash")).to_have_text(full[:12] + "…")
        expect(digest.locator("summary .hash")).to_have_attribute("title", full)
        expect(digest.locator(".digest-full")).to_be_hidden()
        cell = row.locator("td.doc-hash").bounding_box()
        assert cell is not None and cell["height"] < 40, cell  # one line, not a column of hex
    first_digest = documents.first.locator(".digest")
    first_digest.locator("summary").click()  # a tap shows the whole value, wrapped inside the screen
    expect(first_digest.locator(".digest-full")).to_be_visible()
    assert head.evaluate("document.documentElement.scrollWidth") <= PHONE
    head.context.close()

"""A full ordinary penalty case through the browser (issue 5): the officer registers the lead from
"新建案源", files it, investigates (with an evidence upload), reports; the head and the officers
deliberate and each signs the record on the signing page with their own passphrase; the legal
reviewer reviews; the notice is served, the head decides and the decision is drafted; then the
generated decision PDF is downloaded from the case page and read.

Shortcut: which task to open next is looked up in the database and opened by its URL (people
would click it in the inbox, which ``test_browser.py`` covers). Every form is filled and
submitted in the browser.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from pypdf import PdfReader

from engine.models import HumanTask
from tests.e2e.conftest import ARTIFACTS, LiveServer
from tests.web.conftest import PASSWORD
from tests.web.penalty_flow import EVIDENCE, FILE, case_of, form_data, ready_tasks, setup_penalty, who

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def penalty_server(live_server: LiveServer) -> LiveServer:
    with live_server.session() as session:
        setup_penalty(session)
        session.commit()
    return live_server


class People:
    """One browser context per person, signed in on first use."""

    def __init__(self, chromium: Any, server: LiveServer) -> None:
        self.chromium, self.server = chromium, server
        self.contexts: dict[str, BrowserContext] = {}
        self.pages: dict[str, Page] = {}

    def page(self, login: str) -> Page:
        if login not in self.pages:
            context = self.chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900},
                                                accept_downloads=True)
            page = context.new_page()
            page.goto(f"{self.server.url}/login")
            page.fill("#username", login)
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            expect(page.locator("h1")).to_have_text("待办")
            self.contexts[login], self.pages[login] = context, page
        return self.pages[login]

    def close(self) -> None:
        for context in self.contexts.values():
            context.close()


@pytest.fixture
def people(chromium: Any, penalty_server: LiveServer) -> Iterator[People]:
    crowd = People(chromium, penalty_server)
    yield crowd
    crowd.close()


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"penalty-{name}.png"), full_page=True)


def fill(page: Page, data: dict[str, Any], evidence: Path) -> None:
    """Type the values into the rendered form, whatever widget each field has."""
    for name, value in data.items():
        if name.endswith(("__user", "__role")):  # a people picker: one row per person
            field, part = name.rsplit("__", 1)
            for index, item in enumerate(value):
                page.select_option(f"#f-{field}-{index}" + ("-role" if part == "role" else ""), str(item))
        elif value == FILE:
            page.set_input_files(f"#f-{name}", str(evidence))
        elif isinstance(value, list):
            for item in value:
                page.check(f"input[name={name}][value='{item}']")
        else:
            field = page.locator(f"#f-{name}")
            kind = field.evaluate("e => e.tagName.toLowerCase() + ':' + (e.type || '')")
            if kind.startswith("select"):
                field.select_option(str(value))
            elif kind == "input:checkbox":
                field.set_checked(value == "true")
            else:
                field.fill(str(value))


def work_on(page: Page, server: LiveServer, task: HumanTask, data: dict[str, Any], evidence: Path) -> None:
    page.goto(f"{server.url}/tasks/{task.id}")
    claim = page.locator("#claim")
    if claim.count():
        claim.click()
        expect(page.locator(".flash").first).to_contain_text("您已领取该任务")
    fill(page, data, evidence)
    page.click("#submit")
    flash = page.locator(".flash").first
    expect(flash).to_contain_text("已办理", timeout=30_000)


def test_a_full_ordinary_case_through_the_browser(people: People, penalty_server: LiveServer,
                                                  tmp_path: Path) -> None:
    began = time.monotonic()
    server = penalty_server
    evidence = tmp_path / "现场照片.pdf"
    evidence.write_bytes(EVIDENCE)
    officer = people.page("officer.a")
    officer.click("#nav-new-lead")
    expect(officer.locator("h1")).to_have_text("新建案源")
    officer.click("#start-penalty")
    expect(officer.locator("h1")).to_contain_text("案源登记")
    task_id = officer.url.rsplit("/", 1)[-1]
    with server.session() as session:
        task = session.get(HumanTask, task_id)
        assert task is not None
        instance_id = task.instance_id

    seen: list[tuple[str, str]] = []
    signed = 0
    for _ in range(40):
        with server.session() as session:
            tasks = ready_tasks(session, instance_id)
            if not tasks or tasks[0].task_name == "serve_decision":
                break
            task = tasks[0]
            data = form_data(session, task)
            session.refresh(task)  # form_data expires what the session holds
            session.expunge(task)
        if task.task_name == "investigation_report":
            data["complex_case"] = "true"  # Art. 58: legal review is required
        login = who(task)
        page = people.page(login)
        if task.task_name == "sign_record":
            page.goto(f"{server.url}/tasks/{task.id}")
            expect(page.locator("#f-passphrase")).to_have_attribute("type", "password")
            expect(page.locator("iframe.record")).to_be_visible()
            if signed == 0:
                page.fill("#f-passphrase", "wrong-passphrase-1")
                page.click("#submit")
                expect(page.locator("[data-field=passphrase] .field-error")).to_contain_text("签名口令不正确")
                expect(page.locator("#f-passphrase")).to_have_value("")
                shot(page, "03-signing-page")
            signed += 1
        if task.task_name == "investigate" and data.get("files") == FILE:
            page.goto(f"{server.url}/tasks/{task.id}")
            shot(page, "02-investigation")
        if task.task_name == "register_lead":
            shot(page, "01-lead")
        work_on(page, server, task, data, evidence)
        seen.append((task.task_name, login))
    else:
        raise AssertionError(f"the case did not reach the decision: {seen}")

    names = [n for n, _login in seen]
    assert signed == 3 and names.count("sign_record") == 3, seen
    assert {"register_lead", "approve_filing", "investigation_report", "legal_review", "serve_prior_notice",
            "draft_decision"} <= set(names)
    assert {login for _n, login in seen} >= {"officer.a", "head.a", "reviewer.a"}

    with server.session() as session:
        case = case_of(session, instance_id)
        number = case.case_number
    assert number
    head = people.page("head.a")
    head.goto(f"{server.url}/cases/{instance_id}")
    expect(head.locator(".penalty-case .case-number")).to_have_text(number)
    expect(head.locator(".signature-report .verdict")).to_have_count(3)
    for verdict in head.locator(".signature-report .verdict").all():
        expect(verdict).to_contain_text("VALID 有效")
    shot(head, "04-case-page")
    with head.expect_download() as download_info:
        head.click("a[data-doc-type=decision]")
    pdf = download_info.value.path().read_bytes()
    assert pdf.startswith(b"%PDF-")
    text = "".join("".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert number in text and "行政处罚决定书" in text
    assert time.monotonic() - began < 90

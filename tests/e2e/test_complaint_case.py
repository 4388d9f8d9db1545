"""A report through the browser, from a phone to the reply (issue 11): a citizen files it on a
390 px viewport (proof-of-work check, tracking number and query code); the city's complaint
clerk classifies it and forwards it to a district (转办); the district's clerk receives and
accepts it; two district officers verify on site and find a violation, which opens a penalty
case lead linked to the complaint; the final report passes the district head's result review
(结果审查); the written reply goes out by email to a real local SMTP server; the citizen reads
it on the tracking page, which names no staff and not the complainant.

Every staff step goes through the generic pages: the inbox, the task page, its form.
"""

from __future__ import annotations

import io
import socket
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from pypdf import PdfReader
from sqlalchemy import select

from engine import deploy_directory
from engine.actor import SYSTEM
from processes.complaints.models import Complaint, FeedbackDelivery
from processes.directory.services import create_user
from processes.penalty.models import PenaltyCase
from tests.e2e.conftest import ARTIFACTS, LiveServer
from tests.web.conftest import CITY, COUNTY_A, PASSWORD

pytestmark = pytest.mark.e2e

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 3}
WAIT = 20_000  # ms: the longest any one step may take
# login, name, unit, roles, certificate (the directory of tests.web.conftest has the district's
# officers officer.a, officer.a2 and its head head.a)
CLERKS = [("clerk.city", "周敏", CITY, ["complaint_clerk"], None),
          ("clerk.a", "孙丽", COUNTY_A, ["complaint_clerk"], None)]
STAFF_NAMES = ("周敏", "孙丽", "张伟", "李娜", "赵磊")
CITIZEN = {"name": "王小五", "email": "wang.xiaowu@example.com"}
FACTS = "2025年9月在经二路18号康宁诊所就诊，看到无执业资格的人员给病人输液，使用的药品已过期。"
REPLY = "经核查，康宁诊所存在使用未取得执业资格人员从事诊疗活动的违法行为，已立案查处。"


class Mailbox:
    """Messages the local SMTP server received."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    def subjects(self) -> list[str]:
        return [str(make_header(decode_header(message_from_bytes(raw)["Subject"]))) for _f, _t, raw in self.messages]

    def letter(self, index: int) -> str:
        """The text of the letter attached to one message (a PDF, or HTML without PDF rendering)."""
        mail = message_from_bytes(self.messages[index][2], policy=policy.default)
        parts = list(mail.iter_attachments())
        assert len(parts) == 1, [p.get_filename() for p in parts]
        content = parts[0].get_content()
        if isinstance(content, bytes) and content.startswith(b"%PDF-"):
            return "".join("".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(content)).pages).split())
        return "".join(str(content).split())


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) on a free local port; the live server's deliveries go there
    (it runs in this process and reads WEIJIAN_SMTP_* when it sends)."""
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("WEIJIAN_SMTP_HOST", "127.0.0.1")
        env.setenv("WEIJIAN_SMTP_PORT", str(port))
        env.setenv("WEIJIAN_SMTP_FROM", "tousu@weijian.test")
        try:
            yield box
        finally:
            controller.stop()


@pytest.fixture(scope="module")
def complaint_server(live_server: LiveServer) -> LiveServer:
    with live_server.session() as session:
        deploy_directory(session, PROCESSES / "penalty", SYSTEM)
        deploy_directory(session, PROCESSES / "complaints", SYSTEM)
        for login, name, unit, roles, cert in CLERKS:
            create_user(session, login, name, unit, roles, PASSWORD, cert)
        session.commit()
    return live_server


class People:
    """One browser context per person: staff on a desktop, signed in on first use; the citizen on a phone."""

    def __init__(self, chromium: Any, server: LiveServer) -> None:
        self.chromium, self.server = chromium, server
        self.contexts: list[BrowserContext] = []
        self.pages: dict[str, Page] = {}

    def _page(self, **options: Any) -> Page:
        context = self.chromium.new_context(locale="zh-CN", **options)
        context.set_default_timeout(WAIT)
        self.contexts.append(context)
        return context.new_page()

    def citizen(self) -> Page:
        return self._page(**PHONE)

    def staff(self, login: str) -> Page:
        if login not in self.pages:
            page = self._page(viewport={"width": 1280, "height": 900})
            page.goto(f"{self.server.url}/login")
            page.fill("#username", login)
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            expect(page.locator("h1")).to_have_text("待办")
            self.pages[login] = page
        return self.pages[login]

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def people(chromium: Any, complaint_server: LiveServer) -> Iterator[People]:
    crowd = People(chromium, complaint_server)
    yield crowd
    crowd.close()


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"complaint-{name}.png"), full_page=True)


def fits(page: Page) -> None:
    """Nothing sticks out sideways at the phone's width (no horizontal scrolling)."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url} is {width} px wide on a 390 px screen"


def open_task(page: Page, server: LiveServer, tracking_no: str, title: str) -> None:
    """From the inbox: the task of this complaint, taken if nobody holds it yet."""
    page.goto(f"{server.url}/inbox?tab=claimable")
    row = page.locator("table.inbox tbody tr").filter(has_text=tracking_no).filter(has_text=title)
    expect(row).to_have_count(1)
    row.get_by_role("link", name=title).click()
    expect(page.locator("h1")).to_contain_text(title)
    claim = page.locator("#claim")
    if claim.count():
        claim.click()
        expect(page.locator(".flash").first).to_contain_text("您已领取该任务")
    expect(page.locator(".complaint-summary .tracking-no")).to_have_text(tracking_no)


def submit(page: Page, title: str) -> None:
    page.click("#submit")
    expect(page.locator(".flash").first).to_contain_text("已办理")
    expect(page.locator(".flash").first).to_contain_text(title)


def complaint_row(server: LiveServer, tracking_no: str) -> Complaint:
    with server.session() as session:
        row = session.scalar(select(Complaint).where(Complaint.tracking_no == tracking_no))
        assert row is not None
        return row


def test_a_report_from_a_phone_to_the_reply(people: People, complaint_server: LiveServer, mailbox: Mailbox) -> None:
    began = time.monotonic()
    server = complaint_server

    # 1. The citizen files a report from a phone.
    citizen = people.citizen()
    citizen.goto(f"{server.url}/public/complaints/new")
    expect(citizen.locator("h1")).to_have_text("投诉举报")
    send = citizen.locator("#send-complaint")
    citizen.select_option("select[name=kind]", "report")
    target = citizen.locator("input[name=target_name]")
    target.fill("康宁诊所")
    expect(citizen.locator("#entity-list option[value='康宁诊所']")).to_have_count(1)  # the directory's suggestion
    unit_search = citizen.locator("#complaint-unit-search")  # not sure which district: the city, found by
    unit_search.fill("bjs")  # the pinyin initials of 宝鸡市 on a phone, where the list is long
    shown = citizen.locator("#complaint-unit").evaluate(
        "s => Array.from(s.options).filter(o => !o.hidden).map(o => o.value)")
    assert CITY in shown and COUNTY_A not in shown  # (the option chosen so far stays in view)
    unit_search.press("Enter")  # chooses the match, not the option that was chosen
    expect(citizen.locator("#complaint-unit")).to_have_value(CITY)
    citizen.fill("textarea[name=facts]", FACTS)
    citizen.fill("textarea[name=request]", "请依法查处。")
    citizen.fill("input[name=name]", CITIZEN["name"])
    citizen.fill("input[name=email]", CITIZEN["email"])
    citizen.select_option("select[name=reply_channel]", "email")
    expect(send).to_be_enabled()  # the proof-of-work check is solved
    fits(citizen)
    shot(citizen, "01-file")
    send.click()
    expect(citizen.locator("h1")).to_have_text("已收到您的投诉举报")
    tracking_no = citizen.locator("#tracking-no").inner_text().strip()
    code = citizen.locator("#query-code").inner_text().strip()
    assert tracking_no.startswith("TS") and len(code) == 12
    fits(citizen)
    shot(citizen, "02-filed")

    # 2. The city's clerk classifies it as a report and forwards it to the district.
    clerk = people.staff("clerk.city")
    open_task(clerk, server, tracking_no, "分类与查重")
    clerk.select_option("#f-kind", "report")
    submit(clerk, "分类与查重")
    open_task(clerk, server, tracking_no, "确定管辖")
    clerk.select_option("#f-competence", "subordinate")
    clerk.select_option("#f-target_unit_id", label="渭滨区卫生监督所")  # picked, not typed as a code
    clerk.fill("#f-note", "被举报单位位于渭滨区，转渭滨区卫生监督所办理。")
    submit(clerk, "确定管辖")

    # 3. The district receives and accepts it; two officers verify on site and find a violation.
    district = people.staff("clerk.a")
    open_task(district, server, tracking_no, "接收转办件")
    expect(district.locator("#f-accepted")).to_be_checked()  # receiving is the default
    submit(district, "接收转办件")
    open_task(district, server, tracking_no, "受理决定")
    expect(district.locator("#f-accepted")).to_be_checked()
    district.check("input[name=handlers][value='officer.a']")
    district.check("input[name=handlers][value='officer.a2']")
    submit(district, "受理决定")

    officer = people.staff("officer.a")
    open_task(officer, server, tracking_no, "举报核查")
    officer.check("input[name=officers][value='officer.a']")
    officer.check("input[name=officers][value='officer.a2']")
    officer.check("#f-violation_found")
    officer.fill("#f-findings", "2025年9月现场核查：诊所安排无执业资格人员输液，查见过期药品两盒，已拍照取证。")
    shot(officer, "03-verification")
    submit(officer, "举报核查")

    complaint = complaint_row(server, tracking_no)
    assert complaint.unit_id == COUNTY_A and complaint.penalty_case_id and complaint.penalty_instance_id
    with server.session() as session:
        case = session.get(PenaltyCase, complaint.penalty_case_id)
        assert case is not None and case.source == "complaint" and case.unit_id == COUNTY_A

    # The complaint page links the penalty case, a lead waiting for its registration (案源登记).
    officer.goto(f"{server.url}/complaints/{complaint.id}")
    link = officer.locator(".complaint-summary .penalty-link a")
    expect(link).to_have_attribute("href", f"/cases/{complaint.penalty_instance_id}")
    expect(officer.locator("ol.events")).to_contain_text("承办单位已接收转办件")  # words, not event codes
    expect(officer.locator("ol.events")).not_to_contain_text("forward_received")
    link.click()
    officer.wait_for_url(f"**/cases/{complaint.penalty_instance_id}")
    expect(officer.get_by_role("link", name="案源登记")).to_be_visible()
    shot(officer, "04-penalty-lead")

    # 4. The final report, the district head's result review; the reply goes out by email.
    open_task(officer, server, tracking_no, "办结报告")
    expect(officer.locator(".complaint-summary .penalty-link a")).to_have_count(1)
    officer.fill("#f-facts", "康宁诊所安排无执业资格人员从事诊疗活动，使用过期药品。")
    officer.fill("#f-measures", "责令立即改正，已登记行政处罚案源并立案调查。")
    officer.fill("#f-draft_reply", REPLY)
    submit(officer, "办结报告")
    head = people.staff("head.a")
    open_task(head, server, tracking_no, "结果审查")
    head.check("#f-passed")
    submit(head, "结果审查")

    with server.session() as session:
        deliveries = list(session.scalars(select(FeedbackDelivery).where(
            FeedbackDelivery.complaint_id == complaint.id).order_by(FeedbackDelivery.id)))
    assert [(d.kind, d.status) for d in deliveries] == [("filing_notice", "sent"), ("reply", "sent")]
    assert [rcpts for _sender, rcpts, _raw in mailbox.messages] == [[CITIZEN["email"]]] * 2
    subjects = mailbox.subjects()
    assert all(tracking_no in s for s in subjects) and "投诉举报答复" in subjects[-1]
    letter = mailbox.letter(-1)
    assert tracking_no in letter and REPLY in letter and "请求复查" in letter

    # 5. The citizen reads the reply on the phone; no staff names, not the complainant.
    citizen = people.citizen()
    citizen.goto(f"{server.url}/public/complaints/track")
    citizen.fill("input[name=tracking_no]", tracking_no)
    citizen.fill("input[name=code]", code)
    citizen.locator("#track-form button[type=submit]").click()
    expect(citizen.locator("#reply")).to_contain_text(REPLY)
    expect(citizen.locator("#reply")).to_contain_text("复查")
    expect(citizen.locator("#status")).to_have_text("已答复")
    fits(citizen)
    shot(citizen, "05-track")
    text = citizen.locator("body").inner_text()
    for secret in (*STAFF_NAMES, *CITIZEN.values(), "clerk.", "officer.", "head."):
        assert secret not in text, secret
    assert time.monotonic() - began < 60

"""A penalty case transferred to the police through the browser (国务院令第310号): the officer files
the case, then asks on the case page for a transfer to the police; the head approves it on their
task; the officer drafts the transfer letter and records the police's receipt. The transfer letter
PDF is downloaded from the case page and read, the case shows as transferred and closed, and no
penalty task is left (310号 Art. 11: no penalty in place of the criminal prosecution).

As in ``test_penalty_case.py``, the next task is looked up in the database and opened by its URL;
every form (the request on the case page included) is filled and submitted in the browser.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from engine.clock import china_today
from engine.models import HumanTask, ProcessInstance
from tests.e2e.conftest import LiveServer
from tests.e2e.test_penalty_case import People, penalty_server, people, shot, work_on  # noqa: F401 - fixtures
from tests.web.penalty_flow import EVIDENCE, case_of, form_data, ready_tasks, who

pytestmark = pytest.mark.e2e

POLICE = "宝鸡市公安局渭滨分局"


def test_a_case_transferred_to_the_police_through_the_browser(people: People, penalty_server: LiveServer,  # noqa: F811
                                                              tmp_path: Path) -> None:
    server = penalty_server
    evidence = tmp_path / "现场照片.pdf"
    evidence.write_bytes(EVIDENCE)
    officer = people.page("officer.a")
    officer.click("#nav-new-lead")
    officer.click("#start-penalty")
    expect(officer.locator("h1")).to_contain_text("案源登记")
    with server.session() as session:
        task = session.get(HumanTask, officer.url.rsplit("/", 1)[-1])
        assert task is not None
        instance_id = task.instance_id

    for _ in range(60):  # lead, filing report, filing approval: until the case has its number
        with server.session() as session:
            if case_of(session, instance_id).case_number:
                break
            tasks = ready_tasks(session, instance_id)
            if not tasks:  # the step after a submission may still be running (case number, job)
                time.sleep(0.2)
                continue
            task = tasks[0]
            data = form_data(session, task)
            session.refresh(task)
            session.expunge(task)
        work_on(people.page(who(task)), server, task, data, evidence)
    else:
        raise AssertionError("the case was never filed")

    officer.goto(f"{server.url}/cases/{instance_id}")
    officer.select_option("#ending-kind", "police")
    officer.fill("#ending-reason", "非法行医造成就诊人身体严重损害，涉嫌非法行医罪")
    officer.click("#request-ending")  # without the receiving authority: refused, nothing recorded
    expect(officer.locator(".flash").first).to_contain_text("请填写接收移送的机关")
    with server.session() as session:
        assert case_of(session, instance_id).pending_ending is None
    officer.goto(f"{server.url}/cases/{instance_id}")
    officer.select_option("#ending-kind", "police")
    officer.fill("#ending-receiver", POLICE)
    officer.fill("#ending-reason", "非法行医造成就诊人身体严重损害，涉嫌非法行医罪")
    officer.click("#request-ending")
    expect(officer.locator(".flash").first).to_contain_text("申请已报负责人审批")
    expect(officer.locator(".pending-ending")).to_contain_text(POLICE)

    today = china_today().isoformat()
    answers = {"approve_ending": {"approved": "true", "opinion": "涉嫌犯罪，同意移送公安机关"},
               "draft_transfer": {"receiver": POLICE,
                                  "facts": "当事人未取得医疗机构执业许可证开展诊疗活动，致一名就诊人重伤。",
                                  "basis": "《行政执法机关移送涉嫌犯罪案件的规定》第三条",
                                  "materials": "案件调查报告、询问笔录、现场笔录、涉案物品清单"},
               "record_transfer_receipt": {"handed_over_on": today, "received_by": "王刚",
                                           "receipt_no": "渭公受〔2026〕8号"}}
    done: list[tuple[str, str]] = []
    for name in ("approve_ending", "draft_transfer", "record_transfer_receipt"):
        with server.session() as session:
            ready = [t for t in ready_tasks(session, instance_id) if t.task_name == name]
            assert ready, (name, [t.task_name for t in ready_tasks(session, instance_id)])
            task = ready[0]
            session.expunge(task)
        login = who(task)
        work_on(people.page(login), server, task, answers[name], evidence)
        done.append((name, login))
    assert done[0][1] == "head.a" and done[1][1] == done[2][1] == "officer.a", done

    with server.session() as session:
        case = case_of(session, instance_id)
        number = case.case_number
        assert case.status == "transferred" and case.closed_on is not None
        assert ready_tasks(session, instance_id) == [], [t.task_name for t in ready_tasks(session, instance_id)]
        instance = session.get(ProcessInstance, instance_id)
        assert instance is not None and instance.status == "completed", instance.status if instance else None

    head = people.page("head.a")
    head.goto(f"{server.url}/cases/{instance_id}")
    expect(head.locator(".penalty-case .case-status")).to_contain_text("已移送")
    expect(head.locator(".case-ending")).to_contain_text(POLICE)
    expect(head.locator("#ending-form")).to_have_count(0)
    shot(head, "transfer-case-page")
    with head.expect_download() as download_info:
        head.click("a[data-doc-type=transfer_letter_police]")
    pdf = download_info.value.path().read_bytes()
    assert pdf.startswith(b"%PDF-")
    text = "".join("".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "移送" in text and POLICE in text and number is not None and number in text

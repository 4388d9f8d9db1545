"""People pickers can be searched (issue 15): on the filing report (立案报告) of a penalty case the
承办人 rows each have a search box; typing pinyin initials leaves only the matching officer, Enter
chooses them, a certificate number finds its holder, and the submitted officers are the ones saved
(names and certificate numbers from the directory). Each option says until when the officer's
enforcement certificate is valid, or that it has expired (the holder is still listed).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from engine import start
from engine.clock import china_today
from engine.models import HumanTask
from processes.directory.models import User
from processes.penalty.models import PenaltyCase
from tests.e2e.conftest import ARTIFACTS, LiveServer
from tests.e2e.test_accessibility import FOCUS_VISIBLE, Audit, new_page, sign_in
from tests.e2e.test_penalty_case import People, work_on
from tests.web.conftest import COUNTY_A, ENTITY_A, ENTITY_A2, actor
from tests.web.penalty_flow import EVIDENCE, form_data, ready_tasks, setup_penalty, who

pytestmark = pytest.mark.e2e

VALID_UNTIL = date(2030, 6, 30)


@pytest.fixture(scope="module")
def picker_server(live_server: LiveServer) -> LiveServer:
    with live_server.session() as session:
        setup_penalty(session)
        li_na, zhang_wei = session.get(User, "officer.a2"), session.get(User, "officer.a")
        assert li_na is not None and zhang_wei is not None
        li_na.certificate_valid_until = VALID_UNTIL
        zhang_wei.certificate_valid_until = china_today() - timedelta(days=1)
        session.commit()
    return live_server


@pytest.fixture
def people(chromium: Any, picker_server: LiveServer) -> Iterator[People]:
    crowd = People(chromium, picker_server)
    yield crowd
    crowd.close()


def visible_options(page: Page, select: str) -> list[str]:
    return page.locator(select).evaluate(
        "s => Array.from(s.options).filter(o => o.value && !o.hidden).map(o => o.value)")


def test_officers_are_found_by_pinyin_initials_and_certificate_number(
        people: People, chromium: Any, picker_server: LiveServer, tmp_path: Path) -> None:
    server = picker_server
    evidence = tmp_path / "现场照片.pdf"
    evidence.write_bytes(EVIDENCE)
    officer = people.page("officer.a")
    officer.click("#nav-new-lead")
    officer.click("#start-penalty")
    expect(officer.locator("h1")).to_contain_text("案源登记")
    task_id = officer.url.rsplit("/", 1)[-1]
    with server.session() as session:
        instance_id = session.get_one(HumanTask, task_id).instance_id

    for _ in range(10):  # register the lead (and whatever comes before the filing report) as typed
        with server.session() as session:
            task = ready_tasks(session, instance_id)[0]
            if task.task_name == "prepare_filing":
                break
            data = form_data(session, task)
            session.expunge(task)
        work_on(people.page(who(task)), server, task, data, evidence)
    else:
        raise AssertionError("the case did not reach the filing report")

    page = people.page(who(task))
    page.goto(f"{server.url}/tasks/{task.id}")
    if page.locator("#claim").count():
        page.click("#claim")
    row0, row1 = "#f-officers-0", "#f-officers-1"
    search0 = page.get_by_label("按姓名、拼音首字母或编号查找第1人")
    expect(search0).to_be_visible()
    everyone = page.locator(row0).evaluate("s => Array.from(s.options).filter(o => o.value).map(o => o.value)")
    assert {"officer.a", "officer.a2", "head.a"} <= set(everyone) and visible_options(page, row0) == everyone

    li_na = page.locator(f"{row0} option[value='officer.a2']")
    expect(li_na).to_contain_text("执法证有效至2030-06-30")
    expect(page.locator(f"{row0} option[value='officer.a']")).to_contain_text("执法证已过期")

    search0.fill("ln")  # 李娜: Li Na
    assert visible_options(page, row0) == ["officer.a2"]
    page.locator("#field-officers").screenshot(path=str(ARTIFACTS / "people-picker-search.png"))
    search0.press("Enter")
    expect(page.locator(row0)).to_have_value("officer.a2")
    expect(page.locator(row0)).to_be_focused()

    search1 = page.get_by_label("按姓名、拼音首字母或编号查找第2人")
    search1.fill("xx")
    assert visible_options(page, row1) == []
    expect(page.locator(f"#{search1.get_attribute('id')}-status")).to_have_text("没有匹配项")
    search1.fill("c-a-1")  # 张伟's certificate number
    assert visible_options(page, row1) == ["officer.a"]
    search1.press("Enter")
    expect(page.locator(row1)).to_have_value("officer.a")

    # the enhanced form, searched, meets WCAG 2.1 AA (axe) and the search box shows its focus
    audit, checker = Audit(), new_page(chromium)
    sign_in(checker, server, "officer.a")
    checker.goto(f"{server.url}/tasks/{task.id}")
    checker.get_by_label("按姓名、拼音首字母或编号查找第1人").fill("zw")
    assert checker.evaluate(FOCUS_VISIBLE)["visible"]
    audit.check(checker, "filing report with a searched people picker")
    checker.context.close()
    audit.assert_clean()

    with server.session() as session:
        data = form_data(session, task)
    page.fill("#f-summary", data["summary"])
    page.fill("#f-preliminary_basis", data["preliminary_basis"])
    page.click("#submit")
    expect(page.locator(".flash").first).to_contain_text("已办理", timeout=30_000)

    with server.session() as session:
        case = session.scalar(select(PenaltyCase).where(PenaltyCase.instance_id == instance_id))
        assert case is not None
        assert [(o["name"], o["certificate_no"]) for o in case.officers] == [("李娜", "C-A-2"), ("张伟", "C-A-1")]

    # on to the investigation, whose 参加的执法人员 are checkboxes: the search hides the others
    for _ in range(10):
        with server.session() as session:
            task = ready_tasks(session, instance_id)[0]
            if task.task_name == "investigate":
                break
            data = form_data(session, task)
            session.expunge(task)
        work_on(people.page(who(task)), server, task, data, evidence)
    else:
        raise AssertionError("the case did not reach the investigation")
    page = people.page(who(task))
    page.goto(f"{server.url}/tasks/{task.id}")
    if page.locator("#claim").count():
        page.click("#claim")
    search = page.get_by_label("按名称、拼音首字母或编号查找参加的执法人员")
    search.fill("ln")
    shown = page.locator("#field-officers label.check:not([hidden]) input")
    assert shown.evaluate_all("inputs => inputs.map(i => i.value)") == ["officer.a2"]
    search.press("Enter")
    expect(page.locator("#field-officers input[value='officer.a2']")).to_be_focused()
    page.keyboard.press("Space")
    expect(page.locator("#field-officers input[value='officer.a2']")).to_be_checked()
    search.fill("zl")  # 赵磊; 李娜 stays shown because she is checked
    assert sorted(shown.evaluate_all("inputs => inputs.map(i => i.value)")) == ["head.a", "officer.a2"]


def test_an_entity_is_found_by_pinyin_initials_and_chosen_into_the_credit_code_field(
        people: People, picker_server: LiveServer) -> None:
    with picker_server.session() as session:
        instance = start(session, "case_lead", actor(session, "officer.a"), {}, "宝卫医案〔2026〕9号",
                         unit_id=COUNTY_A, entity_id=ENTITY_A, entity_name="康宁诊所")
        session.commit()
        task = ready_tasks(session, instance.id)[0]
    page = people.page("officer.a")
    page.goto(f"{picker_server.url}/tasks/{task.id}")
    if page.locator("#claim").count():
        page.click("#claim")
    search = page.get_by_label("按名称、拼音首字母或编号查找关联单位")
    search.fill("dezls")  # 第二自来水公司
    matches = page.locator("#f-related_entity-matches")
    expect(matches).to_be_visible()
    assert matches.evaluate("s => Array.from(s.options).map(o => o.value)") == [ENTITY_A2]
    search.press("Enter")
    expect(page.locator("#f-related_entity")).to_have_value(ENTITY_A2)
    expect(matches).to_be_hidden()
    search.fill("92610302")  # a credit code's beginning finds the entities it starts
    assert ENTITY_A in matches.evaluate("s => Array.from(s.options).map(o => o.value)")


def test_the_new_lead_page_finds_the_entity_by_pinyin_initials(people: People, picker_server: LiveServer) -> None:
    page = people.page("officer.a")
    page.click("#nav-new-lead")
    expect(page.locator("h1")).to_have_text("新建案源")
    page.get_by_label("按名称、拼音首字母或编号查找被监督单位").fill("knzs")  # 康宁诊所
    assert visible_options(page, "#entity") == [ENTITY_A]
    page.keyboard.press("Enter")
    expect(page.locator("#entity")).to_have_value(ENTITY_A)

"""The working-day calendar administration and the due-date form, clicked in Chromium.

Why: ``chinesecalendar`` stops at 2026, so a deadline reaching 2027 is counted Monday to Friday
and flagged. The way out is two pages nobody else opens in a browser: an administrator types the
year's arrangement into /admin/calendar (lines of dates and ranges in textareas), then a head
confirms or moves each flagged deadline under 期限 on the task page. The web tests post these
forms without a browser; here the real buttons are clicked (the CSRF field comes from the forms),
and each step checks what the page says and what the database then holds, including that a
refused entry writes nothing and that an officer is not offered the due-date form.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from engine import load_calendar, start
from engine.models import AuditEvent, CalendarOverride, CalendarYear, HumanTask, ProcessDefinition
from tests.e2e.conftest import LiveServer
from tests.e2e.test_browser import shot, signed_in_page
from tests.engine_helpers import deploy_fixture
from tests.web.conftest import COUNTY_A, actor

pytestmark = pytest.mark.e2e
CHINA = ZoneInfo("Asia/Shanghai")
# A made-up 2027 arrangement for the test, NOT the State Council's real notice (not published yet).
HOLIDAYS = "2027-01-01 元旦\n2027-02-06 至 2027-02-12 春节"
WORKDAYS = "2027-02-20"
NOTE = "测试用安排（非国务院通知）"


def _task(server: LiveServer, task_id: str) -> HumanTask:
    with server.session() as session:
        task = session.get(HumanTask, task_id)
        assert task is not None
        return task


def _calendar_rows(server: LiveServer) -> tuple[list[tuple[date, bool, str | None]], list[tuple[int, str]], int]:
    """The overrides, the entered years and the number of calendar audit events, as stored."""
    with server.session() as session:
        overrides = [(o.day, o.is_workday, o.note) for o in session.scalars(
            select(CalendarOverride).order_by(CalendarOverride.day))]
        years = [(y.year, y.entered_by) for y in session.scalars(select(CalendarYear))]
        events = session.scalar(select(func.count()).select_from(AuditEvent)
                                .where(AuditEvent.action.like("calendar%"))) or 0
        return overrides, years, events


@pytest.fixture(scope="module")
def uncertain_task(live_server: LiveServer) -> str:
    """A lead of 渭滨 started on Monday 2026-12-28: five working days reach into 2027, a guess."""
    with live_server.session() as session:
        known = session.scalar(select(ProcessDefinition).where(ProcessDefinition.process_key == "case_lead"))
        if known is None:
            deploy_fixture(session, "lead")
        assert not load_calendar(session).knows_year(2027)
        instance = start(session, "case_lead", actor(session, "officer.a"), {"source": "complaint"},
                         now=datetime(2026, 12, 28, 1, 0, tzinfo=UTC))
        session.commit()
        task = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                      HumanTask.status == "ready"))
        assert task is not None and task.unit_id == COUNTY_A and task.due_at is not None
        assert task.due_uncertain is True
        # 29, 30, 31 December, then 1 January (a guess: 元旦) and Monday 4 January.
        assert task.due_at.astimezone(CHINA).date() == date(2027, 1, 4)
        return task.id


def test_admin_enters_2027_and_a_head_confirms_the_guessed_deadline(
        chromium: Any, live_server: LiveServer, uncertain_task: str) -> None:
    page = signed_in_page(chromium, live_server, "admin")
    page.locator("nav.mainnav").get_by_role("link", name="系统管理").click()
    page.locator("nav.tabs").get_by_role("link", name="工作日历").click()
    assert page.url == f"{live_server.url}/admin/calendar"
    expect(page.locator("h1")).to_have_text("工作日历")
    year = page.locator("#year-2027")
    expect(year).to_have_attribute("data-source", "unknown")
    expect(year.locator(".badge")).to_contain_text("尚未公布")
    expect(year.locator("a.uncertain-link")).to_have_text("1")
    shot(page, "calendar-01-2027-unknown")
    assert _calendar_rows(live_server) == ([], [], 0)

    page.fill("#c-year", "2027")
    page.fill("#c-holidays", HOLIDAYS)
    page.fill("#c-workdays", WORKDAYS)
    page.fill("#c-note", NOTE)
    page.locator("#enter-year").get_by_role("button", name="保存").click()
    expect(page.locator(".flash")).to_contain_text("2027年节假日安排已保存")
    year = page.locator("#year-2027")
    expect(year).to_have_attribute("data-source", "entered")
    expect(year.locator(".badge")).to_have_text("管理员已录入")
    cells = year.locator("td")
    expect(cells.nth(2)).to_contain_text("放假日期: 2027-01-01, 2027-02-06 – 2027-02-12")
    expect(cells.nth(2)).to_contain_text("调休上班日期: 2027-02-20")
    expect(cells.nth(3)).to_have_text(NOTE)
    expect(cells.nth(4)).to_contain_text("admin")
    expect(year.locator("a.uncertain-link")).to_have_text("1")  # still a guess until a head checks it
    shot(page, "calendar-02-2027-entered")
    spring = [(date(2027, 2, d), False, NOTE) for d in range(6, 13)]
    entered = ([(date(2027, 1, 1), False, NOTE), *spring, (date(2027, 2, 20), True, NOTE)], [(2027, "admin")], 1)
    assert _calendar_rows(live_server) == entered
    with live_server.session() as session:
        calendar = load_calendar(session)
        assert calendar.knows_year(2027)
        assert not calendar.is_workday(date(2027, 1, 1)) and calendar.is_workday(date(2027, 2, 20))

    # Re-entering with a Wednesday as 调休上班: refused on its field, what was typed kept, nothing written.
    year.get_by_role("link", name="重新录入").click()
    expect(page.locator("#c-year")).to_have_value("2027")
    expect(page.locator("#c-workdays")).to_have_value("2027-02-20")
    page.fill("#c-workdays", "2027-02-20\n2027-01-06")
    page.locator("#enter-year").get_by_role("button", name="保存").click()
    error = page.locator("#enter-year .field.has-error")
    expect(error).to_have_count(1)
    expect(error.locator("textarea")).to_have_attribute("name", "workdays")
    expect(error.locator(".field-error")).to_have_text("2027-01-06 本是工作日，无需登记为调休上班")
    expect(page.locator("#c-workdays")).to_have_value("2027-02-20\n2027-01-06")
    expect(page.locator(".flash")).to_have_count(0)
    shot(page, "calendar-03-weekday-refused")
    assert _calendar_rows(live_server) == entered

    # The guessed-deadline count leads to the list of the tasks to check.
    page.goto(f"{live_server.url}/admin/calendar")
    page.locator("#year-2027 a.uncertain-link").click()
    assert page.url == f"{live_server.url}/admin/calendar/2027/tasks"
    expect(page.locator("h1")).to_have_text("2027年待核实的期限")
    rows = page.locator("table.uncertain-tasks tbody tr")
    expect(rows).to_have_count(1)
    row = rows.first
    expect(row).to_have_attribute("data-task", uncertain_task)
    expect(row.locator("td").nth(0)).to_have_text("2027-01-04 ?")
    expect(row.locator("td").nth(4)).to_have_text("渭滨区卫生监督所")
    link = row.get_by_role("link", name="登记案源")
    expect(link).to_have_attribute("href", f"/tasks/{uncertain_task}#due-date")
    shot(page, "calendar-04-guessed-tasks")
    href = link.get_attribute("href")
    page.context.close()

    head = signed_in_page(chromium, live_server, "head.a")
    head.goto(f"{live_server.url}{href}")
    expect(head.locator("h1")).to_have_text("登记案源")
    due = head.locator("#due-date")
    expect(due.locator("h2")).to_have_text("期限")
    expect(due.locator(".due-at")).to_have_text("2027-01-04")
    expect(due.locator(".badge-uncertain")).to_have_text("?")
    expect(due).to_contain_text("该期限在当年节假日安排公布前推算")
    head.fill("#due", "2027-01-05")
    head.fill("#due-reason", "元旦放假，顺延一个工作日")
    due.get_by_role("button", name="设定期限").click()
    expect(head.locator(".flash")).to_have_text("期限已设定。")
    due = head.locator("#due-date")
    expect(due.locator(".due-at")).to_have_text("2027-01-05")
    expect(due.locator(".badge-uncertain")).to_have_count(0)
    expect(due).not_to_contain_text("该期限在当年节假日安排公布前推算")
    shot(head, "calendar-05-due-date-set")
    task = _task(live_server, uncertain_task)
    assert task.due_uncertain is False and task.due_at is not None
    assert task.due_at.astimezone(CHINA) == datetime(2027, 1, 5, 23, 59, 59, tzinfo=CHINA)
    with live_server.session() as session:
        [change] = session.scalars(select(AuditEvent).where(AuditEvent.action == "task_due_changed"))
    assert (change.actor, change.data["reason"], change.data["was_uncertain"]) == (
        "head.a", "元旦放假，顺延一个工作日", True)
    head.context.close()

    officer = signed_in_page(chromium, live_server, "officer.a")  # may work on the task, not move its deadline
    officer.goto(f"{live_server.url}/tasks/{uncertain_task}")
    expect(officer.locator("h1")).to_have_text("登记案源")
    expect(officer.locator("#claim")).to_be_visible()  # the page is the real task page
    expect(officer.locator("#due-date")).to_have_count(0)
    expect(officer.locator("form.due-form")).to_have_count(0)
    officer.context.close()

    admin = signed_in_page(chromium, live_server, "admin")  # nothing left to check in 2027
    admin.goto(f"{live_server.url}/admin/calendar")
    expect(admin.locator("#year-2027 a.uncertain-link")).to_have_count(0)
    expect(admin.locator("#year-2027 td").nth(5)).to_have_text("0")
    admin.context.close()

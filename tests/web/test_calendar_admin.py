"""The working-day calendar in the web: the admin page and its two forms, the JSON API, the list of
tasks whose deadlines are guesses, and the due-date form on the task page that clears the flag.

``chinesecalendar`` 1.11 ends with 2026. The 2027 arrangement used here is made up for the test
(New Year's Day, a Spring Festival week, one make-up Saturday); it is NOT the State Council's
notice, whatever the real one turns out to be.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import load_calendar, start
from engine.models import AuditEvent, CalendarOverride, CalendarYear, HumanTask
from tests.web.conftest import COUNTY_A, ENTITY_A, actor
from tests.web.test_calendar_input import HOLIDAYS

NOTICE = "测试用安排（非国务院通知）"
WORKDAYS = "2027-02-20 调休上班"
MONDAY_BEFORE_NEW_YEAR = datetime(2026, 12, 28, 1, 0, tzinfo=UTC)  # 09:00 in China
API = "/api/v1/admin/calendar"


@pytest.fixture(autouse=True)
def _december_2026(monkeypatch: pytest.MonkeyPatch) -> None:
    """The page lists last year, this year and the next two: pin "this year" to 2026."""
    import web.admin_calendar
    import web.api.admin_calendar

    for module in (web.admin_calendar, web.api.admin_calendar):
        monkeypatch.setattr(module, "china_today", lambda: date(2026, 12, 1))


def _snapshot(session: Session) -> tuple[int, int, int]:
    session.expire_all()
    return (session.scalar(select(func.count()).select_from(CalendarOverride)) or 0,
            session.scalar(select(func.count()).select_from(CalendarYear)) or 0,
            session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def _field_error(page: str, field: str) -> str:
    """The error shown beside the form field ``field`` (``c-`` the year form, ``d-`` the day form)."""
    found = re.search(rf'class="field has-error"(?:><label for="{field}">| id="{field}">).*?'
                      rf'<p class="field-error">(.*?)</p>', page, re.DOTALL)
    assert found, f"no error beside {field}"
    return found.group(1)


def _year_row(page: str, year: int) -> str:
    found = re.search(rf'<tr id="year-{year}".*?</tr>', page, re.DOTALL)
    assert found, year
    return found.group(0)


def _year_form(**changes: str) -> dict[str, str]:
    return {"year": "2027", "holidays": HOLIDAYS, "workdays": WORKDAYS, "note": NOTICE, **changes}


def _guessed_task(session: Session) -> HumanTask:
    """A lead registered on the Monday before New Year: its 5 working days reach into 2027."""
    instance = start(session, "case_lead", actor(session, "officer.a"), {}, "L-2027", unit_id=COUNTY_A,
                     entity_id=ENTITY_A, entity_name="康宁诊所", now=MONDAY_BEFORE_NEW_YEAR)
    session.commit()
    [task] = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id))
    assert task.due_uncertain and task.due_at is not None
    return task


# -- the page ----------------------------------------------------------------------------------

def test_the_calendar_pages_are_for_admins_only(as_user: Any, browser: Any) -> None:
    admin, officer, head = as_user("admin"), as_user("officer.a"), as_user("head.a")
    for url in ("/admin/calendar", "/admin/calendar?year=2027", "/admin/calendar/2027/tasks"):
        assert admin.get(url).status_code == 200, url
        assert officer.get(url).status_code == 403, url
        assert head.get(url).status_code == 403, url
        assert browser.get(url).status_code == 302, url  # anonymous: to the sign-in page
    assert admin.get("/admin/calendar/next/tasks").status_code == 404
    assert admin.get("/admin/calendar/99999/tasks").status_code == 404
    assert admin.get("/admin/calendar?year=99999").status_code == 200
    assert admin.api("GET", f"{API}/99999").status_code == 404
    assert officer.post("/admin/calendar", _year_form()).status_code == 403
    assert officer.post("/admin/calendar/days", {"day": "2026-10-09", "kind": "holiday", "note": NOTICE}) \
        .status_code == 403
    assert officer.api("GET", API).status_code == 403
    assert officer.api("PUT", f"{API}/2027", {"holidays": ["2027-01-01"], "note": NOTICE}).status_code == 403
    assert browser.client.get(API).status_code == 401
    assert "/admin/calendar" in admin.get("/admin/users").get_data(as_text=True)  # in the admin menu


def test_the_page_shows_where_each_year_comes_from(as_user: Any) -> None:
    page = as_user("admin").get("/admin/calendar").get_data(as_text=True)
    assert "工作日历" in page
    for year in (2025, 2026):
        assert "由 chinesecalendar 提供" in _year_row(page, year)
    for year in (2027, 2028):
        row = _year_row(page, year)
        assert "尚未公布（期限按周一至周五推算，已标记待核实）" in row and "录入" in row
    assert "放假日期" in page and "调休上班日期" in page and "依据（通知文号）" in page


def test_entering_2027_through_the_form_makes_it_known(as_user: Any, session: Session) -> None:
    admin = as_user("admin")
    before = _snapshot(session)
    response = admin.post("/admin/calendar", _year_form())
    assert response.status_code == 302, response.get_data(as_text=True)
    calendar = load_calendar(session)
    assert calendar.knows_year(2027)
    assert not calendar.is_workday(date(2027, 1, 1)) and not calendar.is_workday(date(2027, 2, 8))
    assert calendar.is_workday(date(2027, 2, 20))  # the make-up Saturday
    assert _snapshot(session)[:2] == (before[0] + 10 + 1, before[1] + 1)
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "calendar_year_entered"))
    assert event.actor == "admin" and event.data["note"] == NOTICE and event.data["workdays"] == ["2027-02-20"]

    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "2027年节假日安排已保存" in page  # the flash
    row = _year_row(page, 2027)
    assert "管理员已录入" in row and NOTICE in row and "admin" in row
    assert "2027-01-01, 2027-02-06 – 2027-02-12, 2027-05-03 – 2027-05-04" in row and "2027-02-20" in row
    assert "重新录入" in row
    # Re-entering starts from what is in force.
    again = admin.get("/admin/calendar?year=2027").get_data(as_text=True)
    assert "2027-01-01\n2027-02-06..2027-02-12\n2027-05-03..2027-05-04</textarea>" in again
    assert f'value="{NOTICE}"' in again


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"holidays": "2027-01-01\n2027-02-30 春节"}, "c-holidays", "第2行：2027-02-30 不是有效日期"),
    ({"holidays": "元旦 2027-01-01"}, "c-holidays", "第1行：“元旦 2027-01-01”不是日期或日期范围"),
    ({"holidays": "2027-01-01\n2028-01-01"}, "c-holidays", "第2行：2028-01-01 不在2027年内"),
    ({"workdays": "2027-01-06"}, "c-workdays", "2027-01-06 本是工作日，无需登记为调休上班"),
    ({"workdays": "2027-02-06"}, "c-workdays", "2027-02-06 不能既放假又上班"),
    ({"note": "  "}, "c-note", "请填写依据（如国务院办公厅通知的文号）"),
    ({"holidays": ""}, "c-holidays", "请至少填写一个放假日期"),
    ({"year": "2026", "holidays": "2026-01-01", "workdays": ""}, "c-year", "2026年的安排已由 chinesecalendar 提供"),
    ({"year": "27"}, "c-year", "请填写年份（四位数字）"),
])
def test_a_bad_entry_shows_its_error_beside_the_field_and_writes_nothing(
        as_user: Any, session: Session, changes: dict[str, str], field: str, message: str) -> None:
    admin = as_user("admin")
    before = _snapshot(session)
    form = _year_form(**changes)
    response = admin.post("/admin/calendar", form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in _field_error(page, field)
    assert f'value="{form["year"]}"' in page and f"{form['workdays']}</textarea>" in page  # values kept
    assert _snapshot(session) == before
    assert not load_calendar(session).knows_year(2027)


def test_an_entry_without_the_csrf_token_is_refused(as_user: Any, session: Session) -> None:
    admin = as_user("admin")
    before = _snapshot(session)
    assert admin.post("/admin/calendar", _year_form(), csrf=False).status_code == 400
    assert admin.post("/admin/calendar", {**_year_form(), "csrf_token": "forged"}, csrf=False).status_code == 400
    assert admin.post("/admin/calendar/days", {"day": "2026-10-09", "kind": "holiday", "note": NOTICE},
                      csrf=False).status_code == 400
    assert _snapshot(session) == before
    assert not load_calendar(session).knows_year(2027)


def test_a_single_day_is_corrected_and_the_correction_removed(as_user: Any, session: Session) -> None:
    admin = as_user("admin")
    day = date(2026, 10, 9)  # a working day in the library's 2026
    before = _snapshot(session)
    for form, field, message in (
            ({"day": "2026-02-30", "kind": "holiday", "note": NOTICE}, "d-day", "请填写有效日期"),
            ({"day": "2026-10-09", "kind": "holiday", "note": ""}, "d-note", "请填写依据"),
            ({"day": "2026-10-09", "kind": "remove", "note": NOTICE}, "d-day", "2026-10-09 没有更正记录"),
            ({"day": "2026-10-09", "kind": "maybe", "note": NOTICE}, "d-kind", "请选择上班、放假或撤销更正")):
        refused = admin.post("/admin/calendar/days", form)
        assert refused.status_code == 422, form
        assert message in _field_error(refused.get_data(as_text=True), field)
    assert _snapshot(session) == before

    assert admin.post("/admin/calendar/days", {"day": "2026-10-09", "kind": "holiday", "note": "补充通知（测试）"}) \
        .status_code == 302
    assert not load_calendar(session).is_workday(day)
    row = _year_row(admin.get("/admin/calendar").get_data(as_text=True), 2026)
    assert "由 chinesecalendar 提供" in row and "更正为放假" in row and "2026-10-09" in row
    assert admin.post("/admin/calendar/days", {"day": "2026-10-09", "kind": "remove", "note": "撤销（测试）"}) \
        .status_code == 302
    assert load_calendar(session).is_workday(day)
    actions = [(e.data["before"], e.data["is_workday"]) for e in session.scalars(
        select(AuditEvent).where(AuditEvent.action == "calendar_day_corrected").order_by(AuditEvent.id))]
    assert actions == [(None, False), (False, None)]


# -- the API -----------------------------------------------------------------------------------

def test_the_api_enters_a_year_and_corrects_a_day(as_user: Any, session: Session) -> None:
    admin = as_user("admin")
    admin.get("/admin/calendar")  # the CSRF token for the session-authenticated API
    years = {y["year"]: y for y in admin.api("GET", API).get_json()}
    assert {y: v["source"] for y, v in years.items()} == {
        2025: "library", 2026: "library", 2027: "unknown", 2028: "unknown"}

    before = _snapshot(session)
    english = {"Accept-Language": "en-GB,en;q=0.9"}
    for body, field, text in (
            ({"holidays": ["2027-01-01"], "workdays": ["2027-01-06"], "note": NOTICE}, "workdays",
             "2027-01-06 is a weekday"),
            ({"holidays": ["2028-01-01"], "note": NOTICE}, "holidays", "2028-01-01 is not in 2027"),
            ({"holidays": ["2027-01-01"], "note": " "}, "note", "Give the source"),
            ({"holidays": ["2027-02-30"], "note": NOTICE}, "holidays", "Not a valid date"),
            ({"holidays": ["2027-01-01"]}, "note", "This field is required"),
            ({"holidays": ["2027-01-01"], "note": NOTICE, "extra": 1}, "extra", "")):
        refused = admin.api("PUT", f"{API}/2027", body, headers=english)
        assert refused.status_code == 422, body
        errors = refused.get_json()["errors"]
        assert field in errors and text in " ".join(errors[field]), errors
    chinese = admin.api("PUT", f"{API}/2027", {"holidays": ["2027-01-01"], "workdays": ["2027-01-06"],
                                               "note": NOTICE})
    assert chinese.get_json()["errors"]["workdays"] == ["2027-01-06 本是工作日，无需登记为调休上班"]
    no_csrf = admin.api("PUT", f"{API}/2027", {"holidays": ["2027-01-01"], "note": NOTICE},
                        headers={"X-CSRFToken": ""})
    assert no_csrf.status_code == 400 and no_csrf.get_json()["code"] == "csrf_failed"
    assert _snapshot(session) == before

    entered = admin.api("PUT", f"{API}/2027", {"holidays": ["2027-01-01", "2027-02-08"], "workdays": ["2027-02-20"],
                                               "note": NOTICE})
    assert entered.status_code == 200, entered.get_json()
    body = entered.get_json()
    assert (body["source"], body["holidays"], body["workdays"], body["note"], body["entered_by"]) == (
        "entered", ["2027-01-01", "2027-02-08"], ["2027-02-20"], NOTICE, "admin")
    assert load_calendar(session).knows_year(2027) and not load_calendar(session).is_workday(date(2027, 2, 8))
    assert admin.api("GET", f"{API}/2027").get_json()["holidays"] == ["2027-01-01", "2027-02-08"]
    assert {y["year"]: y["source"] for y in admin.api("GET", API).get_json()}[2027] == "entered"

    fixed = admin.api("POST", f"{API}/days", {"day": "2027-02-08", "is_workday": None, "note": "更正（测试）"})
    assert fixed.status_code == 200 and fixed.get_json()["holidays"] == ["2027-01-01"]
    assert load_calendar(session).is_workday(date(2027, 2, 8))
    again = admin.api("POST", f"{API}/days", {"day": "2027-02-08", "is_workday": None, "note": "再撤销"},
                      headers=english)
    assert again.status_code == 422
    assert again.get_json()["errors"] == {"day": ["2027-02-08 has no correction to remove"]}
    paths = admin.api("GET", "/api/v1/openapi.json").get_json()["paths"]
    assert {f"{API}", f"{API}/{{year}}", f"{API}/days", f"{API}/{{year}}/tasks"} <= set(paths)


# -- tasks whose deadline is a guess -----------------------------------------------------------

def test_guessed_deadlines_are_listed_and_a_head_confirms_them(as_user: Any, session: Session) -> None:
    task = _guessed_task(session)
    admin = as_user("admin")
    row = _year_row(admin.get("/admin/calendar").get_data(as_text=True), 2027)
    assert 'href="/admin/calendar/2027/tasks">1</a>' in row
    listing = admin.get("/admin/calendar/2027/tasks").get_data(as_text=True)
    assert f'href="/tasks/{task.id}#due-date"' in listing and "康宁诊所" in listing and "L-2027" in listing
    assert "2027-01-04" in listing and "渭滨区卫生监督所" in listing  # 01-01 counted as a working day
    assert [t["id"] for t in admin.api("GET", f"{API}/2027/tasks").get_json()] == [task.id]

    assert admin.post("/admin/calendar", _year_form()).status_code == 302
    listing = admin.get("/admin/calendar/2027/tasks").get_data(as_text=True)
    assert task.id in listing  # entering the year does not move it: a head checks it

    officer = as_user("officer.a")
    assert 'id="due-date"' not in officer.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert officer.post(f"/tasks/{task.id}/due", {"due": "2027-01-05", "reason": "x"}).status_code == 403
    head = as_user("head.a")
    page = head.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert 'id="due-date"' in page and 'value="2027-01-04"' in page and "badge-uncertain" in page
    refused = head.post(f"/tasks/{task.id}/due", {"due": "2027-01-05", "reason": " "})
    assert "请填写设定该期限的理由" in head.get(refused.headers["Location"]).get_data(as_text=True)
    moved = head.post(f"/tasks/{task.id}/due", {"due": "2027-01-05", "reason": "按2027年安排核实（测试）"})
    assert moved.status_code == 302
    session.expire_all()
    checked = session.get(HumanTask, task.id)
    assert checked is not None and not checked.due_uncertain
    assert checked.due_at == datetime(2027, 1, 5, 15, 59, 59, tzinfo=UTC)  # the end of the day in China
    assert "没有期限待核实的待办任务" in admin.get("/admin/calendar/2027/tasks").get_data(as_text=True)
    assert 'href="/admin/calendar/2027/tasks"' not in _year_row(admin.get("/admin/calendar").get_data(as_text=True),
                                                                2027)


# -- in English --------------------------------------------------------------------------------

def test_the_calendar_pages_in_english(as_user: Any, session: Session) -> None:
    _guessed_task(session)
    en = as_user("admin")
    en.get("/admin/calendar")
    assert en.post("/lang", {"lang": "en", "next": "/admin/calendar"}).status_code == 302
    page = en.get("/admin/calendar").get_data(as_text=True)
    for text in ("Working-day calendar", "Provided by chinesecalendar",
                 "Not announced yet (deadlines counted Monday to Friday and flagged for checking)", "Days off",
                 "Make-up working days", "Notice number (source)", "Correct a single day", "Open tasks with guessed"):
        assert text in page, text
    for text in ("工作日历", "由 chinesecalendar 提供", "尚未公布", "放假日期", "调休上班日期", "更正单日"):
        assert text not in page, text
    refused = en.post("/admin/calendar", _year_form(holidays="2027-01-01\n2028-01-01"))
    assert refused.status_code == 422
    assert _field_error(refused.get_data(as_text=True), "c-holidays") == "Line 2: 2028-01-01 is not in 2027"
    refused = en.post("/admin/calendar", _year_form(note=""))
    assert _field_error(refused.get_data(as_text=True), "c-note").startswith("Give the source")
    listing = en.get("/admin/calendar/2027/tasks").get_data(as_text=True)
    assert "Guessed deadlines in 2027" in listing and "not entered yet" in listing
    entered = en.post("/admin/calendar", _year_form())
    assert "The holiday arrangement for 2027 is saved" in en.get(entered.headers["Location"]).get_data(as_text=True)
    assert "Entered by an administrator" in _year_row(en.get("/admin/calendar").get_data(as_text=True), 2027)

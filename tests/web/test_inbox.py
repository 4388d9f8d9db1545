"""The inbox page: tabs and counts, filters, sorting, keyset paging, deadlines, saved filters, units."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine import complete_task, start
from engine.calendar import WorkCalendar
from engine.models import HumanTask
from tests.engine_helpers import deploy_fixture
from tests.web.conftest import COUNTY_A, COUNTY_B, ENTITY_A, ENTITY_A2, ENTITY_B, actor

ROW_RE = re.compile(r'<tr class="due-(\w+)" data-task-id="([0-9a-f-]{36})">')
COUNT_RE = re.compile(r'data-tab="(\w+)"[^>]*>\s*[^<]*<span class="count">(\d+)</span>')


def rows(html: str) -> list[tuple[str, str]]:
    return ROW_RE.findall(html)


def counts(html: str) -> dict[str, int]:
    return {tab: int(n) for tab, n in COUNT_RE.findall(html)}


@pytest.fixture
def cases(session: Session) -> dict[str, Any]:
    """Seven leads in county A (due on different days), one in county B, two structured cases."""
    deploy_fixture(session, "structures")
    officer = actor(session, "officer.a")
    base = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    leads = []
    for i in range(7):
        entity = ENTITY_A if i % 2 == 0 else ENTITY_A2
        leads.append(start(session, "case_lead", officer, {}, f"L-{i}", unit_id=COUNTY_A, entity_id=entity,
                           entity_name="某单位", now=base + timedelta(days=i)).id)
    start(session, "case_lead", actor(session, "officer.b"), {}, "L-B", unit_id=COUNTY_B, entity_id=ENTITY_B)
    structured = [start(session, "structured_case", officer, {}, f"S-{i}", unit_id=COUNTY_A).id for i in range(2)]
    session.commit()
    return {"leads": leads, "structured": structured}


def all_pages(browser: Any, url: str) -> list[str]:
    seen: list[str] = []
    while url:
        html = browser.get(url).get_data(as_text=True)
        seen.extend(task_id for _state, task_id in rows(html))
        found = re.search(r'<a href="([^"]+)" rel="next">', html)
        url = found.group(1).replace("&amp;", "&") if found else ""
        assert len(seen) < 100
    return seen


def test_tabs_counts_and_keyset_paging(as_user: Any, session: Session, cases: dict[str, Any]) -> None:
    officer = as_user("officer.a2")
    html = officer.get("/inbox?tab=claimable").get_data(as_text=True)
    assert counts(html) == {"assigned": 0, "deferred": 0, "delegated": 0, "claimable": 11, "overdue": 7,
                            "completed": 0}
    assert len(rows(html)) == 5  # page size 5 in tests
    ids = all_pages(officer, "/inbox?tab=claimable")
    assert len(ids) == len(set(ids)) == 11
    tasks = {t.id: t for t in session.scalars(select(HumanTask).where(HumanTask.id.in_(ids)))}
    dues = [tasks[i].due_sort for i in ids]
    assert dues == sorted(dues)  # soonest first; tasks without a deadline last
    assert {tasks[i].task_name for i in ids[-4:]} == {"interview", "site"}  # no deadline: last
    backwards = all_pages(officer, "/inbox?tab=claimable&order=-due")
    assert backwards == list(reversed(ids))


def test_filters(as_user: Any, session: Session, cases: dict[str, Any]) -> None:
    officer = as_user("officer.a")
    assert len(all_pages(officer, "/inbox?tab=claimable&process=case_lead")) == 7
    assert len(all_pages(officer, "/inbox?tab=claimable&process=structured_case&task=interview")) == 2
    assert len(all_pages(officer, f"/inbox?tab=claimable&entity={ENTITY_A2}")) == 3
    # due dates of the leads: 5 working days after 2026-03-02..08
    in_range = all_pages(officer, "/inbox?tab=claimable&due_from=2026-03-10&due_to=2026-03-11")
    due_days = {t.due_at.astimezone(UTC).date().isoformat()  # type: ignore[union-attr]
                for t in session.scalars(select(HumanTask).where(HumanTask.id.in_(in_range)))}
    assert in_range and due_days <= {"2026-03-09", "2026-03-10", "2026-03-11"}
    bad = officer.get("/inbox?tab=claimable&due_from=yesterday")
    assert bad.status_code == 422 and "部分筛选条件无效" in bad.get_data(as_text=True)
    tampered = officer.get("/inbox?tab=claimable&cursor=bm90LWEtY3Vyc29y")
    assert tampered.status_code == 200 and len(rows(tampered.get_data(as_text=True))) == 5
    assert officer.get("/inbox?tab=everything").status_code == 422


def test_units_scope_what_a_user_sees(as_user: Any, cases: dict[str, Any]) -> None:
    assert len(all_pages(as_user("officer.b"), "/inbox?tab=claimable")) == 1
    assert len(all_pages(as_user("officer.p"), "/inbox?tab=claimable")) == 12  # the province sees both counties
    assert all_pages(as_user("reviewer.a"), "/inbox?tab=claimable") == []  # no legal-review tasks yet


def test_assigned_completed_and_overdue_tabs(as_user: Any, session: Session, cases: dict[str, Any]) -> None:
    officer = as_user("officer.a")
    first, second = (session.scalar(select(HumanTask).where(HumanTask.instance_id == i)) for i in cases["leads"][:2])
    assert first is not None and second is not None
    officer.post(f"/tasks/{first.id}/claim")
    html = officer.get("/inbox").get_data(as_text=True)
    assert [task_id for _s, task_id in rows(html)] == [first.id] and counts(html)["assigned"] == 1
    complete_task(session, second.id, actor(session, "officer.a"), {"amount": 1, "facts": "x"})
    session.commit()
    done = officer.get("/inbox?tab=completed").get_data(as_text=True)
    assert [task_id for _s, task_id in rows(done)] == [second.id] and counts(done)["completed"] == 1
    overdue = officer.get("/inbox?tab=overdue").get_data(as_text=True)
    assert {state for state, _id in rows(overdue)} == {"overdue"} and len(rows(overdue)) == 5


def test_deadline_colours_use_working_days(as_user: Any, session: Session, cases: dict[str, Any]) -> None:
    calendar = WorkCalendar()
    today = datetime.now(UTC)
    soon = calendar.add_workdays(today, 1).due
    later = calendar.add_workdays(today, 10).due
    leads = cases["leads"]
    for instance_id, due in ((leads[0], soon), (leads[1], later), (leads[2], today - timedelta(days=3))):
        session.execute(update(HumanTask).where(HumanTask.instance_id == instance_id).values(due_at=due, due_sort=due))
    session.commit()
    html = as_user("officer.a").get("/inbox?tab=claimable&process=case_lead&order=-due").get_data(as_text=True)
    states = {task_id: state for state, task_id in rows(html)}
    by_instance = {t.instance_id: t.id for t in session.scalars(select(HumanTask).where(
        HumanTask.instance_id.in_(leads[:3])))}
    assert states[by_instance[leads[2]]] == "overdue"
    assert states[by_instance[leads[0]]] == "soon" and "剩余 1 个工作日" in html
    assert by_instance[leads[1]] not in states or states[by_instance[leads[1]]] == "ok"


def test_saved_filters_belong_to_their_owner(as_user: Any, cases: dict[str, Any]) -> None:
    officer = as_user("officer.a")
    saved = officer.post("/inbox/filters", {"name": "我的案源", "tab": "claimable", "process": "case_lead",
                                            "order": "-due"})
    assert saved.status_code == 302 and "process=case_lead" in saved.location
    html = officer.get("/inbox").get_data(as_text=True)
    assert "我的案源" in html and "tab=claimable&amp;process=case_lead&amp;order=-due" in html
    officer.post("/inbox/filters", {"name": "我的案源", "tab": "overdue"})  # same name: replaced
    html = officer.get("/inbox").get_data(as_text=True)
    assert html.count(">我的案源</a>") == 1 and "tab=overdue" in html
    filter_id = re.search(r'/inbox/filters/(\d+)/delete', html).group(1)  # type: ignore[union-attr]
    other = as_user("officer.a2")
    other.post(f"/inbox/filters/{filter_id}/delete")
    assert "我的案源" in officer.get("/inbox").get_data(as_text=True)
    assert "我的案源" not in other.get("/inbox").get_data(as_text=True)
    officer.post(f"/inbox/filters/{filter_id}/delete")
    assert "我的案源" not in officer.get("/inbox").get_data(as_text=True)
    nameless = officer.post("/inbox/filters", {"name": " ", "tab": "claimable"})
    assert nameless.status_code == 302
    assert "为筛选条件命名" in officer.get("/inbox").get_data(as_text=True)

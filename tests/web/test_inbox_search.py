"""Searching the inbox: the entity filter by name or credit code, one search box over case number,
entity name and task title, sorting by any column (kept in the URL), and an empty result that
says what was searched."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import claim, complete_task, start
from engine.models import HumanTask
from tests.engine_helpers import deploy_fixture
from tests.web.conftest import COUNTY_A, COUNTY_B, ENTITY_A, ENTITY_A2, ENTITY_B, actor
from tests.web.test_inbox import all_pages

CASE_RE = re.compile(r'<td[^>]*><a href="/cases/[0-9a-f-]{36}">([^<]+)</a></td>')


@pytest.fixture
def tasks(session: Session) -> dict[str, Any]:
    """Leads K-0..K-4 in county A (康宁诊所 / 第二自来水公司 alternating), one in county B, and two
    structured cases (tasks 询问调查 and 现场检查, no due date) in county A."""
    deploy_fixture(session, "structures")
    officer = actor(session, "officer.a")
    base = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    names = {ENTITY_A: "康宁诊所", ENTITY_A2: "第二自来水公司"}
    for i in range(5):
        entity = ENTITY_A if i % 2 == 0 else ENTITY_A2
        start(session, "case_lead", officer, {}, f"K-{i}", unit_id=COUNTY_A, entity_id=entity,
              entity_name=names[entity], now=base + timedelta(days=i))
    start(session, "case_lead", actor(session, "officer.b"), {}, "K-B", unit_id=COUNTY_B, entity_id=ENTITY_B,
          entity_name="仁和口腔门诊部")
    for i in range(2):
        start(session, "structured_case", officer, {}, f"S-{i}", unit_id=COUNTY_A, entity_id=ENTITY_A,
              entity_name="康宁诊所")
    session.commit()
    return {"titles": {t.task_name: t.title for t in session.scalars(select(HumanTask))}}


def cases_of(browser: Any, url: str) -> list[str]:
    """Case numbers of every row, following the pages."""
    found: list[str] = []
    while url:
        html = browser.get(url).get_data(as_text=True)
        found += CASE_RE.findall(html)
        more = re.search(r'<a href="([^"]+)" rel="next">', html)
        url = more.group(1).replace("&amp;", "&") if more else ""
    return found


def test_entity_filter_takes_a_name_or_a_credit_code(as_user: Any, tasks: dict[str, Any]) -> None:
    officer = as_user("officer.a")
    assert sorted(cases_of(officer, "/inbox?tab=claimable&entity=自来水")) == ["K-1", "K-3"]
    assert sorted(cases_of(officer, f"/inbox?tab=claimable&entity={ENTITY_A2.lower()}")) == ["K-1", "K-3"]
    assert len(cases_of(officer, "/inbox?tab=claimable&entity=康宁")) == 3 + 2 * 2  # leads, structured tasks
    html = officer.get("/inbox?tab=claimable&entity=仁和").get_data(as_text=True)  # another county's entity
    assert CASE_RE.findall(html) == []
    assert "本栏没有名称或统一社会信用代码为“仁和”的单位的任务" in html


def test_one_search_box_over_case_entity_and_task(as_user: Any, tasks: dict[str, Any]) -> None:
    officer = as_user("officer.a")
    assert cases_of(officer, "/inbox?tab=claimable&q=k-3") == ["K-3"]
    assert sorted(cases_of(officer, "/inbox?tab=claimable&q=自来水")) == ["K-1", "K-3"]
    title = tasks["titles"]["interview"]
    by_title = cases_of(officer, f"/inbox?tab=claimable&q={title}")
    assert sorted(by_title) == ["S-0", "S-1"]
    assert cases_of(officer, f"/inbox?tab=claimable&q=S-1 {title}") == ["S-1"]  # every word
    assert cases_of(officer, "/inbox?tab=claimable&q=K-B") == []  # another county's case
    html = officer.get("/inbox?tab=claimable&q=没有这个").get_data(as_text=True)
    assert "本栏没有与“没有这个”匹配的任务（已查案件编号、单位名称和任务名称）" in html
    assert 'value="没有这个"' in html  # the search stays in the box
    # the search survives the filter form and is saved with a filter
    saved = officer.post("/inbox/filters", {"name": "自来水", "tab": "claimable", "q": "自来水"})
    assert "q=" in saved.location


def test_sort_by_any_column_both_ways(as_user: Any, session: Session, tasks: dict[str, Any]) -> None:
    officer = as_user("officer.a")
    leads = "/inbox?tab=claimable&process=case_lead"
    assert cases_of(officer, leads + "&order=case") == ["K-0", "K-1", "K-2", "K-3", "K-4"]
    assert cases_of(officer, leads + "&order=-case") == ["K-4", "K-3", "K-2", "K-1", "K-0"]
    by_entity = cases_of(officer, leads + "&order=entity")
    assert by_entity[:2] in (["K-0", "K-2"], ["K-2", "K-0"], ["K-0", "K-4"], ["K-4", "K-0"], ["K-2", "K-4"],
                             ["K-4", "K-2"])  # 康 before 第 (code points)
    every = cases_of(officer, "/inbox?tab=claimable&order=title")  # 9 tasks over two pages of 5
    assert len(every) == 9
    titles = [t.title for t in session.scalars(select(HumanTask).where(HumanTask.unit_id == COUNTY_A))]
    assert len(titles) == 9
    created = cases_of(officer, leads + "&order=-created")
    assert created == ["K-4", "K-3", "K-2", "K-1", "K-0"]
    html = officer.get(leads + "&order=case").get_data(as_text=True)
    assert 'aria-sort="ascending"' in html and "order=-case" in html  # the header turns it around
    assert "order=title" in html and "order=entity" in html and "order=due" in html


def test_sort_by_process_and_assignee(as_user: Any, session: Session, tasks: dict[str, Any]) -> None:
    officer = as_user("officer.a")
    by_process = cases_of(officer, "/inbox?tab=claimable&order=process")
    assert len(by_process) == 9 and [k[0] for k in by_process] == ["K"] * 5 + ["S"] * 4  # case_lead first
    assert [k[0] for k in cases_of(officer, "/inbox?tab=claimable&order=-process")] == ["S"] * 4 + ["K"] * 5
    # the overdue tab holds her own and claimable tasks: hers together, the unassigned ones last
    for case in ("K-1", "K-3"):
        task = session.scalar(select(HumanTask).where(HumanTask.business_key == case))
        assert task is not None
        claim(session, task.id, actor(session, "officer.a"))
    session.commit()
    assert cases_of(officer, "/inbox?tab=overdue&order=assignee")[:2] == ["K-1", "K-3"]
    assert sorted(cases_of(officer, "/inbox?tab=overdue&order=-assignee")[2:]) == ["K-0", "K-2", "K-4"]
    html = officer.get("/inbox?tab=overdue&order=process").get_data(as_text=True)
    assert re.search(r'<th scope="col" aria-sort="ascending"><a href="[^"]*order=-process', html)
    for key in ("title", "case", "entity", "due", "assignee"):  # every other header sorts its column
        assert re.search(rf'<th scope="col"><a href="[^"]*order={key}[&"]', html), key
    assert '<option value="assignee"' in html


def test_completed_tab_sorts_by_completion_and_due_date(as_user: Any, session: Session,
                                                        tasks: dict[str, Any]) -> None:
    officer = as_user("officer.a")
    done_at = datetime.now(UTC) - timedelta(hours=3)
    for hours, case in enumerate(("K-2", "K-0", "K-1")):  # K-i's lead is due i days after K-0's
        task = session.scalar(select(HumanTask).where(HumanTask.business_key == case))
        assert task is not None
        complete_task(session, task.id, actor(session, "officer.a"), {"amount": 1, "facts": "x"},
                      now=done_at + timedelta(hours=hours))
        session.commit()
    done = "/inbox?tab=completed&process=case_lead"
    assert cases_of(officer, done) == ["K-1", "K-0", "K-2"]  # newest completion first
    assert cases_of(officer, done + "&order=completed") == ["K-2", "K-0", "K-1"]
    assert cases_of(officer, done + "&order=-completed") == ["K-1", "K-0", "K-2"]
    assert cases_of(officer, done + "&order=deadline") == ["K-0", "K-1", "K-2"]
    assert cases_of(officer, done + "&order=-deadline") == ["K-2", "K-1", "K-0"]
    html = officer.get("/inbox?tab=completed").get_data(as_text=True)
    # its natural order is the newest completion first, and the header says so
    assert re.search(r'<th scope="col" aria-sort="descending"><a href="[^"]*order=completed[&"]', html)
    assert re.search(r'<a href="[^"]*order=deadline[&"][^>]*data-sort="deadline"', html)
    assert officer.get("/inbox?tab=completed&order=-deadline").status_code == 200
    # an order only the completed tab knows is not carried to the other tabs
    html = officer.get("/inbox?tab=completed&order=completed").get_data(as_text=True)
    assert re.search(r'href="/inbox\?tab=assigned" class="tab', html)


def test_bad_search_gets_an_answer(as_user: Any, tasks: dict[str, Any]) -> None:
    officer = as_user("officer.a")
    long = officer.get("/inbox", query_string={"tab": "claimable", "q": "案" * 10_000})
    html = long.get_data(as_text=True)
    assert long.status_code == 422 and "最多 100 个字符" in html
    assert officer.get("/inbox?tab=claimable&order=password").status_code == 422
    tampered = officer.get("/inbox?tab=claimable&order=title&cursor=bm90LWEtY3Vyc29y")
    assert tampered.status_code == 200 and len(CASE_RE.findall(tampered.get_data(as_text=True))) == 5
    assert len(all_pages(officer, "/inbox?tab=claimable&q=%25")) == 0  # "%" is no wildcard

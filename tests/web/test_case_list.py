"""The case list (/cases): what each person sees, the search box (case number, entity, party,
facts), every filter, sorting, pages, and the CSV/XLSX export of the current search."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import update
from sqlalchemy.orm import Session

from engine import cancel, claim, complete_task, start
from engine.models import HumanTask
from processes.penalty.models import PenaltyCase
from tests.web.conftest import CITY, COUNTY_A, COUNTY_B, ENTITY_A, ENTITY_A2, ENTITY_B, actor, ready_task, start_lead

ROW_RE = re.compile(r'<tr data-instance-id="([0-9a-f-]{36})"')
KEY_RE = re.compile(r'class="case-link">([^<]+)</a>')
FORMULA = '=HYPERLINK("http://evil.example","点我")'


def keys(html: str) -> list[str]:
    return KEY_RE.findall(html)


@pytest.fixture
def cases(session: Session) -> dict[str, str]:
    """County A: L-1 (康宁诊所), L-2 (第二自来水公司), L-3 (a formula-looking name, completed),
    L-4 (cancelled); county B: L-B (仁和口腔门诊部). L-1 has a penalty register row with facts."""
    ids = {"L-1": start_lead(session, key="L-1").id, "L-2": start_lead(session, entity=ENTITY_A2, key="L-2").id}
    officer = actor(session, "officer.a")
    done = start(session, "case_lead", officer, {}, "L-3", unit_id=COUNTY_A, entity_id=ENTITY_A, entity_name=FORMULA)
    session.commit()
    complete_task(session, ready_task(session, done.id).id, officer, {"amount": 1, "facts": "x"})
    ids["L-3"] = done.id
    ids["L-4"] = start_lead(session, key="L-4").id
    cancel(session, ids["L-4"], actor(session, "head.a"), "重复登记")
    session.commit()
    ids["L-B"] = start_lead(session, "officer.b", ENTITY_B, "L-B").id
    session.add(PenaltyCase(id=str(uuid.uuid4()), instance_id=ids["L-1"], procedure="ordinary", unit_id=COUNTY_A,
                            unit_name="渭滨区卫生监督所", unit_short_name="渭滨", case_number="渭卫罚〔2026〕7号",
                            legal_representative="王德发", violation="未取得医疗美容科目，开展注射美容项目",
                            officers=[{"user_id": "officer.a2", "name": "李娜"}]))
    session.commit()
    return ids


def test_signed_in_staff_only_and_in_the_navigation(browser: Any, as_user: Any) -> None:
    assert browser.get("/cases").status_code == 302
    html = as_user("officer.a").get("/inbox").get_data(as_text=True)
    assert 'id="nav-cases"' in html and ">案件</a>" in html


def test_each_person_sees_the_cases_of_their_units(as_user: Any, cases: dict[str, str]) -> None:
    assert sorted(keys(as_user("officer.a").get("/cases").get_data(as_text=True))) == ["L-1", "L-2", "L-3", "L-4"]
    other = as_user("officer.b")
    assert keys(other.get("/cases").get_data(as_text=True)) == ["L-B"]
    for search in ("康宁", "L-1", "王德发", "注射美容"):  # another county's case: not in the search either
        html = other.get("/cases", query_string={"q": search}).get_data(as_text=True)
        assert keys(html) == [] and f"没有与“{search}”匹配的案件" in html
    exported = other.get("/cases/export.csv", query_string={"q": "L"}).get_data(as_text=True)
    assert "L-B" in exported and "L-1" not in exported and "康宁" not in exported
    assert keys(other.get("/cases", query_string={"unit": COUNTY_A}).get_data(as_text=True)) == []
    # the province sees both counties, and narrows to one through the unit filter (with what is below it)
    province = as_user("officer.p")
    assert len(keys(province.get("/cases").get_data(as_text=True))) == 5
    assert keys(province.get("/cases", query_string={"unit": COUNTY_B}).get_data(as_text=True)) == ["L-B"]
    assert len(keys(province.get("/cases", query_string={"unit": CITY}).get_data(as_text=True))) == 5


def test_one_search_box_over_number_entity_party_and_facts(as_user: Any, cases: dict[str, str]) -> None:
    officer = as_user("officer.a")

    def found(q: str) -> list[str]:
        return sorted(keys(officer.get("/cases", query_string={"q": q}).get_data(as_text=True)))

    assert found("康宁") == ["L-1", "L-4"]  # entity name (L-3 is the same entity under another name)
    assert found("自来水") == ["L-2"]
    assert found("l-2") == ["L-2"]  # case number, any case
    assert found(ENTITY_A2[-6:]) == ["L-2"]  # part of the credit code
    assert found("渭卫罚〔2026〕7号") == ["L-1"]  # the penalty register's case number
    assert found("王德发") == ["L-1"]  # the party's legal representative
    assert found("注射美容") == ["L-1"]  # the facts
    assert found("康宁 注射") == ["L-1"]  # every word must match somewhere
    assert found("100%") == [] and found("L_1") == []  # wildcards are taken literally
    html = officer.get("/cases", query_string={"q": "不存在的单位"}).get_data(as_text=True)
    assert "没有与“不存在的单位”匹配的案件" in html and "清除搜索" in html


def test_filters_process_status_stage_officer_overdue(as_user: Any, session: Session, cases: dict[str, str]) -> None:
    officer = as_user("officer.a")

    def found(**params: str) -> list[str]:
        response = officer.get("/cases", query_string=params)
        assert response.status_code == 200
        return sorted(keys(response.get_data(as_text=True)))

    assert found(status="running") == ["L-1", "L-2"]
    assert found(status="completed") == ["L-3"]
    assert found(status="cancelled") == ["L-4"]
    assert found(process="case_lead") == ["L-1", "L-2", "L-3", "L-4"]
    assert found(process="no_such_process") == []
    assert found(stage="register") == ["L-1", "L-2"]
    assert found(stage="approve") == []
    # officer: who holds a ready task, who started it, and whom the package names (penalty officers)
    claim(session, ready_task(session, cases["L-2"]).id, actor(session, "head.a"))
    session.commit()
    assert found(officer="head.a") == ["L-2"]
    assert found(officer="officer.a2") == ["L-1"]  # named on the penalty register
    assert found(officer="officer.a") == ["L-1", "L-2", "L-3", "L-4"]  # she started them
    past = datetime.now(UTC) - timedelta(days=3)
    session.execute(update(HumanTask).where(HumanTask.instance_id == cases["L-1"]).values(due_at=past, due_sort=past))
    session.commit()
    assert found(overdue="1") == ["L-1"]
    html = officer.get("/cases?overdue=1").get_data(as_text=True)
    assert "已逾期" in html or "逾期" in html
    assert found(overdue="1", q="自来水") == []


def test_sorting_and_pages(as_user: Any, session: Session, cases: dict[str, str]) -> None:
    officer = as_user("officer.a")
    assert keys(officer.get("/cases?sort=case").get_data(as_text=True)) == ["L-1", "L-2", "L-3", "L-4"]
    html = officer.get("/cases?sort=-case").get_data(as_text=True)
    assert keys(html) == ["L-4", "L-3", "L-2", "L-1"]
    assert 'aria-sort="descending"' in html and "sort=case" in html  # the header link turns it around
    by_entity = keys(officer.get("/cases?sort=entity").get_data(as_text=True))
    assert by_entity[0] == "L-3"  # "=" sorts before Chinese characters
    for column in ("process", "unit", "status", "due", "-due", "started", "-started", "-updated"):
        assert officer.get(f"/cases?sort={column}").status_code == 200
    for i in range(30):
        start_lead(session, key=f"P-{i:02d}")
    first = officer.get("/cases?sort=case&q=P-").get_data(as_text=True)
    assert keys(first) == [f"P-{i:02d}" for i in range(25)] and "第 1 页，共 2 页" in first
    second = officer.get("/cases?sort=case&q=P-&page=2").get_data(as_text=True)
    assert keys(second) == [f"P-{i:02d}" for i in range(25, 30)] and 'rel="prev"' in second


def test_bad_input_gets_an_answer_not_an_error(as_user: Any, cases: dict[str, str]) -> None:
    officer = as_user("officer.a")
    long = officer.get("/cases", query_string={"q": "康" * 10_000})
    html = long.get_data(as_text=True)
    assert long.status_code == 422 and "最多 100 个字符" in html and keys(html) == []
    unknown = officer.get("/cases?sort=password")
    assert unknown.status_code == 422 and "未知的排序列" in unknown.get_data(as_text=True)
    assert len(keys(unknown.get_data(as_text=True))) == 4
    for bad in ("status=everything", "page=abc", "page=0", "page=99999999"):
        assert officer.get(f"/cases?{bad}").status_code == 422
    assert officer.get("/cases?page=7").status_code == 200  # past the end: the last page
    assert officer.get("/cases/export.csv", query_string={"q": "x" * 10_000}).status_code == 422


def test_export_is_the_current_search_and_formula_safe(as_user: Any, cases: dict[str, str]) -> None:
    officer = as_user("officer.a")
    response = officer.get("/cases/export.csv", query_string={"q": "L-", "sort": "case"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert table[0][:3] == ["案件编号", "流程", "被监督单位"]
    assert [row[0] for row in table[1:]] == ["L-1", "L-2", "L-3", "L-4"]
    formula_row = table[3]
    assert formula_row[2] == "'" + FORMULA  # shown as the text typed, never run as a formula
    assert formula_row[5] == "已完成" and table[1][6] == "登记案源"
    only = officer.get("/cases/export.csv", query_string={"q": "自来水"}).get_data().decode("utf-8-sig")
    assert "L-2" in only and "L-1" not in only
    book = load_workbook(io.BytesIO(officer.get("/cases/export.xlsx", query_string={"sort": "case"}).get_data()))
    sheet = book.active
    assert sheet is not None
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert [v[0] for v in values[1:]] == ["L-1", "L-2", "L-3", "L-4"]
    cell = sheet.cell(row=4, column=3)
    assert cell.value == "'" + FORMULA and cell.data_type == "s"


def test_english_labels(as_user: Any, cases: dict[str, str]) -> None:
    officer = as_user("officer.a")
    assert officer.post("/lang", {"lang": "en", "next": "/cases"}).status_code == 302
    html = officer.get("/cases", query_string={"q": "nothing-like-this"}).get_data(as_text=True)
    assert ">Cases</a>" in html and "No case you may see matches “nothing-like-this”" in html
    assert ENTITY_A not in keys(html)


def test_seeing_every_unit_drops_the_visibility_condition_and_finds_the_same(session: Session,
                                                                            cases: dict[str, str]) -> None:
    """The fast path for someone whose units are the whole directory finds exactly what the full
    visibility condition finds, for each search; a county's officer keeps the condition."""
    from sqlalchemy import select

    from engine import permissions as perm
    from engine.models import ProcessInstance
    from processes.directory.services import create_user
    from tests.web.conftest import PASSWORD, PROVINCE
    from web.case_query import CaseQuery, sees_every_unit, where

    create_user(session, "head.p", "周省", PROVINCE, ["head", "officer"], PASSWORD, "C-P-9")
    session.commit()
    province, county = actor(session, "head.p"), actor(session, "officer.a")
    assert sees_every_unit(session, province) and not sees_every_unit(session, county)
    now = datetime.now(UTC)
    for params in ({}, {"q": "康宁"}, {"q": "渭卫罚"}, {"q": "王德发"}, {"status": "cancelled"}, {"overdue": "1"}):
        query = CaseQuery.parse(params)
        fast = set(session.scalars(select(ProcessInstance.id).where(*where(session, province, query, now))))
        full = set(session.scalars(select(ProcessInstance.id).where(
            perm.visible_instances(province), *where(session, province, query, now))))
        assert fast == full, params
    every = set(session.scalars(select(ProcessInstance.id).where(*where(session, province, CaseQuery.parse({}), now))))
    assert set(cases.values()) <= every

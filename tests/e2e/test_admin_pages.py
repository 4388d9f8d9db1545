"""What an administrator clicks on the pages no other browser test opens: the unit list and a unit's
edit page (rename, a refused deactivation, a granted one), the penalty rules page (a change with its
reason, an out-of-range value refused), and the case-card report list a person of the unit sees.

Why: the web tests (``tests/web``) post these forms without a browser, so they do not notice a
button that posts to the wrong form, a missing CSRF field, or a message the page never shows.
Here the real buttons are clicked in Chromium, and each step checks both what the page says and
what the database then holds (nothing written when the page refuses).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from engine import due_jobs, run_job
from engine.clock import china_today
from engine.models import AuditEvent, HumanTask
from processes.directory.models import Unit
from processes.penalty import pdf_rendering, start_case, submit_task
from processes.penalty.models import CardReport, PenaltyCase
from processes.penalty.rule_overrides import RuleOverride, effective_rules
from tests.e2e.conftest import LiveServer
from tests.e2e.test_browser import shot, signed_in_page
from tests.web.conftest import CITY, COUNTY_A, COUNTY_B, ENTITY_A, actor
from tests.web.penalty_flow import setup_penalty

pytestmark = pytest.mark.e2e
NEW_UNIT = "610304"  # 陈仓区: a county of 宝鸡 with nobody in it yet


def _unit(server: LiveServer, unit_id: str) -> Unit:
    with server.session() as session:
        unit = session.get(Unit, unit_id)
        assert unit is not None
        return unit


def _unit_changes(server: LiveServer, unit_id: str) -> list[dict[str, Any]]:
    with server.session() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "unit_changed")
                                 .order_by(AuditEvent.id))
        return [e.data["changes"] for e in events if e.data["unit"] == unit_id]


def _edit_unit(page: Page, server: LiveServer, name: str) -> None:
    """From the unit list, follow the unit's own 编辑 link to its edit page."""
    page.goto(f"{server.url}/admin/units")
    page.locator("table tbody tr", has_text=name).get_by_role("link", name="编辑").click()
    expect(page.locator("h1")).to_have_text(f"编辑单位: {name}")


def test_admin_renames_a_unit_and_deactivates_only_an_empty_one(chromium: Any, live_server: LiveServer) -> None:
    page = signed_in_page(chromium, live_server, "admin")
    _edit_unit(page, live_server, "金台区卫生监督所")
    assert page.url.endswith(f"/admin/units/{COUNTY_B}")
    expect(page.locator("#u-name")).to_have_value("金台区卫生监督所")
    page.fill("#u-name", "金台区卫生健康综合监督所")
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".flash")).to_have_text("单位 金台区卫生健康综合监督所 已保存。")
    expect(page.locator("h1")).to_have_text("单位")
    expect(page.locator("table tbody")).to_contain_text("金台区卫生健康综合监督所")
    expect(page.locator("table tbody")).not_to_contain_text("金台区卫生监督所")
    shot(page, "admin-01-unit-renamed")
    renamed = _unit(live_server, COUNTY_B)
    assert (renamed.name, renamed.short_name, renamed.parent_id, renamed.active) == (
        "金台区卫生健康综合监督所", "金台", CITY, True)
    assert _unit_changes(live_server, COUNTY_B) == [{"name": ["金台区卫生监督所", "金台区卫生健康综合监督所"]}]

    # 渭滨 still has four people at work: the page refuses and says why, and nothing changes.
    _edit_unit(page, live_server, "渭滨区卫生监督所")
    expect(page.locator("h2", has_text="状态")).to_have_text("状态: 正常")
    page.get_by_role("button", name="停用单位").click()
    expect(page.locator(".form-errors[role=alert]")).to_have_text("该单位还有4名在职人员，请先调出或停用")
    expect(page.get_by_role("button", name="停用单位")).to_be_visible()
    shot(page, "admin-02-unit-deactivation-refused")
    assert _unit(live_server, COUNTY_A).active is True
    assert _unit_changes(live_server, COUNTY_A) == []

    # A new county unit, made with the list page's form: nobody works there, nothing waits there.
    page.goto(f"{live_server.url}/admin/units")
    page.fill("#u-id", NEW_UNIT)
    page.fill("#u-name", "陈仓区卫生监督所")
    page.fill("#u-short_name", "陈仓")
    page.fill("#u-region_code", NEW_UNIT)
    page.select_option("#u-level", "county")
    page.select_option("#u-parent", CITY)
    page.get_by_role("button", name="创建").click()
    expect(page.locator(".flash")).to_have_text("已创建单位 陈仓区卫生监督所。")
    created = _unit(live_server, NEW_UNIT)
    assert (created.parent_id, created.level, created.path, created.active) == (
        CITY, "county", f"/610000/{CITY}/{NEW_UNIT}/", True)

    _edit_unit(page, live_server, "陈仓区卫生监督所")
    page.get_by_role("button", name="停用单位").click()
    expect(page.locator(".flash")).to_have_text("单位 陈仓区卫生监督所 已停用。")
    row = page.locator("table tbody tr", has_text="陈仓区卫生监督所")
    expect(row).to_have_class("inactive")
    expect(row.locator(".badge")).to_have_text("已停用")
    expect(page.locator("table tbody tr.inactive")).to_have_count(1)  # only that one
    shot(page, "admin-03-unit-deactivated")
    assert _unit(live_server, NEW_UNIT).active is False
    assert _unit_changes(live_server, NEW_UNIT) == [{"active": [True, False]}]
    assert _unit(live_server, COUNTY_A).active is True
    page.context.close()


def _overrides(server: LiveServer) -> list[RuleOverride]:
    with server.session() as session:
        return list(session.scalars(select(RuleOverride).order_by(RuleOverride.id)))


def test_admin_changes_a_rule_with_a_reason_and_an_out_of_range_value_is_refused(
        chromium: Any, live_server: LiveServer) -> None:
    page = signed_in_page(chromium, live_server, "admin")
    page.goto(f"{live_server.url}/admin/rules")
    expect(page.locator("h1")).to_have_text("行政处罚期限与限额配置")
    row = page.locator("#section-periods tbody tr").filter(has=page.get_by_text("filing_workdays", exact=True))
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(3)).to_have_text("7")  # the file default is in force
    row.get_by_role("link", name="修改").click()
    expect(page.locator("#value-in-force")).to_have_text("7")

    page.fill("#r-value", "-3")
    page.fill("#r-reason", "测试")
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".form-errors[role=alert]")).to_contain_text("不小于1")
    expect(page.locator("#r-value")).to_have_value("-3")  # what was typed is kept
    expect(page.locator("#value-in-force")).to_have_text("7")
    shot(page, "admin-04-rule-out-of-range")
    assert _overrides(live_server) == []

    page.fill("#r-value", "10")
    page.fill("#r-reason", "本省规定立案期限为10个工作日")
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".flash")).to_contain_text("periods.filing_workdays 已修改")
    row = page.locator("#section-periods tbody tr").filter(has=page.get_by_text("filing_workdays", exact=True))
    expect(row.locator("td").nth(2)).to_have_text("7")  # the file default, still shown beside it
    expect(row.locator("td").nth(3)).to_have_text("10 已修改")
    expect(row.locator("td").nth(4)).to_contain_text("admin")
    shot(page, "admin-05-rule-changed")
    [override] = _overrides(live_server)
    assert (override.key, override.value, override.previous, override.changed_by, override.reason) == (
        "periods.filing_workdays", 10, 7, "admin", "本省规定立案期限为10个工作日")
    with live_server.session() as session:
        assert effective_rules(session).periods.filing_workdays == 10
        assert effective_rules(session).periods.summary_filing_workdays == 7  # its neighbour is untouched
        actions = list(session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("penalty_rule%"))))
    assert actions == ["penalty_rule_changed"]
    page.context.close()


@pytest.fixture(scope="module")
def served_case(live_server: LiveServer) -> str:
    """An on-the-spot decision of 渭滨 a month ago: served at once, so its first card report is overdue."""
    with live_server.session() as session:
        setup_penalty(session)
        session.commit()
        officer = actor(session, "officer.a")
        case = start_case(session, officer, unit_id=COUNTY_A, unit_name="渭滨区卫生监督所", unit_short_name="渭滨",
                          procedure="summary")
        session.commit()
        task = session.scalar(select(HumanTask).where(HumanTask.instance_id == case.instance_id,
                                                      HumanTask.status == "ready"))
        assert task is not None
        decided = (china_today() - timedelta(days=30)).isoformat()
        submit_task(session, task.id, officer, {
            "entity_name": "康宁诊所", "party_type": "organisation", "credit_code": ENTITY_A, "category": "medical",
            "officers": [{"user_id": "officer.a", "name": "张伟", "certificate_no": "C-A-1"},
                         {"user_id": "officer.a2", "name": "李娜", "certificate_no": "C-A-2"}],
            "violation": "未按规定公示医疗服务价格", "violation_date": decided, "legal_basis": "《医疗机构管理条例》",
            "decided_on": decided, "statement_heard": True, "penalty_kinds": ["warning"],
            "violation_place": "康宁诊所", "violation_time": "10:30", "party_signed": True})
        session.commit()
        with pdf_rendering(False):  # the service tasks (case number, decision document), as the relay runs them
            while jobs := due_jobs(session):
                for job_id in jobs:
                    run_job(session, job_id)
                    session.commit()
        session.refresh(case)
        assert case.case_number and case.card_first_due is not None and case.card_first_due < china_today()
        return case.case_number


def test_the_case_card_report_list_shows_the_units_overdue_report(chromium: Any, live_server: LiveServer,
                                                                   served_case: str) -> None:
    page = signed_in_page(chromium, live_server, "head.a")
    response = page.goto(f"{live_server.url}/reports/casecards")
    assert response is not None and response.status == 200
    expect(page.locator("h1")).to_have_text("一案一卡导出")
    with page.expect_response(lambda r: "/reports/casecards/due" in r.url) as listing:
        page.click("#card-report-deadlines")
    assert listing.value.status == 200
    expect(page.locator("h1")).to_have_text("一案一卡报告")
    expect(page.locator("#report")).to_have_value("first")
    expect(page.locator("#show")).to_have_value("overdue")
    row = page.locator("table.card-reports tbody tr", has_text=served_case)
    expect(row).to_have_count(1)
    expect(row).to_have_class("report-overdue")
    expect(row).to_contain_text("康宁诊所")
    expect(row.locator(".report-state")).to_have_text("逾期未报告")
    with live_server.session() as session:
        due = session.scalar(select(PenaltyCase.card_first_due).where(PenaltyCase.case_number == served_case))
    expect(row.locator("td").nth(3)).to_have_text(str(due))
    shot(page, "admin-06-card-reports-overdue")

    other = signed_in_page(chromium, live_server, "officer.b")  # 金台 does not see 渭滨's cases
    other.goto(f"{live_server.url}/reports/casecards/due?report=first&show=all")
    expect(other.locator("table.card-reports tbody")).to_have_text("此列表中没有报告。")
    other.context.close()

    # The head records the report: it leaves the overdue list and is listed as reported late.
    row.locator("input[name=case_id]").check()
    page.get_by_role("button", name="将所选案件登记为已报告").click()
    expect(page.locator(".flash")).to_have_text("已登记 1 件案件的报告。")
    expect(page.locator("table.card-reports tbody")).to_have_text("此列表中没有报告。")
    with live_server.session() as session:
        [made] = session.scalars(select(CardReport))
        assert (made.report, made.reported_by, made.due, made.reported_on) == ("first", "head.a", due, china_today())
        assert made.card["case_number"] == served_case and len(made.card_sha256) == 64
    page.select_option("#show", "all")
    page.get_by_role("button", name="筛选").click()
    row = page.locator("table.card-reports tbody tr", has_text=served_case)
    expect(row.locator(".report-state")).to_have_text("逾期报告")
    expect(row.locator("td").nth(5)).to_have_text("head.a")
    expect(row.locator("code.hash")).to_have_text(made.card_sha256)
    expect(row.locator("input[name=case_id]")).to_have_count(0)  # reported once: no box to tick again
    shot(page, "admin-07-card-report-recorded")

    # Second report: the case is not closed, so it owes none yet.
    page.select_option("#report", "second")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("table.card-reports tbody")).to_have_text("此列表中没有报告。")
    with live_server.session() as session:
        assert session.scalar(select(func.count()).select_from(CardReport)) == 1
    page.context.close()

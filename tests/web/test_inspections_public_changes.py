"""Corrections (更正) and withdrawals (撤回) of disclosed inspection results, and the public log
that also lists penalty decisions withdrawn because they were revoked (行政处罚法 Art. 48(2)).

What a member of the public must be able to rely on: a changed item says so, with the day, the
reason and what changed; a withdrawn result is no longer shown but its mark and reason are; the
staff member who made the change is never named. Only a head may change a public item, a reason is
always required, and a refused change writes nothing."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.clock import china_today
from processes.inspections.models import Inspection, PublicChange
from tests.web.conftest import STAFF
from tests.web.decision_flow import disclose_decision
from tests.web.inspections_flow import (
    NOTES,
    approved_plan,
    finish,
    inspections_of,
    organisation_decision,
    person_decision,
    setup_inspections,
    submit,
)


@pytest.fixture
def result(app: Flask, session: Session) -> Inspection:
    """A disclosed 合格 result (the head completed 公示检查结果)."""
    setup_inspections(session)
    _plan, draw = approved_plan(session)
    row = inspections_of(session, draw)[0]
    finish(session, row, "compliant")
    assert row.instance_id
    submit(session, row.instance_id, "inspections.disclose", "head.a", {"content_checked": True})
    row = inspections_of(session, draw)[0]
    assert row.disclosed_on is not None and row.checked_on is not None
    return row


def _count(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(PublicChange)) or 0


def _entry(page: str, credit_code: str) -> str:
    start = page.index(f'data-credit-code="{credit_code}"')
    return page[start:page.index("</li>", start)]


FORBIDDEN = [name for _login, name, *_rest in STAFF] + [login for login, *_rest in STAFF] + [NOTES, "王小明",
                                                                                             "清姜路"]


def test_a_head_corrects_the_date_and_the_public_sees_the_mark_reason_and_change_never_who(
        app: Flask, session: Session, as_user: Any, result: Inspection) -> None:
    before = result.checked_on
    assert before is not None
    corrected = before - timedelta(days=1)
    head = as_user("head.a")
    response = head.post(f"/inspections/results/{result.id}/public-change",
                         data={"action": "correct", "checked_on": corrected.isoformat(), "reason": "检查日期录入错误"},
                         follow_redirects=True)
    assert "已在公开网站更正" in response.get_data(as_text=True)
    public = app.test_client()
    entry = _entry(public.get("/public/inspections/results").get_data(as_text=True), result.credit_code)
    assert "已更正" in entry and "检查日期录入错误" in entry
    assert f"{before.isoformat()} → {corrected.isoformat()}" in entry and "合格" in entry
    log = public.get("/public/inspections/changes").get_data(as_text=True)
    assert result.entity_name in log and "已更正" in log and "检查日期录入错误" in log
    for url in ("/public/inspections/results", "/public/inspections/changes",
                f"/public/inspections/entities/{result.credit_code}"):
        text = public.get(url).get_data(as_text=True)
        assert [w for w in FORBIDDEN if w in text] == [], url
    staff = head.get(f"/inspections/plans/{result.plan_id}").get_data(as_text=True)
    assert "检查日期录入错误" in staff  # the plan page lists the change on the row


def test_a_withdrawn_result_is_hidden_its_mark_stays_and_it_cannot_be_changed_again(
        app: Flask, session: Session, as_user: Any, result: Inspection) -> None:
    head = as_user("head.a")
    head.post(f"/inspections/results/{result.id}/public-change",
              data={"action": "withdraw", "reason": "检查对象认定错误，结果撤回"})
    assert _count(session) == 1
    page = app.test_client().get("/public/inspections/results").get_data(as_text=True)
    entry = _entry(page, result.credit_code)
    assert "已撤回" in entry and "检查对象认定错误，结果撤回" in entry
    assert "合格" not in entry and "result-compliant" not in entry  # the result itself is gone
    again = head.post(f"/inspections/results/{result.id}/public-change",
                      data={"action": "correct", "checked_on": (china_today() - timedelta(days=3)).isoformat(),
                            "reason": "再改一次"}, follow_redirects=True)
    assert "该检查结果已撤回，不能再更正或者撤回" in again.get_data(as_text=True)
    assert _count(session) == 1
    session.expire_all()
    assert session.get(Inspection, result.id).checked_on == result.checked_on  # type: ignore[union-attr]
    plan_page = head.get(f"/inspections/plans/{result.plan_id}").get_data(as_text=True)
    assert "public-change-form" not in plan_page  # no form offered for a withdrawn result


@pytest.mark.parametrize(("login", "form", "message"), [
    ("officer.a", {"action": "withdraw", "reason": "我想撤回"}, "只有负责人可以更正或者撤回已公示的内容"),
    ("head.a", {"action": "withdraw", "reason": "   "}, "请写明更正或者撤回的理由"),
    ("head.a", {"action": "correct", "checked_on": "2026-13-40", "reason": "改日期"}, "请填写正确的检查日期"),
    ("head.a", {"action": "correct", "checked_on": "2999-01-01", "reason": "改日期"}, "检查日期不能晚于"),
])
def test_a_refused_change_says_why_and_writes_nothing(app: Flask, session: Session, as_user: Any,
                                                      result: Inspection, login: str, form: dict[str, str],
                                                      message: str) -> None:
    response = as_user(login).post(f"/inspections/results/{result.id}/public-change", data=form,
                                   follow_redirects=True)
    assert message in response.get_data(as_text=True)
    assert _count(session) == 0
    session.expire_all()
    row = session.get(Inspection, result.id)
    assert row is not None and row.checked_on == result.checked_on
    assert "已更正" not in app.test_client().get("/public/inspections/results").get_data(as_text=True)


def test_a_revoked_decision_leaves_the_list_and_appears_in_the_log_as_withdrawn(
        app: Flask, session: Session) -> None:
    from processes.penalty.models import ExecutionEvent, PenaltyCase

    setup_inspections(session)
    person = disclose_decision(session, person_decision(session))
    client = app.test_client()
    decisions = client.get("/public/inspections/decisions").get_data(as_text=True)
    assert person in decisions
    assert "作出处罚决定之日起7个工作日内公开" in decisions and "3个工作日内撤回并公开说明理由" in decisions
    assert "第四十八条" in decisions and "[unconfirmed]" in decisions  # the periods' sources, as data
    case = session.scalar(select(PenaltyCase).where(PenaltyCase.case_number == person))
    assert case is not None
    revoked_on = china_today() - timedelta(days=1)
    # what the 复议/诉讼结果 form's "撤销" records (processes/penalty/checks_execution.appeal_result)
    session.add(ExecutionEvent(case_id=case.id, kind="appeal_revoked", occurred_on=revoked_on,
                               note="复议机关认为事实不清（内部备注）", recorded_by="officer.a"))
    case.execution_status = "revoked"
    session.commit()
    assert person not in client.get("/public/inspections/decisions").get_data(as_text=True)
    log = client.get("/public/inspections/changes").get_data(as_text=True)
    assert person in log and "已撤回" in log and revoked_on.isoformat() in log
    assert "该行政处罚决定已被依法撤销" in log and "王某" in log
    assert "内部备注" not in log and [w for w in FORBIDDEN if w in log] == []


def test_the_log_lists_both_kinds_newest_first(app: Flask, session: Session, as_user: Any,
                                               result: Inspection) -> None:
    from processes.penalty.models import ExecutionEvent, PenaltyCase

    number = disclose_decision(session, organisation_decision(session, result.credit_code, result.entity_name))
    case = session.scalar(select(PenaltyCase).where(PenaltyCase.case_number == number))
    assert case is not None
    session.add(ExecutionEvent(case_id=case.id, kind="appeal_revoked", occurred_on=date(2020, 1, 2),
                               recorded_by="officer.a"))
    case.execution_status = "revoked"
    session.commit()
    as_user("head.a").post(f"/inspections/results/{result.id}/public-change",
                           data={"action": "withdraw", "reason": "结果撤回"})
    log = app.test_client().get("/public/inspections/changes").get_data(as_text=True)
    assert log.index("结果撤回") < log.index(number) and "2020-01-02" in log

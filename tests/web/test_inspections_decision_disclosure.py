"""公示行政处罚决定 on the staff pages (issue #12): a decided case waits for its head in the inbox;
the task page lists exactly what will be public (the individual as 王某, no address); refusing to
publish without a reason is refused with the Chinese sentence and keeps the task; the decision
reaches the public site only once the head disclosed it, and the withheld one never does."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import HumanTask
from processes.inspections.decision_disclosure import FORM
from processes.inspections.decision_models import DecisionDisclosure
from processes.penalty.models import PenaltyCase
from tests.web.inspections_flow import person_decision, setup_inspections


def _task(session: Session, number: str) -> HumanTask:
    case_id = session.scalar(select(PenaltyCase.id).where(PenaltyCase.case_number == number))
    row = session.get(DecisionDisclosure, case_id)
    assert row is not None and row.status == "pending", "the decision has no pending disclosure step"
    task = session.scalar(select(HumanTask).where(HumanTask.instance_id == row.instance_id,
                                                  HumanTask.status == "ready", HumanTask.form_key == FORM))
    assert task is not None
    return task


def _instructions(page: str) -> str:
    found = re.search(r'<div class="instructions">(.*?)</div>', page, re.S)
    assert found, "the task page shows no instructions"
    return unescape(found.group(1))


def test_the_head_sees_the_public_content_and_the_decision_is_public_only_once_disclosed(
        app: Flask, session: Session, as_user: Any) -> None:
    setup_inspections(session)
    number = person_decision(session, "王小明")
    public = app.test_client()
    assert number not in public.get("/public/inspections/decisions").get_data(as_text=True)

    task = _task(session, number)
    head = as_user("head.a")
    inbox = head.get("/inbox").get_data(as_text=True)
    assert "公示行政处罚决定" in inbox
    oversight = head.get("/oversight?process=inspection_decision_disclosure").get_data(as_text=True)
    assert f"/tasks/{task.id}" in oversight  # the head's 督办 view of open (and overdue) disclosures
    page = head.get(f"/tasks/{task.id}").get_data(as_text=True)
    shown = _instructions(page)
    assert number in shown and "当事人：王某" in shown and "《公共场所卫生管理条例》第十四条" in shown
    assert "王小明" not in shown and "清姜路" not in shown
    assert 'name="choice"' in page and 'name="withhold_reason"' in page

    refused = head.post(f"/tasks/{task.id}", {"choice": "withhold", "note": "当场警告"})
    assert "请选择不予公开的理由" in refused.get_data(as_text=True)
    assert session.scalar(select(HumanTask.status).where(HumanTask.id == task.id)) == "ready"

    done = head.post(f"/tasks/{task.id}", {"choice": "disclose", "content_checked": "true"})
    assert done.status_code in (302, 303), done.get_data(as_text=True)[:2000]
    session.expire_all()
    assert session.scalar(select(HumanTask.status).where(HumanTask.id == task.id)) == "completed"
    decisions = public.get("/public/inspections/decisions").get_data(as_text=True)
    assert number in decisions and "王某" in decisions and "王小明" not in decisions


def test_a_withheld_decision_never_reaches_the_public_site(app: Flask, session: Session, as_user: Any) -> None:
    setup_inspections(session)
    number = person_decision(session, "李小红")
    task = _task(session, number)
    reason = "不具有一定社会影响（简易程序作出的警告或者小额罚款）"
    done = as_user("head.a").post(f"/tasks/{task.id}", {"choice": "withhold", "withhold_reason": reason,
                                                         "note": "当场警告，未造成社会影响"})
    assert done.status_code in (302, 303), done.get_data(as_text=True)[:2000]
    session.expire_all()
    case_id = session.scalar(select(PenaltyCase.id).where(PenaltyCase.case_number == number))
    row = session.get(DecisionDisclosure, case_id)
    assert row is not None and (row.status, row.reason, row.disclosed_by) == ("not_disclosed", reason, "head.a")
    assert number not in app.test_client().get("/public/inspections/decisions").get_data(as_text=True)

"""Execution and case-card reports in the web: the payment task shows what is owed and the surcharge
so far, an instalment application with a wrong total comes back 422, the head sees the plan and
approves it, the first-report deadline is listed and recorded, the export selects first-report cards."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.clock import china_today
from processes.penalty.models import CardReport, ExecutionEvent
from tests.web.penalty_flow import case_of, ready_tasks
from tests.web.test_penalty import Office, instance_of, office, penalty_db, post_task, run_until, start_lead

__all__ = ["office", "penalty_db"]  # fixtures used here


def _task(session: Session, instance_id: str, name: str) -> str:
    session.expire_all()
    [task] = [t for t in ready_tasks(session, instance_id) if t.task_name == name]
    return task.id


def test_instalments_and_card_reports_in_the_web(penalty_db: Session, office: Office) -> None:
    instance_id = instance_of(penalty_db, start_lead(office))
    run_until(office, penalty_db, instance_id, "record_execution")
    case = case_of(penalty_db, instance_id)
    assert case.case_number is not None
    b = office("officer.a")
    task_id = _task(penalty_db, instance_id, "record_execution")
    page = b.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'id="penalty-execution"' in page and "尚欠金额" in page and "5,000.00" in page

    today = china_today()
    first, second = today + timedelta(days=20), today + timedelta(days=50)
    wrong = post_task(b, task_id, {"kind": "instalments", "occurred_on": today.isoformat(),
                                   "plan": f"{first} 2000\n{second} 2000"})
    assert wrong.status_code == 422
    assert "应等于罚款金额5,000.00元" in wrong.get_data(as_text=True)
    assert penalty_db.scalar(select(func.count()).select_from(ExecutionEvent)) == 0

    ok = post_task(b, task_id, {"kind": "instalments", "occurred_on": today.isoformat(),
                                "plan": f"{first} 2000\n{second} 3000", "note": "经营困难"})
    assert ok.status_code == 302, ok.get_data(as_text=True)[-2000:]
    approval = _task(penalty_db, instance_id, "approve_arrangement")
    head = office("head.a")
    page = head.get(f"/tasks/{approval}").get_data(as_text=True)
    assert "待审批的申请" in page and "第1期" in page and "3,000.00元" in page
    assert post_task(head, approval, {"approved": "true", "opinion": "同意分期"}).status_code == 302
    case_page = b.get(f"/cases/{instance_id}").get_data(as_text=True)
    assert 'class="instalments"' in case_page and first.isoformat() in case_page

    listing = head.get("/reports/casecards/due?report=first&show=open").get_data(as_text=True)
    assert case.case_number in listing and "待报告" in listing
    assert head.post("/reports/casecards/due?report=first&show=open",
                     {"case_id": ["no-such-case", case.id]}).status_code == 422
    assert penalty_db.scalar(select(func.count()).select_from(CardReport)) == 0
    recorded = head.post("/reports/casecards/due?report=first&show=open", {"case_id": [case.id]})
    assert recorded.status_code == 302
    listing = head.get("/reports/casecards/due?report=first&show=all").get_data(as_text=True)
    assert "已按期报告" in listing and "head.a" in listing
    assert head.get("/reports/casecards/due?report=third").status_code == 422

    day = today.isoformat()
    first_cards = head.get(f"/reports/casecards?from={day}&to={day}&report=first&format=csv")
    assert first_cards.status_code == 200 and case.case_number in first_cards.data.decode("utf-8-sig")
    second_cards = head.get(f"/reports/casecards?from={day}&to={day}&report=second&format=csv")
    assert case.case_number not in second_cards.data.decode("utf-8-sig")
    assert head.get(f"/reports/casecards?from={day}&to={day}&report=bogus&format=csv").status_code == 422

"""The explicit disclosure step on the staff pages: the plan page shows each result's disclosure
state (to disclose by, overdue with the head reminded, disclosed on), the overdue task reaches the
head's notifications, and only a disclosed result reaches the public site."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import china_today
from engine.models import HumanTask
from processes.directory.notifications import scan
from tests.web.inspections_flow import approved_plan, finish, inspections_of, ready, setup_inspections, submit


def _no_mail(_message: Any) -> str:
    raise AssertionError("no email expected")


def test_plan_page_shows_disclosure_due_overdue_and_done_and_the_head_is_reminded(
        app: Flask, session: Session, as_user: Any) -> None:
    setup_inspections(session)
    plan, draw = approved_plan(session)
    row = inspections_of(session, draw)[0]
    finish(session, row, "compliant")
    row = inspections_of(session, draw)[0]
    assert row.instance_id and row.disclosure_due and row.disclosed_on is None
    officer, head = as_user("officer.a"), as_user("head.a")
    page = officer.get(f"/inspections/plans/{plan.id}").get_data(as_text=True)
    assert f"待公示（期限{row.disclosure_due.isoformat()}）" in page
    public = app.test_client().get("/public/inspections/results").get_data(as_text=True)
    assert row.credit_code not in public  # recorded, not yet disclosed

    # the due day passes with the result undisclosed (moved back rather than waiting 20 working days)
    [task] = ready(session, row.instance_id, "inspections.disclose")
    yesterday = china_today() - timedelta(days=1)
    row.disclosure_due, task.due_at = yesterday, datetime.now(UTC) - timedelta(hours=1)
    session.commit()
    scan(session, datetime.now(UTC), send=_no_mail)
    session.commit()
    page = officer.get(f"/inspections/plans/{plan.id}").get_data(as_text=True)
    assert "overdue-disclosure" in page and f"逾期未公示（期限{yesterday.isoformat()}），已向负责人督办" in page
    notices = head.get("/notifications").get_data(as_text=True)
    assert re.search(r'notice-overdue[^>]*>\s*<span[^>]*>已逾期</span>\s*<a[^>]*>公示检查结果</a>', notices)

    submit(session, row.instance_id, "inspections.disclose", "head.a", {"content_checked": True})
    assert session.scalar(select(HumanTask.status).where(HumanTask.id == task.id)) == "completed"
    page = officer.get(f"/inspections/plans/{plan.id}").get_data(as_text=True)
    assert f"已于{china_today().isoformat()}公示" in page and "overdue-disclosure" not in page
    public = app.test_client().get("/public/inspections/results").get_data(as_text=True)
    assert row.credit_code in public

    # the entity's own page (what its door QR code opens) names the plan's items of its category
    from processes.inspections.models import InspectionItem, Plan

    item_ids = session.get(Plan, row.plan_id).item_ids or []
    items = session.scalars(select(InspectionItem).where(InspectionItem.id.in_(item_ids))).all()
    own = sorted(i.name for i in items if i.category == row.category)
    other = [i.name for i in items if i.category != row.category and i.name not in own]
    entity_page = app.test_client().get(f"/public/inspections/entities/{row.credit_code}").get_data(as_text=True)
    assert own and "抽查事项: " + "；".join(own) in entity_page
    assert not any(name in entity_page for name in other)

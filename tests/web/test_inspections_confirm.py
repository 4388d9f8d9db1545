"""The co-inspector's task page 检查人员确认现场检查记录: it shows the lead's record read-only (what
was found, the outcome, the item's checklist lines, the evidence files), a dispute needs its
reason and sends the record back to the lead, a confirmation lets the head review; the case's
history names both acts. The lead's on-site form no longer asks whether the second officer was there."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from engine.clock import china_today
from processes.inspections.models import Inspection
from tests.web.inspections_flow import NOTES, approved_plan, inspections_of, ready, setup_inspections, submit

JPG = b"\xff\xd8\xff\xe0" + b"photo of the washroom" * 20


@pytest.fixture
def recorded(app: Flask, session: Session, as_user: Any) -> Inspection:
    """Both declared; the lead recorded 责令改正 on the page with a photo."""
    setup_inspections(session)
    _plan, draw = approved_plan(session)
    row = inspections_of(session, draw)[0]
    assert row.instance_id
    for _user in list(row.inspectors):
        submit(session, row.instance_id, "inspections.declare", "", {"conflict": False})
    task = ready(session, row.instance_id, "inspections.onsite")[0]
    page = as_user(task.assignee).get(f"/tasks/{task.id}").get_data(as_text=True)
    assert 'name="co_inspector_present"' not in page  # the proof is the other officer's own confirmation
    answer = as_user(task.assignee).post(f"/tasks/{task.id}", {
        "checked_on": china_today().isoformat(), "findings": NOTES, "outcome": "correction",
        "nonconforming": "顾客用品用具清洗消毒", "correction_due": (china_today() + timedelta(days=10)).isoformat(),
        "representative": "signed", "evidence": [(io.BytesIO(JPG), "消毒间照片.jpg")]},
        content_type="multipart/form-data")
    assert answer.status_code in (302, 303), answer.get_data(as_text=True)[:2000]
    return row


def _confirm_task(session: Session, row: Inspection) -> Any:
    tasks = ready(session, row.instance_id or "", "inspections.confirm_onsite")
    assert len(tasks) == 1 and tasks[0].assignee == row.inspectors[1]
    return tasks[0]


def test_the_co_inspector_reads_the_record_and_a_dispute_goes_back_to_the_lead(
        session: Session, as_user: Any, recorded: Inspection) -> None:
    task = _confirm_task(session, recorded)
    co = as_user(recorded.inspectors[1])
    page = co.get(f"/tasks/{task.id}").get_data(as_text=True)
    for shown in (NOTES, "顾客用品用具清洗消毒", "责令改正", "消毒间照片.jpg", "卫生许可证"):
        assert shown in page, shown
    assert not ready(session, recorded.instance_id or "", "inspections.review")

    refused = co.post(f"/tasks/{task.id}", {"confirmed": "false", "reason": ""})
    assert refused.status_code == 422 and "有异议的，请写明理由" in refused.get_data(as_text=True)
    assert _confirm_task(session, recorded).id == task.id  # nothing kept

    disputed = co.post(f"/tasks/{task.id}", {"confirmed": "false", "reason": "消毒间的问题记错了"})
    assert disputed.status_code in (302, 303)
    back = ready(session, recorded.instance_id or "", "inspections.onsite")
    assert [t.assignee for t in back] == [recorded.inspectors[0]]
    session.expire_all()
    row = session.get(Inspection, recorded.id)
    assert row is not None and row.status == "disputed" and "onsite_confirmation" not in row.findings

    history = as_user("head.a").get(f"/cases/{recorded.instance_id}").get_data(as_text=True)
    assert "检查人员对现场检查记录提出异议" in history


def test_a_confirmation_names_the_co_inspector_and_the_head_reviews_after_it(
        session: Session, as_user: Any, recorded: Inspection) -> None:
    task = _confirm_task(session, recorded)
    assert as_user("officer.a2" if recorded.inspectors[1] != "officer.a2" else "head.a").post(
        f"/tasks/{task.id}", {"confirmed": "true"}).status_code == 403  # someone else's confirmation
    answer = as_user(recorded.inspectors[1]).post(f"/tasks/{task.id}", {"confirmed": "true"})
    assert answer.status_code in (302, 303)
    session.expire_all()
    row = session.get(Inspection, recorded.id)
    assert row is not None and row.status == "reviewing"
    assert row.findings["onsite_confirmation"]["by"] == recorded.inspectors[1]
    assert ready(session, recorded.instance_id or "", "inspections.review")
    history = as_user("head.a").get(f"/cases/{recorded.instance_id}").get_data(as_text=True)
    assert "检查人员确认现场检查记录" in history

"""Administrators' process instances, as pages and as JSON: search, one instance, suspend,
resume, cancel and correct a variable with a reason; others are refused, and a refused action
writes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import InboxFilters, complete_task, inbox
from engine.models import AuditEvent, HumanTask, ProcessInstance
from processes.directory.models import User
from tests.web.conftest import ENTITY_B, actor, make_incident, ready_task, start_lead


def _events(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def _status(session: Session, instance_id: str) -> str:
    session.expire_all()
    row = session.get(ProcessInstance, instance_id)
    assert row is not None
    return row.status


@pytest.fixture
def token_for(app: Flask) -> Any:
    from web.extensions import db
    from web.security import create_token

    def make(login: str) -> dict[str, str]:
        with app.app_context():
            user = db.session.get(User, login)
            assert user is not None
            _row, token = create_token(user, "test system", "admin", 30)
            db.session.commit()
        return {"Authorization": f"Bearer {token}"}

    return make


def test_the_list_shows_and_filters_every_case_for_administrators_only(as_user: Any, session: Session) -> None:
    a = start_lead(session, key="WB-2026-001")
    b = start_lead(session, "officer.b", ENTITY_B, key="JT-2026-002")
    admin = as_user("admin")
    page = admin.get("/admin/instances")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and f'data-instance="{a.id}"' in text and f'data-instance="{b.id}"' in text
    assert "登记案源" in text and "流程实例" in text  # current activity, Chinese UI
    by_key = admin.get("/admin/instances?business_key=wb-2026").get_data(as_text=True)  # prefix, any case
    assert f'data-instance="{a.id}"' in by_key and f'data-instance="{b.id}"' not in by_key
    by_name = admin.get("/admin/instances?entity_name=仁和").get_data(as_text=True)
    assert f'data-instance="{b.id}"' in by_name and f'data-instance="{a.id}"' not in by_name
    by_activity = admin.get("/admin/instances?activity=approve").get_data(as_text=True)
    assert a.id not in by_activity and b.id not in by_activity
    bad = admin.get("/admin/instances?status=sleeping")
    assert bad.status_code == 422 and "unknown status" in bad.get_data(as_text=True)
    officer = as_user("officer.a")
    assert officer.get("/admin/instances").status_code == 403
    assert officer.get(f"/admin/instances/{a.id}").status_code == 403
    assert officer.post(f"/admin/instances/{a.id}/suspend", {"reason": "x"}).status_code == 403
    assert _status(session, a.id) == "running"


def test_an_instance_page_suspends_and_resumes_with_a_reason(as_user: Any, session: Session) -> None:
    lead = start_lead(session)
    admin = as_user("admin")
    page = admin.get(f"/admin/instances/{lead.id}").get_data(as_text=True)
    assert 'id="diagram"' in page and "&#34;register&#34;" in page  # the current task is highlighted
    assert "启动案件" in page  # history
    before = _events(session)
    refused = admin.post(f"/admin/instances/{lead.id}/suspend", {"reason": "  "})
    assert "reason is required" in admin.get(refused.location).get_data(as_text=True)
    assert _status(session, lead.id) == "running" and _events(session) == before
    done = admin.post(f"/admin/instances/{lead.id}/suspend", {"reason": "等待法制审核意见"})
    shown = admin.get(done.location).get_data(as_text=True)
    assert "案件已挂起" in shown and "等待法制审核意见" in shown
    assert _status(session, lead.id) == "suspended"
    officer = actor(session, "officer.a")
    assert inbox(session, officer, InboxFilters(scope="claimable")).tasks == []
    as_user("admin").post(f"/admin/instances/{lead.id}/resume", {"reason": "审核完毕"})
    assert _status(session, lead.id) == "running"
    assert [t.id for t in inbox(session, officer, InboxFilters(scope="claimable")).tasks] \
        == [ready_task(session, lead.id).id]


def test_the_assignee_sees_the_suspended_badge_in_the_inbox(as_user: Any, session: Session) -> None:
    lead = start_lead(session)
    task = ready_task(session, lead.id)
    officer = as_user("officer.a")
    officer.post(f"/tasks/{task.id}/claim")
    session.expire_all()
    assert session.get(HumanTask, task.id).assignee == "officer.a"  # type: ignore[union-attr]
    as_user("admin").post(f"/admin/instances/{lead.id}/suspend", {"reason": "暂停"})
    inbox_page = officer.get("/inbox?tab=assigned").get_data(as_text=True)
    assert "badge-suspended" in inbox_page and "已挂起" in inbox_page


def test_a_variable_edited_on_the_page_decides_the_next_gateway(as_user: Any, session: Session) -> None:
    lead = start_lead(session)
    admin = as_user("admin")
    refused = admin.post(f"/admin/instances/{lead.id}/variables", {"name": "amount", "value": "二万", "reason": "更正"})
    assert "not valid JSON" in admin.get(refused.location).get_data(as_text=True)
    before = _events(session)
    admin.post(f"/admin/instances/{lead.id}/variables", {"name": "amount", "value": "20000", "reason": ""})
    assert _events(session) == before
    done = admin.post(f"/admin/instances/{lead.id}/variables",
                      {"name": "amount", "value": "20000", "reason": "金额录入有误"})
    page = admin.get(done.location).get_data(as_text=True)
    assert "变量 amount 已修改" in page and 'data-variable="amount"' in page and "金额录入有误" in page
    complete_task(session, ready_task(session, lead.id).id, actor(session, "officer.a"), {})
    session.commit()
    assert ready_task(session, lead.id).task_name == "approve"


def test_an_incident_is_retried_from_its_instance_page(as_user: Any, session: Session) -> None:
    instance_id, job_id = make_incident(session)
    admin = as_user("admin")
    listed = admin.get("/admin/instances?has_incident=yes").get_data(as_text=True)
    assert f'data-instance="{instance_id}"' in listed and "incident-badge" in listed
    assert f'data-job="{job_id}"' in admin.get(f"/admin/instances/{instance_id}").get_data(as_text=True)
    refused = admin.post(f"/admin/instances/{instance_id}/incidents/{job_id}/retry", {"reason": ""})
    assert "reason is required" in admin.get(refused.location).get_data(as_text=True)
    admin.post(f"/admin/instances/{instance_id}/incidents/{job_id}/retry", {"reason": "文书服务已恢复"})
    retried = session.scalars(select(AuditEvent).where(AuditEvent.action == "incident_retried")).all()
    assert [e.data["reason"] for e in retried] == ["文书服务已恢复"]


def test_the_api_searches_shows_and_acts_with_a_reason(app: Flask, token_for: Any, session: Session) -> None:
    lead = start_lead(session, key="WB-2026-009")
    start_lead(session, "officer.b", ENTITY_B, key="JT-2026-010")
    client: Any = app.test_client()
    headers = token_for("admin")
    found = client.get("/api/v1/admin/instances?business_key=wb-2026&status=running", headers=headers)
    assert found.status_code == 200 and [i["id"] for i in found.json["instances"]] == [lead.id]
    assert found.json["instances"][0]["activities"] == ["register"] and found.json["total"] == 1
    detail = client.get(f"/api/v1/admin/instances/{lead.id}", headers=headers).json
    assert detail["status"] == "running" and [t["task_name"] for t in detail["ready_tasks"]] == ["register"]
    before = _events(session)
    missing = client.post(f"/api/v1/admin/instances/{lead.id}/suspend", json={}, headers=headers)
    assert missing.status_code == 422 and "reason" in missing.json["errors"]
    blank = client.post(f"/api/v1/admin/instances/{lead.id}/suspend", json={"reason": " "}, headers=headers)
    assert blank.status_code == 422 and blank.json["code"] == "invalid_data"
    assert _events(session) == before and _status(session, lead.id) == "running"
    suspended = client.post(f"/api/v1/admin/instances/{lead.id}/suspend", json={"reason": "暂停"}, headers=headers)
    assert suspended.status_code == 200 and suspended.json["status"] == "suspended"
    again = client.post(f"/api/v1/admin/instances/{lead.id}/suspend", json={"reason": "暂停"}, headers=headers)
    assert again.status_code == 409 and again.json["code"] == "task_not_ready"
    changed = client.put(f"/api/v1/admin/instances/{lead.id}/variables/amount",
                         json={"value": {"total": 20000}, "reason": "更正"}, headers=headers)
    assert changed.status_code == 200 and changed.json["variables"]["amount"] == {"total": 20000}
    bad_name = client.put(f"/api/v1/admin/instances/{lead.id}/variables/_x", json={"value": 1, "reason": "更正"},
                          headers=headers)
    assert bad_name.status_code == 422
    cancelled = client.post(f"/api/v1/admin/instances/{lead.id}/cancel", json={"reason": "重复立案"}, headers=headers)
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    assert client.get("/api/v1/admin/instances", headers=token_for("head.a")).status_code == 403
    assert client.get("/api/v1/admin/instances").status_code == 401
    spec = client.get("/api/v1/openapi.json").json
    assert "/api/v1/admin/instances/{instance_id}/variables/{name}" in spec["paths"]

"""Comments on a case and its tasks: visible to everyone who can see the case, audited, never to
another unit, and bad input refused without writing."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import verify_audit
from engine.models import AuditEvent
from tests.web.conftest import ready_task, start_lead
from web.models import CaseComment


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(CaseComment)) or 0


def test_a_comment_on_a_task_shows_on_the_case_for_the_head_and_joins_the_audit_chain(session: Session,
                                                                                      as_user: Any) -> None:
    instance = start_lead(session)
    task = ready_task(session, instance.id)
    officer = as_user("officer.a")
    officer.get(f"/tasks/{task.id}")
    posted = officer.post(f"/cases/{instance.id}/comments",
                          {"task_id": task.id, "body": "请负责人确认是否需要现场复查"})
    assert posted.status_code == 302 and posted.headers["Location"].endswith(f"/tasks/{task.id}#comments")
    head_page = as_user("head.a").get(f"/cases/{instance.id}").get_data(as_text=True)
    assert "请负责人确认是否需要现场复查" in head_page and "张伟" in head_page and "登记案源" in head_page
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "case_comment"))
    assert event is not None and event.instance_id == instance.id and event.actor == "officer.a"
    assert event.data["sha256"] == hashlib.sha256("请负责人确认是否需要现场复查".encode()).hexdigest()
    assert verify_audit(session).ok
    assert "发表评论" in head_page  # the audit trail names the event in words


def test_another_unit_neither_sees_nor_comments_and_bad_input_writes_nothing(session: Session,
                                                                             as_user: Any) -> None:
    instance = start_lead(session)
    officer = as_user("officer.a")
    officer.get(f"/cases/{instance.id}")
    officer.post(f"/cases/{instance.id}/comments", {"body": "内部意见：先核实许可证"})
    outsider = as_user("officer.b")
    assert outsider.get(f"/cases/{instance.id}").status_code == 404
    outsider.get("/inbox")
    assert outsider.post(f"/cases/{instance.id}/comments", {"body": "越权"}).status_code == 404
    officer.get(f"/cases/{instance.id}")
    assert officer.post(f"/cases/{instance.id}/comments", {"body": "   "}).status_code == 302
    officer.get(f"/cases/{instance.id}")
    assert officer.post(f"/cases/{instance.id}/comments", {"body": "长" * 2001}).status_code == 302
    assert _count(session) == 1
    page = officer.get(f"/cases/{instance.id}").get_data(as_text=True)
    assert "最多 2000 个字" in page
    officer.get(f"/cases/{instance.id}")
    officer.post(f"/cases/{instance.id}/comments", {"body": "<script>alert(1)</script>"})
    shown = officer.get(f"/cases/{instance.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in shown and "&lt;script&gt;alert(1)&lt;/script&gt;" in shown

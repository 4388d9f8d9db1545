"""Task pages: claim, release, reassign; forms that come back with errors and write nothing;
uploads; tampered ids; injection strings stored as typed and shown escaped."""

from __future__ import annotations

import hashlib
import io
import re
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import audit_history
from engine.models import AuditEvent, HumanTask
from processes.directory.models import CaseDocument
from tests.web.conftest import ENTITY_A, ENTITY_B, ready_task, start_lead

PDF = b"%PDF-1.4\n% evidence\n" + b"1" * 500
VALID = {"source": "complaint", "summary": "诊所超范围执业", "facts": "现场发现开展医疗美容项目。",
         "kinds": ["beyond_scope"], "amount": "20000", "violation_date": "2026-03-01"}
INJECTIONS = ["<script>alert('x')</script>", '"><img src=x onerror=alert(1)>', "'; DROP TABLE human_task; --",
              "' OR '1'='1"]


def audit_count(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def test_task_page_shows_context_instructions_and_form(as_user: Any, session: Session) -> None:
    instance = start_lead(session)
    task = ready_task(session, instance.id)
    html = as_user("officer.a").get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "登记案源" in html and "核实线索来源并登记违法事实" in html  # the BPMN documentation
    assert "康宁诊所" in html and "剩余" in html and 'enctype="multipart/form-data"' in html
    for name in ("source", "summary", "facts", "kinds", "violation_date", "discovered_at", "amount", "persons",
                 "related_entity", "evidence"):
        assert f'name="{name}"' in html, name
    assert 'id="claim"' in html


def test_claim_release_and_reassign(as_user: Any, session: Session) -> None:
    instance = start_lead(session)
    task = ready_task(session, instance.id)
    officer, other, head = as_user("officer.a"), as_user("officer.a2"), as_user("head.a")
    assert officer.post(f"/tasks/{task.id}/claim").status_code == 302
    session.expire_all()
    assert ready_task(session, instance.id).assignee == "officer.a"
    taken = other.post(f"/tasks/{task.id}/claim")
    assert taken.status_code == 302 and "他人已先行处理" in other.get(taken.location).get_data(as_text=True)
    assert other.post(f"/tasks/{task.id}/unclaim").status_code == 403  # not the holder, not a head
    page = head.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert f'action="/tasks/{task.id}/assign"' in page
    no_reason = head.post(f"/tasks/{task.id}/assign", {"assignee": "officer.a2", "reason": " "})
    assert "请填写改派理由" in head.get(no_reason.location).get_data(as_text=True)
    outsider = head.post(f"/tasks/{task.id}/assign", {"assignee": "officer.b", "reason": "换人"})
    assert "请选择本单位" in head.get(outsider.location).get_data(as_text=True)
    head.post(f"/tasks/{task.id}/assign", {"assignee": "officer.a2", "reason": "张伟出差"})
    session.expire_all()
    assert ready_task(session, instance.id).assignee == "officer.a2"
    assigned = [e for e in audit_history(session, instance.id) if e.action == "task_assigned"]
    assert assigned[-1].data == {"from": "officer.a", "to": "officer.a2", "reason": "张伟出差"}
    assert assigned[-1].actor == "head.a"
    assert other.post(f"/tasks/{task.id}/unclaim").status_code == 302
    session.expire_all()
    assert ready_task(session, instance.id).assignee is None
    assert officer.post(f"/tasks/{task.id}/assign", {"assignee": "officer.a", "reason": "x"}).status_code == 403


def test_invalid_form_comes_back_with_errors_and_input_kept(as_user: Any, session: Session) -> None:
    instance = start_lead(session)
    task = ready_task(session, instance.id)
    officer = as_user("officer.a")
    before = audit_count(session)
    bad = dict(VALID, amount="12.345", summary="保留我的输入", violation_date="2099-01-01", kinds=["beyond_scope",
                                                                                                 "records"])
    bad.pop("facts")
    response = officer.post(f"/tasks/{task.id}", bad)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "金额最多保留两位小数" in html and "此项为必填项" in html and "日期不能晚于今天" in html
    assert 'value="保留我的输入"' in html and 'value="12.345"' in html
    assert re.search(r'value="records" checked', html) and 'value="complaint" selected' in html
    assert audit_count(session) == before
    assert ready_task(session, instance.id).id == task.id


def test_valid_form_completes_the_task_and_files_the_evidence(as_user: Any, session: Session) -> None:
    instance = start_lead(session)
    task = ready_task(session, instance.id)
    officer = as_user("officer.a")
    data = dict(VALID, evidence=(io.BytesIO(PDF), "现场照片.pdf"))
    response = officer.post(f"/tasks/{task.id}", data, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    session.expire_all()
    approve = ready_task(session, instance.id)
    assert approve.task_name == "approve" and approve.candidate_role == "head"
    sha = hashlib.sha256(PDF).hexdigest()
    [doc] = session.scalars(select(CaseDocument).where(CaseDocument.instance_id == instance.id)).all()
    assert doc.sha256 == sha and doc.created_by == "officer.a" and "现场照片.pdf" in doc.title
    completed = [e for e in audit_history(session, instance.id) if e.action == "task_completed"][-1]
    assert completed.data["data"]["evidence"]["sha256"] == sha  # the hash is in the audit trail
    assert completed.data["data"]["amount"] == 20000.0 and completed.data["form_key"] == "lead.register"
    head = as_user("head.a")
    case_page = head.get(f"/cases/{instance.id}").get_data(as_text=True)
    assert sha in case_page and f"/documents/{doc.id}" in case_page
    download = head.get(f"/documents/{doc.id}")
    assert download.status_code == 200 and download.data == PDF and download.mimetype == "application/pdf"
    download.close()
    assert as_user("officer.b").get(f"/documents/{doc.id}").status_code == 404
    done = officer.post(f"/tasks/{task.id}", VALID)
    assert done.status_code == 409


def test_upload_kept_across_a_correction(as_user: Any, session: Session) -> None:
    instance = start_lead(session)
    task = ready_task(session, instance.id)
    officer = as_user("officer.a")
    first = officer.post(f"/tasks/{task.id}", dict(VALID, facts="", evidence=(io.BytesIO(PDF), "a.pdf")),
                         content_type="multipart/form-data")
    html = first.get_data(as_text=True)
    sha = hashlib.sha256(PDF).hexdigest()
    assert first.status_code == 422 and f'name="evidence__sha256" value="{sha}"' in html
    assert session.scalar(select(func.count()).select_from(CaseDocument)) == 0
    second = officer.post(f"/tasks/{task.id}", dict(VALID, evidence__sha256=sha, evidence__filename="a.pdf"))
    assert second.status_code == 302
    assert session.scalar(select(CaseDocument.sha256)) == sha


@pytest.mark.parametrize(("content", "name", "message"), [
    (b"%PDF-1.4\n" + b"x" * 120_000, "big.pdf", "文件超过大小限制"),        # UPLOAD_MAX_BYTES is 100 kB in tests
    (b"MZ\x90\x00 not a pdf" * 10, "evil.pdf", "文件内容与扩展名不符"),
    (PDF, "evidence.exe", "文件类型不允许"),
])
def test_bad_uploads_are_refused(as_user: Any, session: Session, content: bytes, name: str, message: str) -> None:
    instance = start_lead(session)
    task = ready_task(session, instance.id)
    before = audit_count(session)
    response = as_user("officer.a").post(f"/tasks/{task.id}", dict(VALID, evidence=(io.BytesIO(content), name)),
                                         content_type="multipart/form-data")
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert audit_count(session) == before


def test_a_request_larger_than_the_limit_is_413(as_user: Any, session: Session) -> None:
    task = ready_task(session, start_lead(session).id)
    response = as_user("officer.a").post(f"/tasks/{task.id}",
                                         dict(VALID, evidence=(io.BytesIO(b"%PDF" + b"0" * 350_000), "x.pdf")),
                                         content_type="multipart/form-data")
    assert response.status_code == 413


def test_tampered_task_ids(as_user: Any, session: Session) -> None:
    mine = ready_task(session, start_lead(session).id)
    theirs = ready_task(session, start_lead(session, "officer.b", ENTITY_B, "L-B").id)
    officer = as_user("officer.a")
    near_mine = mine.id[:-1] + ("1" if mine.id.endswith("0") else "0")  # one character off, never mine
    for task_id in (theirs.id, str(uuid.uuid4()), "not-a-uuid", "1 OR 1=1", near_mine):
        assert officer.get(f"/tasks/{task_id}").status_code == 404, task_id
        assert officer.post(f"/tasks/{task_id}", VALID).status_code == 404, task_id
        assert officer.post(f"/tasks/{task_id}/claim").status_code == 404, task_id
    session.expire_all()
    assert session.get(HumanTask, theirs.id).status == "ready"  # type: ignore[union-attr]
    reviewer = as_user("reviewer.a")  # same unit, wrong role: sees it, may not do it
    assert reviewer.get(f"/tasks/{mine.id}").status_code == 200
    assert reviewer.post(f"/tasks/{mine.id}", VALID).status_code == 403
    assert reviewer.post(f"/tasks/{mine.id}/claim").status_code == 403


@pytest.mark.parametrize("evil", INJECTIONS)
def test_injection_strings_are_stored_as_typed_and_shown_escaped(as_user: Any, session: Session, evil: str) -> None:
    instance = start_lead(session, key=evil[:100])
    task = ready_task(session, instance.id)
    officer = as_user("officer.a")
    data = dict(VALID, summary=evil[:100], facts=evil, amount="100")
    assert officer.post(f"/tasks/{task.id}", data).status_code == 302
    completed = [e for e in audit_history(session, instance.id) if e.action == "task_completed"][-1]
    assert completed.data["data"]["summary"] == evil[:100] and completed.data["data"]["facts"] == evil
    assert session.scalar(select(func.count()).select_from(HumanTask)) >= 1  # the table is still there
    for url in (f"/cases/{instance.id}", "/inbox?tab=completed", f"/entities/{ENTITY_A}"):
        html = officer.get(url).get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html, url
    html = officer.get(f"/cases/{instance.id}").get_data(as_text=True)
    escaped = evil.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;") \
        .replace("'", "&#39;")
    assert escaped in html

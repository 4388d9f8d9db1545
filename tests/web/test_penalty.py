"""Penalty cases in the web: task forms routed through ``processes.penalty.submit_task``, evidence
stored as penalty blobs, the signing page (passphrase never echoed or stored), the case page's
register and verification report, the deliberation API, recusal / extension requests, new
leads and on-the-spot decisions, and the case-card export."""

from __future__ import annotations

import hashlib
import io
import logging
import re
import sqlite3
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.clock import china_today
from engine.models import AuditEvent, HumanTask
from processes.penalty.models import Blob, CaseRecord, PenaltyCase
from tests.web.conftest import Browser
from tests.web.penalty_flow import (
    EVIDENCE,
    FILE,
    MEMBERS,
    case_of,
    form_data,
    passphrase,
    ready_tasks,
    setup_penalty,
    who,
)

TASK_RE = re.compile(r"/tasks/([0-9a-f-]{36})")


@pytest.fixture
def penalty_db(app: Flask, session: Session, monkeypatch: pytest.MonkeyPatch) -> Session:
    monkeypatch.setenv("WEIJIAN_PENALTY_PDF", "0")  # HTML instead of PDF: the e2e test opens a real PDF
    setup_penalty(session)
    session.commit()
    return session


class Office:
    """One signed-in browser per person, opened on first use."""

    def __init__(self, as_user: Callable[[str], Browser]) -> None:
        self.as_user = as_user
        self.browsers: dict[str, Browser] = {}

    def __call__(self, login: str) -> Browser:
        if login not in self.browsers:
            self.browsers[login] = self.as_user(login)
        return self.browsers[login]


@pytest.fixture
def office(as_user: Callable[[str], Browser]) -> Office:
    return Office(as_user)


def post_task(b: Browser, task_id: str, data: dict[str, Any]) -> Any:
    b.get(f"/tasks/{task_id}")  # the page brings the CSRF token, as in a browser
    body = dict(data)
    if body.get("files") == FILE:
        body["files"] = (io.BytesIO(EVIDENCE), "现场照片.pdf")
    return b.post(f"/tasks/{task_id}", body, content_type="multipart/form-data")


def start_lead(office: Office) -> str:
    b = office("officer.a")
    b.get("/penalty/new")
    response = b.post("/penalty/new", {"procedure": "ordinary"})
    assert response.status_code == 302, response.get_data(as_text=True)
    found = TASK_RE.search(response.headers["Location"])
    assert found
    return found.group(1)


def instance_of(session: Session, task_id: str) -> str:
    from engine.models import HumanTask

    task = session.get(HumanTask, task_id)
    assert task is not None
    return task.instance_id


def run_until(office: Office, session: Session, instance_id: str, target: str, max_steps: int = 40) -> None:
    for _ in range(max_steps):
        tasks = ready_tasks(session, instance_id)
        names = [t.task_name for t in tasks]
        if target in names:
            return
        assert tasks, f"case stopped before {target}"
        task = tasks[0]
        response = post_task(office(who(task)), task.id, form_data(session, task))
        assert response.status_code == 302, (task.task_name, response.get_data(as_text=True)[-3000:])
    raise AssertionError(f"{target} never became ready")


@pytest.fixture
def filed(penalty_db: Session, office: Office) -> str:
    """A case filed and under investigation (its first record still to write)."""
    instance_id = instance_of(penalty_db, start_lead(office))
    run_until(office, penalty_db, instance_id, "investigate")
    return instance_id


def test_a_penalty_form_with_mistakes_comes_back_422_and_writes_nothing(penalty_db: Session, office: Office) -> None:
    task_id = start_lead(office)
    instance_id = instance_of(penalty_db, task_id)
    events = penalty_db.scalar(select(func.count()).select_from(AuditEvent)
                               .where(AuditEvent.instance_id == instance_id))
    b = office("officer.a")
    data = form_data(penalty_db, ready_tasks(penalty_db, instance_id)[0])
    data.update(violation_date="2001-01-01", credit_code="91310113MA1GKX5Y3X", suspected_violation="")
    response = post_task(b, task_id, data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "统一社会信用代码不正确" in page and "此项必填" in page
    assert 'value="何康宁"' in page  # the input is kept
    penalty_db.expire_all()
    assert penalty_db.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.instance_id == instance_id)) == events
    assert case_of(penalty_db, instance_id).status == "lead"



def test_the_api_routes_penalty_forms_through_submit_task(penalty_db: Session, office: Office) -> None:
    instance_id = instance_of(penalty_db, start_lead(office))
    task = ready_tasks(penalty_db, instance_id)[0]
    b = office("officer.a")
    b.get("/inbox")  # a page with the CSRF token for the session-authenticated API
    bad = b.api("POST", f"/api/v1/tasks/{task.id}/complete", json={"data": {"source": "nowhere"}})
    assert bad.status_code == 422
    assert bad.get_json()["errors"]["source"] == ["请从列表中选择"]
    good = b.api("POST", f"/api/v1/tasks/{task.id}/complete", json={"data": form_data(penalty_db, task)})
    assert good.status_code == 200, good.get_json()
    body = good.get_json()
    assert body["penalty"]["status"] == "lead" and body["penalty"]["case_number"] is None
    assert [t["task_name"] for t in body["tasks"]] == ["prepare_filing"]
    assert b.api("GET", f"/api/v1/cases/{instance_id}/deliberation").status_code == 404  # no record yet


def test_evidence_uploads_become_penalty_blobs(filed: str, penalty_db: Session, office: Office) -> None:
    run_until(office, penalty_db, filed, "investigate")
    for _ in range(2):  # the interview record, then the site record with its photo
        task = ready_tasks(penalty_db, filed)[0]
        assert post_task(office(who(task)), task.id, form_data(penalty_db, task)).status_code == 302
    digest = hashlib.sha256(EVIDENCE).hexdigest()
    penalty_db.expire_all()
    assert penalty_db.get(Blob, digest) is not None
    record = penalty_db.scalar(select(CaseRecord).where(CaseRecord.kind == "site"))
    assert record is not None and record.content["files"][0]["sha256"] == digest
    case = case_of(penalty_db, filed)
    b = office("officer.a")
    page = b.get(f"/cases/{filed}").get_data(as_text=True)
    assert digest in page and "现场照片.pdf" in page and case.case_number and case.case_number in page
    download = b.get(f"/penalty/cases/{case.id}/files/{digest}")
    assert download.status_code == 200 and download.data == EVIDENCE
    assert office("officer.b").get(f"/penalty/cases/{case.id}/files/{digest}").status_code == 404


def test_an_investigation_record_with_mistakes_names_them_all_at_once(filed: str, penalty_db: Session,
                                                                     office: Office) -> None:
    """Each round trip shows every mistake the form can see: what the record kind needs first, then
    the team (two of the case's officers, Art. 42) and a date that has not come yet, together."""
    task = ready_tasks(penalty_db, filed)[0]
    assert task.task_name == "investigate"
    b = office(who(task))
    first = post_task(b, task.id, {"kind": "interview", "officers": ["officer.a"], "place": "康宁诊所诊室"})
    assert first.status_code == 422
    page = first.get_data(as_text=True)
    assert "笔录内容必填" in page and "请填写被询问人" in page and "请填写日期" in page
    assert 'value="康宁诊所诊室"' in page  # what was typed stays
    second = post_task(b, task.id, {"kind": "interview", "officers": ["officer.a"], "place": "康宁诊所诊室",
                                    "occurred_on": "2099-01-01", "interviewee": "何康宁", "content": "问：……答：……"})
    assert second.status_code == 422
    page = second.get_data(as_text=True)
    assert "日期不能晚于今天" in page and "名以上执法人员共同进行" in page
    penalty_db.expire_all()
    assert penalty_db.scalar(select(func.count()).select_from(CaseRecord)) == 0


def test_the_head_approving_the_decision_reads_the_deliberation_record_on_the_task(
        filed: str, penalty_db: Session, office: Office) -> None:
    """The head approves on the signed 合议记录: it is above the approval form (the page showed only
    an empty "合议记录" heading); a task not decided on it shows no such heading."""
    run_until(office, penalty_db, filed, "serve_prior_notice")
    serve = next(t for t in ready_tasks(penalty_db, filed) if t.task_name == "serve_prior_notice")
    page = office(who(serve)).get(f"/tasks/{serve.id}").get_data(as_text=True)
    assert "deliberation-record" not in page
    run_until(office, penalty_db, filed, "approve_decision")
    approve = next(t for t in ready_tasks(penalty_db, filed) if t.task_name == "approve_decision")
    page = office("head.a").get(f"/tasks/{approve.id}").get_data(as_text=True)
    record = re.search(r'<section class="card deliberation-record">.*?<iframe class="record"[^>]*srcdoc="([^"]*)"',
                       page, re.S)
    assert record is not None
    assert "当事人使用一名未取得护士执业证书的人员从事护理工作" in record.group(1)  # the facts the members signed
    documents = re.search(r'<p class="penalty-task-documents">(.*?)</p>', page, re.S)  # and opens the documents
    assert documents is not None and "调查终结报告" in documents.group(1) and "行政处罚事先告知书" in documents.group(1)


def test_recusal_and_extension_buttons(filed: str, penalty_db: Session, office: Office) -> None:
    b = office("officer.a")
    page = b.get(f"/cases/{filed}").get_data(as_text=True)
    assert "申请回避" in page and "申请延长办案期限" in page and "处罚决定期限" in page
    case = case_of(penalty_db, filed)
    response = b.post(f"/penalty/cases/{case.id}/extension", {"reason": ""})
    assert response.status_code == 302
    assert "请写明需要延长办案期限的理由" in b.get(f"/cases/{filed}").get_data(as_text=True)
    assert b.post(f"/penalty/cases/{case.id}/recusal", {"officer_id": "officer.a2", "reason": "与当事人是亲属",
                                                         "applicant": "当事人"}).status_code == 302
    assert "回避申请已登记" in b.get(f"/cases/{filed}").get_data(as_text=True)
    assert case_of(penalty_db, filed).pending_recusal is not None
    assert b.post(f"/penalty/cases/{case.id}/extension", {"reason": "需要补充鉴定"}).status_code == 302
    page = b.get(f"/cases/{filed}").get_data(as_text=True)
    names = {t.task_name for t in ready_tasks(penalty_db, filed)}
    assert "decide_recusal" in names, names
    assert "延长办案期限的申请已提交" in page or "不能" in page
    assert office("officer.b").post(f"/penalty/cases/{case.id}/extension", {"reason": "x"}).status_code == 404


def _dump(db_path: str) -> str:
    """Every value of every table of the SQLite file, as text (bytes decoded leniently)."""
    parts: list[str] = []
    with sqlite3.connect(db_path) as con:
        for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'"):
            for row in con.execute(f'SELECT * FROM "{table}"'):
                for value in row:
                    parts.append(value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value))
    return "\n".join(parts)


def ready_task_by_id(session: Session, task_id: str) -> Any:
    session.expire_all()
    return session.get(HumanTask, task_id)


def test_signing_page_case_page_and_deliberation_api(penalty_db: Session, office: Office, web_db_url: str,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    instance_id = instance_of(penalty_db, start_lead(office))
    run_until(office, penalty_db, instance_id, "sign_record")
    signs = {t.assignee: t for t in ready_tasks(penalty_db, instance_id) if t.task_name == "sign_record"}
    assert set(signs) == set(MEMBERS)

    b = office("officer.a")
    page = b.get(f"/tasks/{signs['officer.a'].id}").get_data(as_text=True)
    assert 'type="password"' in page and "合议记录" in page and "<iframe" in page
    assert all(f"合议记录电子签名（{name}）" in page for name, _role in MEMBERS.values())  # whose signature is due
    head = office("head.a")  # a member's signature is theirs: no head may take it, over the page or the API
    head.get("/inbox")
    taken = head.api("POST", f"/api/v1/tasks/{signs['officer.a'].id}/assign",
                     {"assignee": "head.a", "reason": "我来签"})
    assert taken.status_code == 403 and "cannot be passed" in taken.get_data(as_text=True)
    assert head.api("POST", f"/api/v1/tasks/{signs['officer.a'].id}/unclaim").status_code == 403
    assert ready_task_by_id(penalty_db, signs["officer.a"].id).assignee == "officer.a"
    foreign = head.api("POST", f"/api/v1/tasks/{signs['officer.a'].id}/complete",
                       {"data": {"passphrase": passphrase("head.a")}})
    assert foreign.status_code in (403, 422)  # never completes a different task than the one named
    assert ready_task_by_id(penalty_db, signs["head.a"].id).status == "ready"
    wrong = post_task(b, signs["officer.a"].id, {"passphrase": "not-my-passphrase-123"})
    assert wrong.status_code == 422
    assert "签名口令不正确" in wrong.get_data(as_text=True)
    assert "not-my-passphrase-123" not in wrong.get_data(as_text=True)
    waiting = b.get(f"/cases/{instance_id}").get_data(as_text=True)  # who has yet to sign: named, not by login
    unsigned = re.search(r"未签名：([^<]*)</p>", waiting)
    assert unsigned and set(unsigned.group(1).split("、")) == {name for name, _role in MEMBERS.values()}

    for login, task in signs.items():
        response = post_task(office(login), task.id, {"passphrase": passphrase(login)})
        assert response.status_code == 302, response.get_data(as_text=True)[-2000:]

    dump = _dump(web_db_url.removeprefix("sqlite:///"))
    for login in MEMBERS:
        assert passphrase(login) not in dump
    assert "not-my-passphrase-123" not in dump
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert all(passphrase(login) not in logged for login in MEMBERS) and "not-my-passphrase-123" not in logged

    b.get("/inbox")
    report = b.api("GET", f"/api/v1/cases/{instance_id}/deliberation")
    assert report.status_code == 200
    body = report.get_json()
    assert body["complete"] is True and len(body["signatures"]) == 3
    assert {s["signer_user_id"] for s in body["signatures"]} == set(MEMBERS)
    assert all(s["status"] == "VALID" and s["certificate_serial"] for s in body["signatures"])
    assert office("officer.b").api("GET", f"/api/v1/cases/{instance_id}/deliberation").status_code == 404

    run_until(office, penalty_db, instance_id, "serve_decision")
    case = case_of(penalty_db, instance_id)
    assert case.case_number and case.decided_on
    page = b.get(f"/cases/{instance_id}").get_data(as_text=True)
    assert case.case_number in page and "VALID 有效" in page and "行政处罚决定书" in page
    assert page.count("VALID 有效") == 3 and "INVALID" not in page
    api_case = b.api("GET", f"/api/v1/cases/{instance_id}").get_json()["penalty"]
    decision = next(d for d in api_case["documents"] if d["doc_type"] == "decision")
    download = b.get(decision["url"])
    assert download.status_code == 200
    assert hashlib.sha256(download.data).hexdigest() == decision["sha256"]

    day = china_today().isoformat()
    head = office("head.a")
    assert head.get("/reports/casecards").status_code == 200
    csv = head.get(f"/reports/casecards?from={day}&to={day}&format=csv")
    assert csv.status_code == 200 and case.case_number in csv.data.decode("utf-8-sig")
    xlsx = head.get(f"/reports/casecards?from={day}&to={day}&format=xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert head.get(f"/reports/casecards?from={day}&to=nope&format=csv").status_code == 422

    for _ in range(20):  # to the end: execution, closing, archive (一户一档)
        tasks = ready_tasks(penalty_db, instance_id)
        if not tasks:
            break
        assert post_task(office(who(tasks[0])), tasks[0].id, form_data(penalty_db, tasks[0])).status_code == 302
    entity_page = b.get(f"/entities/{case.credit_code}").get_data(as_text=True)
    link = re.search(r'href="(/penalty/archives/\d+)"', entity_page)
    assert link is not None and 'id="penalty-archives"' in entity_page
    archive = b.get(link.group(1))
    assert archive.status_code == 200 and archive.data[:2] == b"PK"
    assert office("officer.b").get(link.group(1)).status_code == 404  # another unit's case file


def test_summary_procedure_is_reachable_for_officers(penalty_db: Session, office: Office) -> None:
    b = office("officer.a")
    inbox = b.get("/inbox").get_data(as_text=True)
    assert "新建案源" in inbox and "当场处罚" in inbox
    assert "当场处罚" in b.get("/penalty/new?procedure=summary").get_data(as_text=True)
    response = b.post("/penalty/new", {"procedure": "summary"})
    assert response.status_code == 302
    found = TASK_RE.search(response.headers["Location"])
    assert found
    case = case_of(penalty_db, instance_of(penalty_db, found.group(1)))
    assert case.procedure == "summary"
    assert office("reviewer.a").get("/penalty/new").status_code == 403
    assert penalty_db.scalar(select(func.count()).select_from(PenaltyCase)) == 1


def test_demo_data_has_penalty_cases_at_several_stages_and_is_idempotent(
        session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    import signing
    from engine import deploy_directory
    from engine.actor import SYSTEM
    from processes.demo_data import load_demo
    from tests.web.penalty_flow import PENALTY_DIR

    monkeypatch.setenv("WEIJIAN_PENALTY_PDF", "0")
    monkeypatch.delenv(signing.CA_PASSPHRASE_ENV, raising=False)
    deploy_directory(session, PENALTY_DIR, SYSTEM)
    session.commit()
    first = load_demo(session)
    session.commit()
    assert "weijian-demo" in first
    cases = list(session.scalars(select(PenaltyCase)))
    assert sorted(c.status for c in cases) == ["decided", "deliberated", "filed", "lead"]
    decided = next(c for c in cases if c.status == "decided")
    assert decided.case_number and decided.deliberation_record_id
    assert signing.verify_record(session, decided.deliberation_record_id).complete
    waiting = next(c for c in cases if c.status == "deliberated")
    assert {t.assignee for t in ready_tasks(session, waiting.instance_id) if t.task_name == "sign_record"} == \
        {"zhao.lei", "zhang.wei", "li.na"}
    counts = [session.scalar(select(func.count()).select_from(t)) for t in (PenaltyCase, AuditEvent)]
    second = load_demo(session)
    session.commit()
    assert "already loaded" in second
    assert [session.scalar(select(func.count()).select_from(t)) for t in (PenaltyCase, AuditEvent)] == counts


def test_penalty_case_page_shows_labelled_facts_not_raw_process_data(filed: str, office: Office) -> None:
    page = office("officer.a").get(f"/cases/{filed}").get_data(as_text=True)
    facts = page.split("<h2>主要信息</h2>", 1)[1].split("<h2>", 1)[0]  # the generic key-facts card
    assert "filing_workdays" not in facts and "min_officers" not in facts  # rule snapshot stays out
    assert 'data-field="periods"' not in facts and 'data-field="lead"' not in facts


def test_no_form_asks_for_json() -> None:
    """Every person, unit or entity is picked; no registered form renders a JSON text area."""
    from forms import describe, registered_forms
    from web.app import load_form_modules

    load_form_modules()
    asking = [(f.key, s.name) for f in registered_forms() for s in describe(f.schema) if s.widget == "json"]
    assert asking == []
    typed_hashes = [(f.key, s.name) for f in registered_forms() for s in describe(f.schema)
                    if s.widget in ("text", "textarea") and ("sha" in s.name.lower() or "SHA" in s.label)]
    assert typed_hashes == []  # a proof is uploaded (its hash computed), never typed in


def test_officers_are_picked_and_their_certificates_come_from_the_directory(
        penalty_db: Session, office: Office) -> None:
    instance_id = instance_of(penalty_db, start_lead(office))
    run_until(office, penalty_db, instance_id, "prepare_filing")
    task = next(t for t in ready_tasks(penalty_db, instance_id) if t.task_name == "prepare_filing")
    b = office("officer.a")
    page = b.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert 'name="officers__user"' in page and "张伟（C-A-1）" in page and 'class="json"' not in page
    foreign = post_task(b, task.id, {**form_data(penalty_db, task), "officers__user": ["officer.a", "officer.b"]})
    assert foreign.status_code == 422 and "第2行" in foreign.get_data(as_text=True)
    assert "{'" not in foreign.get_data(as_text=True)  # sentences, never a serialised structure
    assert post_task(b, task.id, form_data(penalty_db, task)).status_code == 302
    penalty_db.expire_all()
    case = penalty_db.scalar(select(PenaltyCase).where(PenaltyCase.instance_id == instance_id))
    assert case is not None
    assert [(o["name"], o["certificate_no"]) for o in case.officers] == [("张伟", "C-A-1"), ("李娜", "C-A-2")]


def test_a_head_cannot_reassign_a_task_to_a_person_recused_in_the_case(filed: str, penalty_db: Session,
                                                                        office: Office) -> None:
    """行政处罚法第四十三条: once recused, a person holds no task of the case, by a head's reassignment
    on the oversight page too; someone else may take it."""
    case = case_of(penalty_db, filed)
    case.blocked_officers = ["officer.a2"]
    penalty_db.commit()
    task = ready_tasks(penalty_db, filed)[0]
    head = office("head.a")
    refused = head.post("/oversight/reassign", {"task_id": [task.id], "assignee": "officer.a2", "reason": "改派"})
    assert "回避本案" in head.get(refused.location).get_data(as_text=True)
    penalty_db.expire_all()
    assert penalty_db.get(HumanTask, task.id).assignee != "officer.a2"  # type: ignore[union-attr]
    head.post("/oversight/reassign", {"task_id": [task.id], "assignee": "head.a", "reason": "改派"})
    penalty_db.expire_all()
    assert penalty_db.get(HumanTask, task.id).assignee == "head.a"  # type: ignore[union-attr]


def test_only_enforcement_officers_are_offered_and_accepted_as_the_records_officers(
        filed: str, penalty_db: Session, office: Office) -> None:
    """Art. 42: an investigation record's officers are enforcement officers; the picker offers no
    legal reviewer or clerk (they used to be listed, marked 无执法证, then refused)."""
    task = ready_tasks(penalty_db, filed)[0]
    assert task.task_name == "investigate"
    b = office("officer.a")
    page = b.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "张伟" in page and "李娜" in page
    assert "陈静" not in page  # the legal reviewer (reviewer.a)
    refused = post_task(b, task.id, {"kind": "interview", "officers": ["officer.a", "reviewer.a"],
                                     "occurred_on": china_today().isoformat(), "place": "现场",
                                     "interviewee": "法定代表人", "content": "问：……答：……"})
    assert refused.status_code == 422


def test_forms_are_filled_in_with_what_the_case_and_the_directory_know(penalty_db: Session, office: Office) -> None:
    """Issue 15 item 3: the lead form carries the entity picked on the previous page (party,
    address from the directory); the decision form carries the case's facts, basis and the
    penalty notified to the party, so nothing is retyped (and the officer may still change it)."""
    from tests.web.conftest import ENTITY_A

    b = office("officer.a")
    b.get("/penalty/new")
    started = b.post("/penalty/new", {"procedure": "ordinary", "entity": ENTITY_A})
    found = TASK_RE.search(started.headers["Location"])
    assert found
    lead = b.get(f"/tasks/{found.group(1)}").get_data(as_text=True)
    assert 'value="康宁诊所"' in lead and f'value="{ENTITY_A}"' in lead and 'value="经二路18号"' in lead
    instance_id = instance_of(penalty_db, found.group(1))
    run_until(office, penalty_db, instance_id, "draft_decision")
    case = case_of(penalty_db, instance_id)
    task = next(t for t in ready_tasks(penalty_db, instance_id) if t.task_name == "draft_decision")
    page = office(task.assignee or "officer.a").get(f"/tasks/{task.id}").get_data(as_text=True)
    assert case.violation and case.violation in page and case.legal_basis and case.legal_basis in page
    fine = (case.notified_penalty or {}).get("fine")
    assert fine and re.search(rf'name="fine"[^>]*value="{int(fine)}"', page)


def test_a_lead_that_differs_from_the_directory_says_where_and_needs_a_confirmation(
        penalty_db: Session, office: Office) -> None:
    """Issue 15 item 3: a difference from the directory is shown and confirmed, so the case's
    documents do not silently disagree with the directory."""
    task_id = start_lead(office)
    b = office("officer.a")
    data = form_data(penalty_db, ready_tasks(penalty_db, instance_of(penalty_db, task_id))[0])
    data["registered_address"] = "经二路20号"  # the directory says 经二路18号
    refused = post_task(b, task_id, data)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "当事人信息与监督对象名录不一致" in page and "注册地址（名录：经二路18号，本表：经二路20号）" in page
    assert case_of(penalty_db, instance_of(penalty_db, task_id)).status == "lead"
    data["directory_difference_confirmed"] = "true"
    accepted = post_task(b, task_id, data)
    assert accepted.status_code in (302, 303), accepted.get_data(as_text=True)[:500]
    penalty_db.expire_all()
    assert case_of(penalty_db, instance_of(penalty_db, task_id)).registered_address == "经二路20号"

"""The JSON API: token and session auth, every endpoint the UI uses, error codes, OpenAPI."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.db import utcnow
from engine.models import AuditEvent, HumanTask
from processes.directory.codes import make_credit_code
from processes.directory.models import User
from tests.web.conftest import COUNTY_A, ENTITY_A, ENTITY_B, make_incident, ready_task, start_lead
from web.models import ApiToken

VALID = {"source": "complaint", "summary": "投诉", "facts": "无证行医", "kinds": ["unlicensed"], "amount": 20000}


class Api:
    def __init__(self, client: FlaskClient, token: str | None) -> None:
        self.client, self.token = client, token

    def call(self, method: str, url: str, json: Any = None, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return self.client.open(f"/api/v1{url}", method=method, json=json, headers=headers, **kwargs)


@pytest.fixture
def api_for(app: Flask) -> Any:
    from web.extensions import db
    from web.security import create_token

    def make(login: str, days: int | None = 30) -> Api:
        with app.app_context():
            user = db.session.get(User, login)
            assert user is not None
            _row, token = create_token(user, "test system", "admin", days)
            db.session.commit()
        return Api(app.test_client(), token)

    return make


def test_authentication(app: Flask, api_for: Any, session: Session) -> None:
    anonymous = Api(app.test_client(), None).call("GET", "/inbox")
    assert anonymous.status_code == 401 and anonymous.json["code"] == "unauthorized"
    assert Api(app.test_client(), "wj_guess").call("GET", "/me").json["code"] == "invalid_token"
    good = api_for("officer.a")
    me = good.call("GET", "/me")
    assert me.status_code == 200 and me.json["id"] == "officer.a" and me.json["units"] == [COUNTY_A]
    row = session.scalar(select(ApiToken).where(ApiToken.user_id == "officer.a"))
    assert row is not None and row.token_hash != good.token and good.token.startswith(row.prefix)
    row.revoked_at = utcnow()
    session.commit()
    assert good.call("GET", "/me").status_code == 401
    expired = api_for("officer.a")
    session.execute(ApiToken.__table__.update().where(ApiToken.user_id == "officer.a")
                    .values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    assert expired.call("GET", "/me").status_code == 401


def test_browser_session_needs_the_csrf_header_to_write(as_user: Any, session: Session) -> None:
    task = ready_task(session, start_lead(session).id)
    officer = as_user("officer.a")
    assert officer.client.get("/api/v1/me").json["id"] == "officer.a"
    refused = officer.client.post(f"/api/v1/tasks/{task.id}/claim")
    assert refused.status_code == 400 and refused.json["code"] == "csrf_failed"
    ok = officer.api("POST", f"/api/v1/tasks/{task.id}/claim")
    assert ok.status_code == 200 and ok.json["assignee"] == "officer.a"


def test_inbox_paging_and_task_flow(api_for: Any, session: Session) -> None:
    for i in range(4):
        start_lead(session, key=f"L-{i}")
    officer = api_for("officer.a")
    page = officer.call("GET", "/inbox?tab=claimable&limit=3")
    assert page.status_code == 200 and len(page.json["items"]) == 3 and page.json["counts"]["claimable"] == 4
    rest = officer.call("GET", f"/inbox?tab=claimable&limit=3&cursor={page.json['next_cursor']}")
    assert len(rest.json["items"]) == 1 and rest.json["next_cursor"] is None
    item = page.json["items"][0]
    assert item["title"] == "登记案源" and item["deadline"]["state"] in ("ok", "soon")
    assert officer.call("GET", "/inbox?tab=nope").status_code == 422
    assert officer.call("GET", "/inbox?limit=100000").status_code == 422
    assert officer.call("GET", "/inbox?cursor=garbage").status_code == 422

    task_id = item["id"]
    detail = officer.call("GET", f"/tasks/{task_id}").json
    assert detail["form"]["key"] == "lead.register" and detail["can_complete"] and detail["can_claim"]
    assert {f["widget"] for f in detail["form"]["fields"]} >= {"money", "date", "file", "entity"}
    assert officer.call("POST", f"/tasks/{task_id}/claim").json["assignee"] == "officer.a"
    assert api_for("officer.a2").call("POST", f"/tasks/{task_id}/claim").status_code == 409
    assert api_for("officer.a2").call("POST", f"/tasks/{task_id}/unclaim").status_code == 403
    assert officer.call("POST", f"/tasks/{task_id}/unclaim").json["assignee"] is None
    assert officer.call("POST", f"/tasks/{task_id}/claim").json["assignee"] == "officer.a"

    events = session.scalar(select(func.count()).select_from(AuditEvent))
    bad = officer.call("POST", f"/tasks/{task_id}/complete", {"data": {**VALID, "amount": "1.001", "is_admin": 1}})
    assert bad.status_code == 422 and bad.json["code"] == "invalid_data"
    assert set(bad.json["errors"]) == {"amount", "is_admin"}
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == events
    not_json = officer.call("POST", f"/tasks/{task_id}/complete", {"data": "amount=1"})
    assert not_json.status_code == 422 and "data" in not_json.json["errors"]
    done = officer.call("POST", f"/tasks/{task_id}/complete", {"data": VALID})
    assert done.status_code == 200 and done.json["tasks"][0]["task_name"] == "approve"
    assert done.json["facts"]["amount"] == 20000.0
    again = officer.call("POST", f"/tasks/{task_id}/complete", {"data": VALID})
    assert again.status_code == 409 and again.json["code"] == "task_not_ready"


def test_permissions_404_for_other_units_403_for_wrong_role(api_for: Any, session: Session) -> None:
    theirs = start_lead(session, "officer.b", ENTITY_B, "L-B")
    mine = start_lead(session)
    their_task, my_task = ready_task(session, theirs.id), ready_task(session, mine.id)
    officer = api_for("officer.a")
    for method, url in (("GET", f"/cases/{theirs.id}"), ("GET", f"/tasks/{their_task.id}"),
                        ("POST", f"/tasks/{their_task.id}/claim"), ("GET", f"/entities/{ENTITY_B}"),
                        ("GET", "/cases/not-a-uuid")):
        response = officer.call(method, url, {} if method == "POST" else None)
        assert response.status_code == 404 and response.json["code"] in ("not_found",), url
        assert "仁和" not in response.get_data(as_text=True)
    complete = officer.call("POST", f"/tasks/{their_task.id}/complete", {"data": VALID})
    assert complete.status_code == 404
    reviewer = api_for("reviewer.a")
    assert reviewer.call("GET", f"/tasks/{my_task.id}").status_code == 200
    assert reviewer.call("POST", f"/tasks/{my_task.id}/complete", {"data": VALID}).status_code == 403
    assert reviewer.call("POST", f"/tasks/{my_task.id}/claim").status_code == 403
    assert officer.call("POST", f"/tasks/{my_task.id}/assign",
                        {"assignee": "officer.a2", "reason": "x"}).status_code == 403
    head = api_for("head.a")
    assert head.call("POST", f"/tasks/{my_task.id}/assign", {"assignee": "officer.b", "reason": "x"}).status_code == 422
    assert head.call("POST", f"/tasks/{my_task.id}/assign", {"assignee": "officer.a2"}).status_code == 422
    moved = head.call("POST", f"/tasks/{my_task.id}/assign", {"assignee": "officer.a2", "reason": "休假"})
    assert moved.status_code == 200 and moved.json["assignee"] == "officer.a2"
    case = api_for("officer.p").call("GET", f"/cases/{theirs.id}")
    assert case.status_code == 200 and case.json["audit"][0]["action"] == "instance_started"


def test_start_case_entities_and_uploads(api_for: Any, session: Session) -> None:
    officer = api_for("officer.a")
    created = officer.call("POST", "/cases", {"process_key": "case_lead", "entity_id": ENTITY_A,
                                              "business_key": "API-1"})  # the sender's own reference
    assert created.status_code == 201 and created.json["business_key"] == "API-1"
    again = officer.call("POST", "/cases", {"process_key": "case_lead", "entity_id": ENTITY_A,
                                            "business_key": "API-1"})
    assert again.status_code == 409 and "API-1" in again.json["message"]  # never two cases with one key
    generated = officer.call("POST", "/cases", {"process_key": "case_lead", "entity_id": ENTITY_A})
    assert generated.status_code == 201 and generated.json["business_key"] not in (None, "", "API-1")
    assert officer.call("POST", "/cases", {"process_key": "case_lead", "entity_id": ENTITY_B}).status_code == 404
    assert officer.call("POST", "/cases", {"process_key": "nope", "entity_id": ENTITY_A}).status_code == 404
    assert officer.call("POST", "/cases", {"process_key": "case_lead"}).status_code == 422

    found = officer.call("GET", "/entities?q=康宁")
    assert [e["credit_code"] for e in found.json] == [ENTITY_A]
    bad = officer.call("POST", "/entities", {"credit_code": "91350100M000100Y44", "name": "x", "category": "medical",
                                             "unit_id": COUNTY_A})
    assert bad.status_code == 422 and "credit_code" in bad.json["errors"]
    code = make_credit_code("610302", "MA6X00003")
    assert officer.call("POST", "/entities", {"credit_code": code, "name": "新单位", "category": "school",
                                              "unit_id": COUNTY_A}).status_code == 201
    assert officer.call("POST", "/entities", {"credit_code": make_credit_code("610303", "MA6X00004"), "name": "x",
                                              "category": "school", "unit_id": "610303"}).status_code == 403
    assert len(officer.call("GET", f"/entities/{ENTITY_A}").json["cases"]) == 2

    pdf = b"%PDF-1.5\n" + b"9" * 300
    uploaded = officer.call("POST", "/uploads", data={"file": (io.BytesIO(pdf), "证据.pdf")},
                            content_type="multipart/form-data")
    assert uploaded.status_code == 201 and uploaded.json["size"] == len(pdf)
    wrong = officer.call("POST", "/uploads", data={"file": (io.BytesIO(b"MZ" + b"0" * 50), "x.pdf")},
                         content_type="multipart/form-data")
    assert wrong.status_code == 422 and wrong.json["code"] == "invalid_upload"
    big = officer.call("POST", "/uploads", data={"file": (io.BytesIO(b"%PDF" + b"0" * 150_000), "b.pdf")},
                       content_type="multipart/form-data")
    assert big.status_code == 422 and "大小限制" in big.json["message"]
    huge = officer.call("POST", "/uploads", data={"file": (io.BytesIO(b"%PDF" + b"0" * 350_000), "h.pdf")},
                        content_type="multipart/form-data")
    assert huge.status_code == 413 and huge.json["code"] == "too_large"

    task = ready_task(session, created.json["id"])
    done = officer.call("POST", f"/tasks/{task.id}/complete", {"data": {**VALID, "evidence": uploaded.json}})
    assert done.status_code == 200 and done.json["documents"][0]["sha256"] == uploaded.json["sha256"]
    assert officer.call("GET", "/forms").status_code == 200
    assert officer.call("GET", "/forms/lead.approve").json["fields"][0]["name"] == "approved"
    assert officer.call("GET", "/forms/nope").status_code == 404


def test_admin_incidents(app: Flask, api_for: Any, session: Session) -> None:
    instance_id, job_id = make_incident(session)
    officer, admin = api_for("officer.a"), api_for("admin")
    assert officer.call("GET", "/admin/incidents").status_code == 403
    listed = admin.call("GET", "/admin/incidents")
    assert [i["id"] for i in listed.json] == [job_id]
    resolved = admin.call("POST", f"/admin/incidents/{job_id}/resolve",
                          {"note": "人工生成文书", "result": {"text": "ok"}})
    assert resolved.status_code == 200
    assert admin.call("POST", f"/admin/incidents/{job_id}/retry").status_code == 409
    assert session.scalar(select(HumanTask.task_name).where(HumanTask.instance_id == instance_id,
                                                            HumanTask.status == "ready")) == "check"
    audit = admin.call("GET", "/admin/audit")
    assert audit.json["ok"] is True


def test_openapi_document_and_docs_page(app: Flask) -> None:
    client = app.test_client()
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.") and "/api/v1/tasks/{task_id}/complete" in spec["paths"]
    schemas = spec["components"]["schemas"]
    assert "Form.lead.register" in schemas
    amount = schemas["Form.lead.register"]["properties"]["amount"]
    assert amount["title"] == "涉案金额（元）" and amount["x-widget"] == "money" and amount["type"] == "number"
    responses = spec["paths"]["/api/v1/cases/{instance_id}"]["get"]["responses"]
    assert "404" in responses and "401" in responses
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200 and "/api/v1/inbox" in docs.get_data(as_text=True)


def test_saved_filters_over_the_api(api_for: Any) -> None:
    officer, other = api_for("officer.a"), api_for("officer.a2")
    made = officer.call("POST", "/inbox/filters", {"name": "逾期", "params": {"tab": "overdue", "order": "-due"}})
    assert made.status_code == 201 and made.json["params"] == {"tab": "overdue", "order": "-due"}
    assert officer.call("POST", "/inbox/filters", {"name": "x", "params": {"tab": "all-of-it"}}).status_code == 422
    assert [f["name"] for f in officer.call("GET", "/inbox/filters").json] == ["逾期"]
    assert other.call("GET", "/inbox/filters").json == []
    assert other.call("DELETE", f"/inbox/filters/{made.json['id']}").status_code == 404
    assert officer.call("DELETE", f"/inbox/filters/{made.json['id']}").status_code == 204
    assert officer.call("GET", "/inbox/filters").json == []


def test_a_penalty_case_started_over_the_api_is_a_whole_case(api_for: Any, session: Session,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The API starts a penalty lead through the package, as the page does: its case record
    exists and its first task opens (it once answered 404 for ever)."""
    from processes.penalty.models import PenaltyCase
    from tests.web.penalty_flow import setup_penalty

    monkeypatch.setenv("WEIJIAN_PENALTY_PDF", "0")
    setup_penalty(session)
    session.commit()
    officer = api_for("officer.a")
    created = officer.call("POST", "/cases", {"process_key": "penalty_ordinary", "entity_id": ENTITY_A})
    assert created.status_code == 201
    case = session.scalar(select(PenaltyCase).where(PenaltyCase.instance_id == created.json["id"]))
    assert case is not None and case.status == "lead" and case.unit_id == COUNTY_A
    task = ready_task(session, created.json["id"])
    opened = officer.call("GET", f"/tasks/{task.id}")
    assert opened.status_code == 200
    called = officer.call("POST", "/cases", {"process_key": "penalty_deliberation", "entity_id": ENTITY_A})
    assert called.status_code == 404  # runs inside a case, never alone
    cases_before = session.scalar(select(func.count()).select_from(PenaltyCase))
    typed = officer.call("POST", "/cases", {"process_key": "penalty_ordinary", "entity_id": ENTITY_A,
                                            "business_key": "渭滨卫医罚〔2026〕2号"})
    assert typed.status_code == 422 and "编号" in typed.json["message"]  # numbers come from the service
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(PenaltyCase)) == cases_before


def _upload(api: Any, content: bytes, name: str = "证据.pdf") -> dict[str, Any]:
    answer = api.call("POST", "/uploads", data={"file": (io.BytesIO(content), name)},
                      content_type="multipart/form-data")
    assert answer.status_code == 201
    return dict(answer.json)


def test_a_file_is_named_only_by_who_uploaded_it(api_for: Any, session: Session) -> None:
    """Naming another unit's stored file by its SHA-256 neither attaches nor discloses it."""
    mine, theirs = api_for("officer.a"), api_for("officer.b")
    secret = _upload(mine, b"%PDF-1.5\n" + "康宁诊所的询问笔录".encode() * 20)
    lead = theirs.call("POST", "/cases", {"process_key": "case_lead", "entity_id": ENTITY_B})
    task = ready_task(session, lead.json["id"])
    refused = theirs.call("POST", f"/tasks/{task.id}/complete",
                          {"data": {**VALID, "evidence": {"sha256": secret["sha256"], "filename": "x.pdf"}}})
    assert refused.status_code == 422 and "evidence" in refused.json["errors"]
    assert ready_task(session, lead.json["id"]).status == "ready"  # nothing written
    same = _upload(theirs, b"%PDF-1.5\n" + "康宁诊所的询问笔录".encode() * 20)  # holding the bytes is proof
    done = theirs.call("POST", f"/tasks/{task.id}/complete", {"data": {**VALID, "evidence": same}})
    assert done.status_code == 200


def test_a_file_name_with_cr_lf_is_cleaned_not_fatal(api_for: Any, as_user: Any, session: Session) -> None:
    officer = api_for("officer.a")
    uploaded = _upload(officer, b"%PDF-1.5\n" + b"7" * 300)
    lead = officer.call("POST", "/cases", {"process_key": "case_lead", "entity_id": ENTITY_A})
    task = ready_task(session, lead.json["id"])
    evil = {"sha256": uploaded["sha256"], "filename": "证据\r\nX-Injected: 1\r\n.pdf"}
    done = officer.call("POST", f"/tasks/{task.id}/complete", {"data": {**VALID, "evidence": evil}})
    assert done.status_code == 200
    document = done.json["documents"][0]
    assert "\r" not in document["title"] and "\n" not in document["title"]
    download = as_user("officer.a").get(document["url"])
    try:
        assert download.status_code == 200 and "X-Injected" not in download.headers
        assert "\r" not in download.headers["Content-Disposition"]
    finally:
        download.close()


def test_only_what_a_person_may_start_is_offered(api_for: Any, as_user: Any, session: Session,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Subprocesses are never started by hand; a package's start roles hold on the page and API."""
    from processes.directory.services import create_user
    from tests.web.penalty_flow import setup_penalty

    monkeypatch.setenv("WEIJIAN_PENALTY_PDF", "0")
    setup_penalty(session)
    create_user(session, "clerk.a", "孙丽", COUNTY_A, ["complaint_clerk"], "correct-horse-42", None)
    session.commit()
    officer_page = as_user("officer.a").get("/cases/new").get_data(as_text=True)
    assert 'value="penalty_ordinary"' in officer_page and 'value="penalty_deliberation"' not in officer_page
    clerk_page = as_user("clerk.a").get("/cases/new").get_data(as_text=True)
    assert 'value="penalty_ordinary"' not in clerk_page  # /penalty/new refuses her too
    clerk = api_for("clerk.a")
    assert clerk.call("POST", "/cases", {"process_key": "penalty_ordinary", "entity_id": ENTITY_A}).status_code == 404
    officer = api_for("officer.a")
    assert officer.call("POST", "/cases", {"process_key": "penalty_deliberation",
                                           "entity_id": ENTITY_A}).status_code == 404

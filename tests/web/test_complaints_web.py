"""Complaints on the web: a citizen files and follows one without signing in; clerks list, export
and count them; the complainant's identity appears on no page or API answer but the handlers'
explicit, audited look."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import SYSTEM
from engine.models import AuditEvent, HumanTask
from engine.settings import Settings
from processes.complaints import PACKAGE
from processes.complaints.models import Complaint
from processes.directory.services import create_user
from tests.complaints.driver import DEFAULTS
from tests.web.conftest import COUNTY_A, PASSWORD, Browser
from tests.web.test_public_site import _solved

SECRET_NAME, SECRET_PHONE = "王秘密", "13900001111"
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def complaints_db(session: Session) -> Session:
    PACKAGE.deploy_bundle(session, SYSTEM)
    create_user(session, "clerk.a", "孙丽", COUNTY_A, ["complaint_clerk"], PASSWORD, None)
    session.commit()
    return session


def _file(client: Any, **extra: Any) -> Any:
    page = client.get("/public/complaints/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    form = {"csrf_token": token, "challenge": _solved(client), "kind": "report", "unit_id": COUNTY_A,
            "target_name": "康宁诊所", "facts": f"无证行医 {SCRIPT}", "request": "请依法查处",
            "name": SECRET_NAME, "phone": SECRET_PHONE, **extra}
    return client.post("/public/complaints/new", data=form, content_type="multipart/form-data")


def _track(client: Any, number: str, code: str) -> Any:
    page = client.get("/public/complaints/track").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    return client.post("/public/complaints/track", data={"csrf_token": token, "tracking_no": number, "code": code})


def _filed(response: Any) -> tuple[str, str]:
    text = response.get_data(as_text=True)
    number = re.search(r'id="tracking-no">([^<]+)<', text).group(1)  # type: ignore[union-attr]
    code = re.search(r'id="query-code">([^<]+)<', text).group(1)  # type: ignore[union-attr]
    return number, code


def test_a_citizen_files_and_follows_a_complaint(app: Flask, complaints_db: Session) -> None:
    citizen = app.test_client()
    filed = _file(citizen)
    assert filed.status_code == 200 and filed.headers["Cache-Control"] == "no-store"
    number, code = _filed(filed)
    shown = _track(citizen, number, code)
    text = shown.get_data(as_text=True)
    assert shown.status_code == 200 and number in text and "已登记" in text
    assert SCRIPT not in text and SECRET_NAME not in text and SECRET_PHONE not in text
    wrong = _track(app.test_client(), number, "WRONGCODE234")
    unknown = _track(app.test_client(), "TS20990101999", code)
    assert wrong.status_code == unknown.status_code == 422
    strip = lambda r, n: re.sub(r'(value|content)="[^"]*"', "", r.get_data(as_text=True)).replace(n, "")  # noqa: E731
    assert strip(wrong, number) == strip(unknown, "TS20990101999")  # no hint whether the number exists


def test_refused_submissions_store_nothing(app: Flask, complaints_db: Session) -> None:
    citizen = app.test_client()
    before = complaints_db.scalar(select(func.count()).select_from(Complaint))
    no_challenge = _file(citizen, challenge="")
    assert no_challenge.status_code == 422 and "机器人" in no_challenge.get_data(as_text=True)
    disguised = _file(citizen, attachments=(io.BytesIO(b"MZ\x90\x00" + b"0" * 200), "照片.pdf"))
    assert disguised.status_code == 422
    bot = _file(citizen, website="http://spam.example")
    assert bot.status_code == 422
    empty = _file(citizen, facts="   ")
    assert empty.status_code == 422
    oversized = _file(citizen, attachments=(io.BytesIO(b"%PDF-1.5\n" + b"0" * 400_000), "大.pdf"))
    assert oversized.status_code == 413  # over the request limit: refused before anything is read
    wrong_kind = _file(citizen, attachments=(io.BytesIO(b"%PDF-1.5\n" + b"0" * 100), "脚本.html"))
    assert wrong_kind.status_code == 422
    complaints_db.expire_all()
    assert complaints_db.scalar(select(func.count()).select_from(Complaint)) == before


def test_floods_are_cut_per_address(web_db_url: str, tmp_path: Path, complaints_db: Session) -> None:
    from web.app import create_app

    app = create_app(Settings(database_url=web_db_url), {"TESTING": True, "UPLOAD_DIR": str(tmp_path / "u"),
                                                        "PUBLIC_LIMITS": {"submit": "2/hour"}})
    citizen = app.test_client()
    assert [_file(citizen).status_code for _ in range(2)] == [200, 200]
    flooded = _file(citizen)
    assert flooded.status_code == 429 and int(flooded.headers["Retry-After"]) > 0
    complaints_db.expire_all()
    assert complaints_db.scalar(select(func.count()).select_from(Complaint)) == 2


def _complete(browser: Browser, session: Session, form_key: str, **override: Any) -> None:
    session.expire_all()
    task = session.scalars(select(HumanTask).where(HumanTask.status == "ready", HumanTask.form_key == form_key)).one()
    browser.get("/inbox")
    done = browser.api("POST", f"/api/v1/tasks/{task.id}/complete", {"data": {**DEFAULTS[form_key], **override}})
    assert done.status_code == 200, done.get_data(as_text=True)


def test_script_in_every_text_field_is_stored_as_text(app: Flask, complaints_db: Session, as_user: Any) -> None:
    fields = {k: f"{k}{SCRIPT}" for k in ("target_name", "facts", "request", "name", "address")}
    number, code = _filed(_file(app.test_client(), **fields))
    complaint = complaints_db.scalars(select(Complaint).where(Complaint.tracking_no == number)).one()
    assert complaint.facts == f"facts{SCRIPT}"  # kept as typed, escaped wherever shown
    pages = [_track(app.test_client(), number, code).get_data(as_text=True),
             as_user("clerk.a").get(f"/complaints/{complaint.id}").get_data(as_text=True),
             as_user("clerk.a").get("/complaints").get_data(as_text=True)]
    for page in pages:
        assert SCRIPT not in page


def test_the_complainant_is_seen_only_by_the_handlers_on_purpose(app: Flask, complaints_db: Session,
                                                                  as_user: Any) -> None:
    number, _code = _filed(_file(app.test_client()))
    clerk = as_user("clerk.a")
    _complete(clerk, complaints_db, "complaints.classify")
    _complete(clerk, complaints_db, "complaints.route")
    _complete(clerk, complaints_db, "complaints.acceptance", handlers=["officer.a"])
    complaint = complaints_db.scalars(select(Complaint).where(Complaint.tracking_no == number)).one()
    tasks = [t.id for t in complaints_db.scalars(select(HumanTask).where(HumanTask.business_key == number))]
    pages = ["/inbox", "/inbox?tab=claimable", "/complaints", "/complaints?target=康宁", f"/complaints/{complaint.id}",
             "/complaints/statistics", *[f"/cases/{i}" for i in complaint.instance_ids],
             *[f"/tasks/{t}" for t in tasks]]
    apis = ["/api/v1/inbox", *[f"/api/v1/cases/{i}" for i in complaint.instance_ids]]
    for login in ("clerk.a", "officer.a", "officer.a2", "head.a", "officer.b", "admin"):
        browser = as_user(login)
        for url in pages:
            text = browser.get(url).get_data(as_text=True)
            assert SECRET_NAME not in text and SECRET_PHONE not in text, (login, url)
            assert SCRIPT not in text, (login, url)
        for url in apis:
            text = browser.api("GET", url).get_data(as_text=True)
            assert SECRET_NAME not in text and SECRET_PHONE not in text, (login, url)
        for fmt in ("csv", "xlsx"):
            exported = browser.get(f"/complaints/export.{fmt}")
            content = exported.get_data()
            if fmt == "xlsx" and exported.status_code == 200:
                with zipfile.ZipFile(io.BytesIO(content)) as book:
                    content = b"".join(book.read(n) for n in book.namelist())
            assert SECRET_NAME.encode() not in content and SECRET_PHONE.encode() not in content, (login, fmt)
    outsider = as_user("officer.a2")
    outsider.get(f"/complaints/{complaint.id}")
    assert outsider.post(f"/complaints/{complaint.id}/complainant", {"purpose": "好奇"}).status_code == 403
    handler = as_user("officer.a")
    handler.get(f"/complaints/{complaint.id}")
    shown = handler.post(f"/complaints/{complaint.id}/complainant", {"purpose": "电话回访"})
    assert shown.status_code == 200 and SECRET_NAME in shown.get_data(as_text=True)
    complaints_db.expire_all()
    actions = [a for (a,) in complaints_db.execute(select(AuditEvent.action).where(
        AuditEvent.action.in_(("complaint_identity_viewed", "complaint_identity_refused"))))]
    assert sorted(actions) == ["complaint_identity_refused", "complaint_identity_viewed"]


def test_clerks_register_list_filter_and_export(as_user: Any, complaints_db: Session) -> None:
    clerk = as_user("clerk.a")
    clerk.get("/complaints/new")
    made = clerk.post("/complaints/new", {"channel": "hotline_12345", "kind": "complaint", "facts": "水质浑浊",
                                          "target_name": "第二自来水公司", "request": "请核查"},
                      content_type="multipart/form-data")
    assert made.status_code == 302
    shown = clerk.get(made.location).get_data(as_text=True)
    assert "查询码" in shown or "Query code" in shown
    listed = clerk.get("/complaints?channel=hotline_12345").get_data(as_text=True)
    assert "第二自来水公司" in listed
    assert "第二自来水公司" not in clerk.get("/complaints?channel=portal").get_data(as_text=True)
    csv_text = clerk.get("/complaints/export.csv").get_data().decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("登记编号") and "第二自来水公司" in csv_text
    assert as_user("officer.b").get("/complaints?target=第二自来水").get_data(as_text=True).count("第二自来水公司") == 0
    refused = clerk.post("/complaints/new", {"channel": "hotline_12345", "target_name": "", "facts": ""},
                         content_type="multipart/form-data")
    assert refused.status_code == 422


def test_a_phone_complaint_with_mistakes_names_every_one_and_stores_nothing(as_user: Any,
                                                                           complaints_db: Session) -> None:
    """The clerk types a caller's details while on the phone: the browser does not stop the form at
    the first empty field (novalidate), and the server names every mistake, including a contact a
    written reply could never reach."""
    clerk = as_user("clerk.a")
    form = clerk.get("/complaints/new").get_data(as_text=True)
    assert re.search(r'<form[^>]*id="complaint-new"[^>]*novalidate', form)
    before = complaints_db.scalar(select(func.count()).select_from(Complaint))
    refused = clerk.post("/complaints/new", {"channel": "phone", "target_name": "", "facts": "", "name": "李先生",
                                             "email": "li.example.com", "phone": "电话见来电显示",
                                             "reply_channel": "email"}, content_type="multipart/form-data")
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert page.count("请填写此项") == 2
    assert "电子邮箱格式不正确" in page and "电话号码格式不正确" in page
    assert 'value="李先生"' in page and 'value="li.example.com"' in page  # what was typed stays
    complaints_db.expire_all()
    assert complaints_db.scalar(select(func.count()).select_from(Complaint)) == before
    made = clerk.post("/complaints/new", {"channel": "phone", "target_name": "金水湾洗浴中心", "facts": "毛巾未消毒",
                                          "name": "李先生", "email": "li@example.com", "phone": "+86 138-0000-0000",
                                          "reply_channel": "email"}, content_type="multipart/form-data")
    assert made.status_code == 302


def test_a_clerk_picks_the_target_from_the_directory_and_the_entity_is_kept(as_user: Any,
                                                                          complaints_db: Session) -> None:
    """Issue 11, intake: the target is a directory entity when it is one (picked while typing, as
    on the public form), else free text; a stale or forged pick is refused and nothing stored."""
    from tests.web.conftest import ENTITY_A

    clerk = as_user("clerk.a")
    form = clerk.get("/complaints/new").get_data(as_text=True)
    assert 'data-entity-search="/public/complaints/entities"' in form and 'name="entity_id"' in form
    before = complaints_db.scalar(select(func.count()).select_from(Complaint))
    forged = clerk.post("/complaints/new", {"channel": "phone", "target_name": "康宁",
                                            "entity_id": "91610000XXXXXXXXXX", "facts": "无证行医"},
                        content_type="multipart/form-data")
    assert forged.status_code == 422 and "名录中没有所选单位" in forged.get_data(as_text=True)
    complaints_db.expire_all()
    assert complaints_db.scalar(select(func.count()).select_from(Complaint)) == before
    made = clerk.post("/complaints/new", {"channel": "phone", "target_name": "康宁", "entity_id": ENTITY_A,
                                          "facts": "无证行医"}, content_type="multipart/form-data")
    assert made.status_code == 302
    complaints_db.expire_all()
    stored = complaints_db.scalar(select(Complaint).where(Complaint.entity_id == ENTITY_A))
    assert stored is not None and stored.entity_id == ENTITY_A and stored.target_name == "康宁诊所"
    task = complaints_db.scalar(select(HumanTask).where(HumanTask.status == "ready", HumanTask.entity_id == ENTITY_A))
    assert task is not None and task.entity_name == "康宁诊所"  # the inbox shows the entity, not "—"


def test_administrators_change_complaint_periods_with_a_reason(as_user: Any, complaints_db: Session) -> None:
    admin = as_user("admin")
    page = admin.get("/admin/complaints/rules").get_data(as_text=True)
    assert "cohandling.default_workdays" in page and "[practice]" in page and "law/unconfirmed" in page
    admin.get("/admin/complaints/rules/cohandling.default_workdays")
    no_reason = admin.post("/admin/complaints/rules/cohandling.default_workdays", {"value": "12", "reason": ""})
    assert no_reason.status_code == 422
    done = admin.post("/admin/complaints/rules/cohandling.default_workdays", {"value": "12", "reason": "市所通知"})
    assert done.status_code == 302
    from processes.complaints.rule_store import effective_rules

    complaints_db.expire_all()
    assert effective_rules(complaints_db).as_raw()["cohandling"]["default_workdays"] == 12
    admin.get("/admin/complaints/rules/verification.min_officers")
    law = admin.post("/admin/complaints/rules/verification.min_officers", {"value": "1", "reason": "试试"})
    assert law.status_code == 422  # a statutory value needs the explicit confirmation
    assert as_user("clerk.a").get("/admin/complaints/rules").status_code == 403


def test_an_archived_complaint_is_on_the_entitys_page(as_user: Any, complaints_db: Session) -> None:
    """一户一档: the closed complaint's archive (ZIP with its manifest) is listed on the entity's
    page for its unit, and nobody else can download it."""
    from datetime import timedelta

    from engine import Actor, due_jobs, fire_due_timers, run_job
    from engine.clock import now as clock_now
    from processes.complaints import submit_public, submit_task
    from processes.complaints.models import ComplaintArchive
    from tests.web.conftest import ENTITY_A

    session = complaints_db
    number, _code = submit_public(session, unit_id=COUNTY_A, facts="无证行医", entity_id=ENTITY_A,
                                  entity_name="康宁诊所", kind="report")
    session.commit()
    people = {"complaint_clerk": "clerk.a", "officer": "officer.a", "head": "head.a"}
    data = {**DEFAULTS, "complaints.acceptance": {**DEFAULTS["complaints.acceptance"], "handlers": ["officer.a"]},
            "complaints.verification": {**DEFAULTS["complaints.verification"], "officers": ["officer.a", "officer.a2"]}}
    later = clock_now()
    for _ in range(40):
        for job in due_jobs(session, later):
            run_job(session, job, later)
            session.commit()
        task = session.scalars(select(HumanTask).where(HumanTask.business_key == number,
                                                       HumanTask.status == "ready")).first()
        if task is None:
            later += timedelta(days=60)  # past the 复查 window: the complaint closes and is archived
            fire_due_timers(session, later)
            session.commit()
            if not due_jobs(session, later) and session.scalar(select(ComplaintArchive)) is not None:
                break
            continue
        user = task.assignee or people[task.candidate_role or "officer"]
        actor = Actor.of(user, [task.candidate_role or "officer"], [COUNTY_A])
        submit_task(session, task.id, actor, data.get(task.form_key or "", {}), now=later)
        session.commit()
    archive = session.scalar(select(ComplaintArchive))
    assert archive is not None and archive.entity_id == ENTITY_A
    clerk = as_user("clerk.a")
    page = clerk.get(f"/entities/{ENTITY_A}").get_data(as_text=True)
    assert 'id="complaint-archives"' in page and number in page and archive.manifest_sha256 in page
    assert SECRET_NAME not in page
    download = clerk.get(f"/complaints/archives/{archive.id}")
    assert download.status_code == 200 and download.data[:2] == b"PK"
    assert as_user("officer.b").get(f"/complaints/archives/{archive.id}").status_code == 404


def test_a_penalty_lead_shows_the_complaint_it_came_from(as_user: Any, complaints_db: Session,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from engine import Actor, due_jobs, run_job
    from processes.complaints import submit_public, submit_task
    from tests.web.penalty_flow import setup_penalty

    monkeypatch.setenv("WEIJIAN_PENALTY_PDF", "0")
    session = complaints_db
    setup_penalty(session)
    session.commit()
    number, _code = submit_public(session, unit_id=COUNTY_A, facts="无证行医", target_name="康宁诊所", kind="report")
    session.commit()
    people = {"complaint_clerk": "clerk.a", "officer": "officer.a", "head": "head.a"}
    data = {**DEFAULTS, "complaints.acceptance": {**DEFAULTS["complaints.acceptance"], "handlers": ["officer.a"]},
            "complaints.verification": {**DEFAULTS["complaints.verification"], "officers": ["officer.a", "officer.a2"],
                                        "violation_found": True}}
    for _ in range(12):
        for job in due_jobs(session):
            run_job(session, job)
            session.commit()
        complaint = session.scalars(select(Complaint).where(Complaint.tracking_no == number)).one()
        if complaint.penalty_instance_id:
            break
        task = session.scalars(select(HumanTask).where(HumanTask.business_key == number,
                                                       HumanTask.status == "ready")).first()
        assert task is not None
        user = task.assignee or people[task.candidate_role or "officer"]
        submit_task(session, task.id, Actor.of(user, [task.candidate_role or "officer"], [COUNTY_A]),
                    data.get(task.form_key or "", {}))
        session.commit()
    assert complaint.penalty_instance_id
    page = as_user("officer.a").get(f"/cases/{complaint.penalty_instance_id}").get_data(as_text=True)
    assert 'id="complaint-origin"' in page and number in page
    assert as_user("officer.b").get(f"/cases/{complaint.penalty_instance_id}").status_code == 404

"""The signed draw record on the plan page: the planner and the approving head (the witness when no
witness entered the seed) each sign with their own key and passphrase; the page shows each
signature's status, signer, time and certificate serial, with the verification report as HTML and
PDF; a changed drawn entity in the stored record, or a changed signature, shows INVALID; nothing
edits a finished draw, and a re-draw keeps the old record verifiable."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

import signing
from engine.calendar import CHINA_TZ
from engine.clock import china_today
from engine.models import HumanTask, ProcessInstance
from processes.directory.models import ENTITY_CATEGORIES, Unit
from processes.inspections import draw_record, sampling, service
from processes.inspections.models import Draw, DrawImmutableError, DrawSigning, Plan
from signing.models import DeliberationRecord, StoredSignature
from tests.web.conftest import actor
from tests.web.inspections_flow import approved_plan, setup_inspections
from tests.web.penalty_flow import CA_PASSPHRASE, passphrase

SIGNERS = {"officer.a": "张伟", "head.a": "赵磊"}


@pytest.fixture
def drawn(app: Flask, session: Session) -> tuple[Plan, Draw]:
    setup_inspections(session)
    now = datetime.now(UTC) - timedelta(days=1)
    signing.init_ca(session, ca_passphrase=CA_PASSPHRASE, now=now)
    for login, name in SIGNERS.items():
        signing.issue_certificate(session, login, name, passphrase(login), ca_passphrase=CA_PASSPHRASE, now=now,
                                  validity=timedelta(days=800))
    session.commit()
    return approved_plan(session)


def _sign(as_user: Any, login: str, draw: Draw, secret: str | None = None) -> str:
    response = as_user(login).post(f"/inspections/draws/{draw.id}/sign",
                                   data={"passphrase": secret if secret is not None else passphrase(login)},
                                   follow_redirects=True)
    return response.get_data(as_text=True)


def _record(session: Session, draw: Draw) -> DeliberationRecord:
    session.expire_all()
    record = draw_record.record_of(session, draw.id)
    assert record is not None
    return record


def test_planner_and_head_sign_and_the_page_shows_both_signatures_valid(
        session: Session, as_user: Any, drawn: tuple[Plan, Draw]) -> None:
    plan, draw = drawn
    page = as_user("officer.a").get(f"/inspections/plans/{plan.id}").get_data(as_text=True)
    assert "sign-draw-form" in page and "张伟" in page and "赵磊" in page  # both still to sign
    assert "签名口令不正确" in _sign(as_user, "officer.a", draw, "wrong passphrase")
    assert draw_record.record_of(session, draw.id) is None  # nothing signed, no record made
    assert "已签名：抽取记录的电子签名验证有效" in _sign(as_user, "officer.a", draw)
    assert "你已经签过名" in _sign(as_user, "officer.a", draw)
    assert "不是这次抽取记录的签名人" in _sign(as_user, "officer.a2", draw, "x")
    _sign(as_user, "head.a", draw)
    record = _record(session, draw)
    verification = signing.verify_record(session, record.id)
    assert verification.complete and {r.signer_user_id for r in verification.signatures} == set(SIGNERS)
    roles = {r.signer_user_id: r.role for r in verification.signatures}
    assert roles == {"officer.a": draw_record.PLANNER_ROLE, "head.a": draw_record.HEAD_WITNESS_ROLE}
    page = as_user("officer.a").get(f"/inspections/plans/{plan.id}").get_data(as_text=True)
    assert page.count("VALID") == 2 and "INVALID" not in page and "sign-draw-form" not in page
    serials = set(session.scalars(select(StoredSignature.certificate_serial)))
    assert all(s in page for s in serials)
    xml = record.record_xml.decode()
    assert draw.seed in xml and draw.seed_hash in xml and draw.snapshot_hash in xml  # type: ignore[operator]
    assert all(e["credit_code"] in xml for e in draw.result["entities"])  # type: ignore[index]
    report = as_user("head.a").get(f"/inspections/draws/{draw.id}/record")
    assert report.status_code == 200 and "随机抽取记录" in report.get_data(as_text=True)
    assert report.get_data(as_text=True).count("有效") >= 2
    pdf = as_user("head.a").get(f"/inspections/draws/{draw.id}/record.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert as_user("head.a").get(f"/inspections/draws/{draw.id}/record.xml").data == record.record_xml


def test_the_record_page_names_the_signed_parameters_in_chinese(
        session: Session, as_user: Any, drawn: tuple[Plan, Draw]) -> None:
    """Who reads the record sees 默认抽取比例 and the category by name, not the plan's JSON; the
    signed bytes still hold the parameters exactly as drawn."""
    plan, draw = drawn
    _sign(as_user, "officer.a", draw)
    record = _record(session, draw)
    page = as_user("head.a").get(f"/inspections/draws/{draw.id}/record").get_data(as_text=True)
    shown = re.sub(r"<[^>]+>", " ", page.split("一、算法与参数")[1].split("二、随机种子与快照")[0])
    for label in ("默认抽取比例", "抽取权重", "风险等级“高风险”", "每年随机检查次数上限", "抽查类别",
                  "抽查范围（单位）"):
        assert label in shown, label
    assert all(ENTITY_CATEGORIES[c] in shown for c in draw.params["categories"])
    assert session.get(Unit, plan.unit_id).name in shown  # type: ignore[union-attr]
    assert not re.search(r"[{}\[\]\"]|default_ratio|scope_units", shown), shown
    assert sampling.canonical(draw.params).decode() in record.record_xml.decode()


def test_a_changed_drawn_entity_or_signature_in_storage_shows_invalid(
        session: Session, as_user: Any, drawn: tuple[Plan, Draw]) -> None:
    plan, draw = drawn
    _sign(as_user, "officer.a", draw)
    _sign(as_user, "head.a", draw)
    record = _record(session, draw)
    first = draw.result["entities"][0]["credit_code"]  # type: ignore[index]
    other = draw.result["entities"][1]["credit_code"]  # type: ignore[index]
    record.record_xml = record.record_xml.replace(first.encode(), other.encode(), 1)  # swap a drawn entity
    session.commit()
    verification = signing.verify_record(session, record.id)
    assert not verification.complete
    assert {r.reason for r in verification.signatures} == {signing.Reason.RECORD_CHANGED}
    page = as_user("officer.a").get(f"/inspections/plans/{plan.id}").get_data(as_text=True)
    assert page.count("INVALID") == 2
    record.record_xml = record.record_xml.replace(other.encode(), first.encode(), 1)
    row = session.scalars(select(StoredSignature).where(StoredSignature.record_id == record.id)).first()
    assert row is not None
    row.signature_xml = row.signature_xml.replace(b"<ds:SignatureValue>", b"<ds:SignatureValue>AA", 1)
    session.commit()
    reports = signing.verify_record(session, record.id).signatures
    assert sorted(r.valid for r in reports) == [False, True]


def test_no_edit_of_a_finished_draw_and_a_redraw_keeps_the_old_record_verifiable(
        session: Session, as_user: Any, drawn: tuple[Plan, Draw]) -> None:
    plan, draw = drawn
    _sign(as_user, "officer.a", draw)
    _sign(as_user, "head.a", draw)
    old_record = _record(session, draw)
    row = session.get(Draw, draw.id)
    assert row is not None
    row.result = {**(row.result or {}), "entities": []}  # a "manual edit" of the result
    with pytest.raises(DrawImmutableError, match="已完成的抽取结果不能修改"):
        session.flush()
    session.rollback()
    assert as_user("head.a").post(f"/inspections/draws/{draw.id}/edit", data={}).status_code in (404, 405)
    new = service.redraw(session, actor(session, "head.a"), draw.id, "名录库有一户已注销，重新抽取")
    session.commit()
    assert new.supersedes_id == draw.id
    assert signing.verify_record(session, old_record.id).complete  # the old record still verifies
    _sign(as_user, "officer.a", new)
    new_record = _record(session, new)
    assert new_record.id != old_record.id
    xml = new_record.record_xml.decode()
    assert draw.id in xml and "名录库有一户已注销，重新抽取" in xml
    page = as_user("officer.a").get(f"/inspections/plans/{plan.id}").get_data(as_text=True)
    assert page.count("VALID") == 3 and "INVALID" not in page


def _sign_tasks(session: Session, draw: Draw, status: str | None = "ready") -> dict[str, HumanTask]:
    session.expire_all()
    row = session.get(DrawSigning, draw.id)
    assert row is not None, "the draw has no signing step"
    query = select(HumanTask).where(HumanTask.instance_id == row.instance_id)
    if status:
        query = query.where(HumanTask.status == status)
    return {t.assignee or "": t for t in session.scalars(query)}


def test_each_signer_has_an_inbox_task_showing_the_record_and_the_plan_page_is_the_same_action(
        session: Session, as_user: Any, drawn: tuple[Plan, Draw]) -> None:
    plan, draw = drawn
    tasks = _sign_tasks(session, draw)
    assert set(tasks) == set(SIGNERS) and all(t.title == "签署抽取记录" and t.due_at for t in tasks.values())
    planner = as_user("officer.a")
    assert tasks["officer.a"].id in planner.get("/inbox").get_data(as_text=True)
    page = planner.get(f"/tasks/{tasks['officer.a'].id}").get_data(as_text=True)
    assert "draw-sign-panel" in page and 'type="password"' in page and 'name="passphrase"' in page
    assert draw.seed in page and draw.snapshot_hash in page and draw.seed_hash in page
    assert all(e["credit_code"] in page for e in draw.result["entities"])  # type: ignore[index]
    refused = planner.post(f"/tasks/{tasks['officer.a'].id}", {"passphrase": "wrong passphrase"})
    assert refused.status_code == 422 and "签名口令不正确" in refused.get_data(as_text=True)
    assert "wrong passphrase" not in refused.get_data(as_text=True)
    assert set(_sign_tasks(session, draw)) == set(SIGNERS)  # nothing completed
    done = planner.post(f"/tasks/{tasks['officer.a'].id}", {"passphrase": passphrase("officer.a")})
    assert done.status_code in (302, 303), done.get_data(as_text=True)[:1500]
    assert set(_sign_tasks(session, draw)) == {"head.a"}
    assert "你已经签过名" in _sign(as_user, "officer.a", draw)  # the plan page refuses a second signature
    _sign(as_user, "head.a", draw)  # on the plan page: completes the head's task too
    assert _sign_tasks(session, draw) == {}
    completed = _sign_tasks(session, draw, None)
    assert {u: t.status for u, t in completed.items()} == {"officer.a": "completed", "head.a": "completed"}
    instance = session.get(ProcessInstance, completed["head.a"].instance_id)
    assert instance is not None and instance.status == "completed"
    assert signing.verify_record(session, _record(session, draw).id).complete
    assert "overdue-signing" not in as_user("head.a").get(f"/inspections/plans/{plan.id}").get_data(as_text=True)


def test_an_unsigned_record_past_its_due_day_is_flagged_on_the_plan_page_and_in_oversight(
        session: Session, as_user: Any, drawn: tuple[Plan, Draw]) -> None:
    plan, draw = drawn
    page = as_user("head.a").get(f"/inspections/plans/{plan.id}").get_data(as_text=True)
    assert "signing-due" in page and "overdue-signing" not in page
    yesterday = china_today() - timedelta(days=1)
    tasks = _sign_tasks(session, draw)
    row = session.get(DrawSigning, draw.id)
    assert row is not None
    row.due_on = yesterday  # as if the draw had been made a week ago
    for task in tasks.values():
        task.due_at = datetime.combine(yesterday, datetime.min.time(), CHINA_TZ)
    session.commit()
    page = as_user("head.a").get(f"/inspections/plans/{plan.id}").get_data(as_text=True)
    assert "overdue-signing" in page and "逾期未签名" in page
    oversight = as_user("head.a").get("/oversight?overdue=1").get_data(as_text=True)
    assert "签署抽取记录" in oversight

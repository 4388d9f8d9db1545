"""Double-random inspections for the web tests, built through the domain services (never rows by
hand): both bundles, an item, a roster of the test directory's 渭滨 staff, public-place entities,
a plan the head approves through its process (which draws and starts the inspections), the drawn
pair's declarations, the on-site record and its confirmation, the head's review; and an on-the-spot penalty decision.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import deploy_directory, due_jobs, run_job
from engine.actor import SYSTEM
from engine.clock import china_today
from engine.models import HumanTask
from processes.directory.codes import make_credit_code
from processes.directory.services import create_entity
from processes.inspections import directories, plans, service
from processes.inspections.models import Draw, Inspection, Plan
from processes.penalty.documents import pdf_rendering
from tests.web.conftest import COUNTY_A, actor

ROOT = Path(__file__).resolve().parents[2]
INSPECTORS = ("officer.a", "officer.a2", "head.a")
SHOP_NAMES = [f"渭滨区第{n}洗浴中心" for n in range(1, 7)]
SHOPS = [make_credit_code("610302", f"MA7Q{n:05d}", "92") for n in range(1, 7)]
NOTES = "前台登记簿放在吧台下面，负责人说下周再补健康证"  # an internal finding: never public


def setup_inspections(session: Session) -> None:
    """Both bundles (penalty for the leads), the item, the roster and six bathhouses of 渭滨."""
    deploy_directory(session, ROOT / "processes" / "penalty", SYSTEM)
    deploy_directory(session, ROOT / "processes" / "inspections", SYSTEM)
    planner = actor(session, "head.a")
    directories.add_item(session, planner, code="GG-001", category="public_place", name="公共场所卫生监督抽查",
                         legal_basis="《公共场所卫生管理条例》第三条",
                         checklist=["卫生许可证", "从业人员健康合格证明", "顾客用品用具清洗消毒"])
    for user_id in INSPECTORS:
        directories.save_inspector(session, planner, user_id, certificate_no=f"ZF-{user_id}",
                                   valid_from=date(2024, 1, 1), valid_until=date(2030, 12, 31),
                                   specialties=["public_place"])
    for name, code in zip(SHOP_NAMES, SHOPS, strict=True):
        create_entity(session, code, name, "public_place", COUNTY_A, address="经二路1号")
    session.flush()
    for n, code in enumerate(SHOPS):
        directories.set_profile(session, planner, code, credit_grade="ABCD"[n % 4])
    session.commit()


def drain(session: Session) -> None:
    with pdf_rendering(False):
        for _ in range(100):
            jobs = due_jobs(session)
            if not jobs:
                return
            for job_id in jobs:
                run_job(session, job_id)
                session.commit()
    raise AssertionError("jobs keep coming")


def ready(session: Session, instance_id: str, form_key: str) -> list[HumanTask]:
    session.expire_all()
    return list(session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                        HumanTask.status == "ready", HumanTask.form_key == form_key)
                                .order_by(HumanTask.assignee, HumanTask.id)))


def submit(session: Session, instance_id: str, form_key: str, login: str, data: dict[str, Any]) -> None:
    tasks = ready(session, instance_id, form_key)
    assert tasks, f"no ready {form_key}"
    task = tasks[0]
    service.submit_task(session, task.id, actor(session, task.assignee or login), data)
    session.commit()
    drain(session)


def draft_plan(session: Session, count: int = 2, **kwargs: Any) -> Plan:
    today = china_today()
    plan = plans.create_plan(session, actor(session, "officer.a"), title="2026年渭滨区公共场所双随机抽查",
                             kind=kwargs.pop("kind", "annual"), unit_id=COUNTY_A, window_start=today,
                             window_end=today + timedelta(days=60), categories={"public_place": {"count": count}},
                             **kwargs)
    session.commit()
    return plan


def approved_plan(session: Session, count: int = 2) -> tuple[Plan, Draw]:
    """A plan submitted by officer.a and approved by head.a: published, drawn, inspections started."""
    plan = draft_plan(session, count)
    plans.submit_plan(session, actor(session, "officer.a"), plan.id)
    session.commit()
    assert plan.instance_id
    submit(session, plan.instance_id, "inspections.approve_plan", "head.a", {"approved": True, "opinion": "同意"})
    draw = session.scalar(select(Draw).where(Draw.plan_id == plan.id))
    assert draw is not None and draw.status == "drawn"
    return plan, draw


def inspections_of(session: Session, draw: Draw) -> list[Inspection]:
    session.expire_all()
    return list(session.scalars(select(Inspection).where(Inspection.draw_id == draw.id)
                                .order_by(Inspection.credit_code)))


def finish(session: Session, row: Inspection, outcome: str = "compliant") -> None:
    """Both inspectors declare, the lead records the inspection, the other inspector confirms the
    record, the head approves it."""
    assert row.instance_id
    for _user in list(row.inspectors):
        submit(session, row.instance_id, "inspections.declare", "", {"conflict": False})
    extra = {"correction_due": (china_today() + timedelta(days=15)).isoformat(),
             "nonconforming": "顾客用品用具清洗消毒"} if outcome == "correction" else {}
    submit(session, row.instance_id, "inspections.onsite", "", {
        "checked_on": china_today().isoformat(), "findings": NOTES, "outcome": outcome, "representative": "signed",
        **extra})
    submit(session, row.instance_id, "inspections.confirm_onsite", "", {"confirmed": True})  # the other inspector
    submit(session, row.instance_id, "inspections.review", "head.a", {"approved": True, "opinion": "内部意见：同意"})


def person_decision(session: Session, name: str = "王小明") -> str:
    """An on-the-spot warning to an individual: decided, numbered; returns the case number."""
    from processes.penalty.service import start_case, submit_task

    officer = actor(session, "officer.a")
    case = start_case(session, officer, unit_id=COUNTY_A, unit_name="渭滨区卫生监督所", unit_short_name="渭滨",
                      procedure="summary")
    session.commit()
    task = session.scalar(select(HumanTask).where(HumanTask.instance_id == case.instance_id,
                                                  HumanTask.status == "ready"))
    assert task is not None
    decided = (china_today() - timedelta(days=1)).isoformat()
    submit_task(session, task.id, officer, {
        "entity_name": name, "party_type": "person", "actual_address": "渭滨区清姜路99号3单元",
        "category": "public_places",
        "officers": [{"user_id": "officer.a", "name": "张伟", "certificate_no": "C-A-1"},
                     {"user_id": "officer.a2", "name": "李娜", "certificate_no": "C-A-2"}],
        "violation": "无健康合格证明从事直接为顾客服务工作", "violation_date": decided,
        "legal_basis": "《公共场所卫生管理条例》第十四条", "decided_on": decided, "statement_heard": True,
        "violation_place": "渭滨区清姜路99号", "violation_time": "10:30", "party_signed": True,
        "penalty_kinds": ["warning"]})
    session.commit()
    drain(session)
    session.refresh(case)
    assert case.case_number
    return case.case_number


def organisation_decision(session: Session, code: str, name: str) -> str:
    from processes.penalty.service import start_case, submit_task

    officer = actor(session, "officer.a")
    case = start_case(session, officer, unit_id=COUNTY_A, unit_name="渭滨区卫生监督所", unit_short_name="渭滨",
                      procedure="summary")
    session.commit()
    task = session.scalar(select(HumanTask).where(HumanTask.instance_id == case.instance_id,
                                                  HumanTask.status == "ready"))
    assert task is not None
    decided = (china_today() - timedelta(days=1)).isoformat()
    submit_task(session, task.id, officer, {
        "entity_id": code, "entity_name": name, "party_type": "organisation", "credit_code": code,
        "legal_representative": "孙建国", "category": "public_places",
        "officers": [{"user_id": "officer.a", "name": "张伟", "certificate_no": "C-A-1"},
                     {"user_id": "officer.a2", "name": "李娜", "certificate_no": "C-A-2"}],
        "violation": "未公示卫生检测结果", "violation_date": decided, "legal_basis": "《公共场所卫生管理条例实施细则》",
        "decided_on": decided, "statement_heard": True, "penalty_kinds": ["warning"],
        "violation_place": "经营场所", "violation_time": "10:30", "party_signed": True})
    session.commit()
    drain(session)
    session.refresh(case)
    assert case.case_number
    return case.case_number

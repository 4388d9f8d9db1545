"""Demo data for ``weijian demo load``: an item, a roster, twelve bathhouses and hotels of 渭滨区,
a plan approved by the head through its process, its finished draw (re-verifiable with
``weijian draw verify``; its record signed by the planner, the head's signing task waiting),
two inspections carried to a result (合格; 责令改正 with its opinion), each record confirmed by
the other inspector, a third record waiting for that confirmation (检查人员确认现场检查记录 in the
co-inspector's inbox), and a quarterly schedule.

Driven through the same services the pages use; service tasks run as the eager relay would.
Idempotent: keyed by the plan code ``DEMO-2026-GG``. The caller commits.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import Actor, due_jobs, run_job
from engine.clock import china_today
from engine.models import HumanTask
from processes.directory.codes import make_credit_code
from processes.directory.models import Entity, User
from processes.directory.services import actor_for, create_entity

from . import directories, draw_signing, plans, scheduling, service
from .models import Draw, Inspection, Plan

CODE = "DEMO-2026-GG"
UNIT = "610302"
INSPECTORS = ("zhang.wei", "li.na", "zhao.lei")
HEAD = "zhao.lei"


def _drain(session: Session) -> None:
    for _ in range(50):
        jobs = due_jobs(session)
        if not jobs:
            return
        for job_id in jobs:
            run_job(session, job_id)


def _actor(session: Session, user_id: str) -> Actor:
    user = session.get(User, user_id)
    assert user is not None
    return actor_for(session, user)


def _task(session: Session, instance_id: str, form_key: str) -> HumanTask | None:
    return session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.status == "ready",
                                                  HumanTask.form_key == form_key).order_by(HumanTask.id).limit(1))


def _submit(session: Session, instance_id: str, form_key: str, user_id: str, data: dict[str, object]) -> None:
    task = _task(session, instance_id, form_key)
    assert task is not None, form_key
    service.submit_task(session, task.id, _actor(session, task.assignee or user_id), data)
    session.flush()
    _drain(session)


def _sign_as_planner(session: Session, planner: Actor, draw: Draw) -> list[str]:
    """The planner signs the draw record on their task; the head's 签署抽取记录 stays in their inbox,
    so a new user sees both a signature and a waiting task (needs the penalty demo's certificates)."""
    import signing
    from processes.penalty.demo import DEMO_SIGNING_PASSPHRASE

    if not signing.current_certificates(session, planner.user_id):
        return []
    draw_signing.sign(session, planner, draw.id, DEMO_SIGNING_PASSPHRASE)
    session.flush()
    return [f"draw record signed by {planner.user_id}; {HEAD} has the task 签署抽取记录"]


def load(session: Session) -> list[str]:
    if session.scalar(select(Plan.id).where(Plan.code == CODE)) is not None:
        return []
    if session.get(User, HEAD) is None:
        return []
    today = china_today()
    planner, head = _actor(session, "zhang.wei"), _actor(session, HEAD)
    made: list[str] = []
    directories.add_item(session, planner, code="GG-001", category="public_place", name="公共场所卫生监督抽查",
                         legal_basis="《公共场所卫生管理条例》第三条、第六条",
                         checklist=["卫生许可证", "从业人员健康合格证明", "顾客用品用具清洗消毒", "空气质量检测报告"])
    for user_id in INSPECTORS:
        directories.save_inspector(session, planner, user_id, certificate_no=f"ZF-{user_id}",
                                   valid_from=date(2024, 1, 1), valid_until=date(2028, 12, 31),
                                   specialties=["public_place", "medical"])
    for n in range(1, 13):
        credit = make_credit_code(UNIT, f"MA7{n:06d}")
        if session.get(Entity, credit) is None:
            create_entity(session, credit, f"渭滨区第{n}洗浴宾馆", "public_place", UNIT, address=f"渭滨区经{n}路{n}号")
        directories.set_profile(session, planner, credit, credit_grade="ABCD"[n % 4], complaint_count=n % 5)
    session.flush()
    directories.open_risk(session, planner, make_credit_code(UNIT, "MA7000003"), source="complaint", level="high",
                          reason="近三个月投诉举报5次", on=today)
    plan = plans.create_plan(session, planner, title="2026年渭滨区公共场所双随机抽查", kind="annual", unit_id=UNIT,
                             window_start=today, window_end=today + timedelta(days=90),
                             categories={"public_place": {"count": 3}}, code=CODE)
    plans.submit_plan(session, planner, plan.id)
    assert plan.instance_id
    _submit(session, plan.instance_id, "inspections.approve_plan", HEAD, {"approved": True, "opinion": "同意"})
    draw = session.scalar(select(Draw).where(Draw.plan_id == plan.id))
    assert draw is not None
    made += [f"plan {plan.code} (published)", f"draw {draw.id} (weijian draw verify {draw.id})"]
    made += _sign_as_planner(session, planner, draw)
    rows = list(session.scalars(select(Inspection).where(Inspection.draw_id == draw.id)
                                .order_by(Inspection.credit_code)))
    # two results (compliant, correction); the third record waits for the other inspector's confirmation
    for n, (row, outcome) in enumerate(zip(rows, ("compliant", "correction", "compliant"), strict=False)):
        if not row.instance_id:
            continue
        for user_id in list(row.inspectors):
            _submit(session, row.instance_id, "inspections.declare", user_id, {"conflict": False})
        extra = {"correction_due": (today + timedelta(days=15)).isoformat(),
                 "nonconforming": "顾客用品用具清洗消毒"} if outcome == "correction" else {}
        _submit(session, row.instance_id, "inspections.onsite", row.inspectors[0], {
            "checked_on": today.isoformat(), "findings": "按检查内容逐项检查",
            "outcome": outcome, "representative": "signed", **extra})
        if n == 2:  # the co-inspector's 检查人员确认现场检查记录 waits in their inbox
            made.append(f"inspection {row.entity_name}: waiting for the co-inspector's confirmation")
            continue
        _submit(session, row.instance_id, "inspections.confirm_onsite", row.inspectors[1], {"confirmed": True})
        review = _task(session, row.instance_id, "inspections.review")
        assert review is not None
        service.submit_task(session, review.id, head, {"approved": True})
        _drain(session)
        if outcome == "compliant":  # the head discloses the recorded result (公示检查结果)
            _submit(session, row.instance_id, "inspections.disclose", HEAD, {"content_checked": True})
            _drain(session)
        made.append(f"inspection {row.entity_name}: {outcome}")
    template = plans.create_plan(session, planner, title="渭滨区公共场所季度双随机抽查", kind="quarterly", unit_id=UNIT,
                                 window_start=today, window_end=today + timedelta(days=60),
                                 categories={"public_place": {}}, code=f"{CODE}-Q")
    plans.publish_plan(session, template.id, HEAD)
    schedule = scheduling.create_schedule(session, planner, name="公共场所季度抽查", template_plan_id=template.id,
                                          recurrence_spec="quarterly first-workday 08:00")
    made.append(f"schedule {schedule.id} (quarterly first-workday 08:00)")
    from .decision_disclosure import disclose_pending  # the penalty demo's decision reaches the public site

    made += disclose_pending(session, head)
    return made

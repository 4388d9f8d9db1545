"""The witness step of a re-draw: the plan's witness enters the public value of the new draw.

Why a process of its own (``inspection_draw_witness``): a witnessed plan's first draw waits at the
task 见证人录入公开随机数 of ``inspection_plan``, but a re-draw happens long after that instance
ended (a head orders it from the plan page), so without this step the new draw stayed
``committed`` for ever: no task, no form, nobody asked. The step is the same as the first draw's:
the same form (``inspections.witness_seed``), assigned to the plan's witness and not
reassignable, then the same operator (``inspections.perform_draw``), which reveals the value,
draws, and calls ``service.start_inspections`` (the inspections and the draw record's signing
tasks). The instance's data names its draw; the task page's panel and a later re-draw find it
by the business key and that data.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import SYSTEM, Actor, cancel, instance_data, start
from engine.models import HumanTask, ProcessInstance

from .models import Draw, Plan

WITNESS_PROCESS = "inspection_draw_witness"


def _business_key(plan: Plan, draw: Draw) -> str:
    suffix = f"-{draw.period}" if draw.period and not plan.code.endswith(draw.period) else ""
    return f"见证抽取-{plan.code}{suffix}-{draw.seq}"


def start_witness(session: Session, draw: Draw, *, now: datetime | None = None) -> ProcessInstance:
    """Ask the plan's witness for the public value of a committed witnessed draw."""
    plan = session.get(Plan, draw.plan_id)
    assert plan is not None
    assert draw.status == "committed"
    assert draw.seed_source == "witnessed"
    data = {"draw_id": draw.id, "plan_code": plan.code, "witness_id": draw.witness_id or plan.witness_id or ""}
    return start(session, WITNESS_PROCESS, SYSTEM, data, business_key=_business_key(plan, draw),
                 unit_id=plan.unit_id, now=now)


def draw_of_instance(session: Session, instance: ProcessInstance) -> Draw | None:
    """The draw a witness instance is about (the task page's panel)."""
    if instance.process_key != WITNESS_PROCESS:
        return None
    draw_id = instance_data(session, instance.id, SYSTEM).get("draw_id")
    return session.get(Draw, str(draw_id)) if draw_id else None


def cancel_witness(session: Session, actor: Actor, draw: Draw, reason: str, *, now: datetime | None = None) -> int:
    """A re-draw replaced a draw still waiting for its witness: the witness's task goes.
    Returns how many witness processes were cancelled (0: the draw was the plan's first, whose
    witness task belongs to the plan's own process; see ``plan_witness_task_open``)."""
    plan = session.get(Plan, draw.plan_id)
    assert plan is not None
    cancelled = 0
    for instance in session.scalars(select(ProcessInstance).where(
            ProcessInstance.process_key == WITNESS_PROCESS, ProcessInstance.status == "running",
            ProcessInstance.business_key == _business_key(plan, draw))):
        if instance_data(session, instance.id, SYSTEM).get("draw_id") == draw.id:
            cancel(session, instance.id, actor, reason, now=now)
            cancelled += 1
    return cancelled


def plan_witness_task_open(session: Session, plan: Plan) -> bool:
    """The plan's own process still waits on its witness task (the first draw's): a re-draw
    ordered meanwhile is then drawn by that same task, which draws the plan's newest draw, so
    the witness is not asked twice and no task is left that would do nothing."""
    if not plan.instance_id:
        return False
    return session.scalar(select(HumanTask.id).where(HumanTask.instance_id == plan.instance_id,
                                                     HumanTask.task_name == "witness_seed",
                                                     HumanTask.status == "ready").limit(1)) is not None

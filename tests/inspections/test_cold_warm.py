"""Cold against warm for the inspection processes (plan approval with a witnessed draw, the draw
record's signing step (a wrong passphrase refused, then both signers), and the
inspection of a drawn entity through a declared conflict, a correction order, the timer, a failed
re-inspection and the penalty lead it opens).

The same scenario runs on two fresh copies of the template: once with this process's caches warm,
once with every cache cleared before each session (``tests/coldwarm.py``). The seed is a witnessed
public value, so both runs draw the same entities and inspectors.
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

import signing
from engine.dbconnect import make_engine
from processes.inspections.models import Draw, DrawSigning, Inspection
from processes.inspections.plans import submit_plan
from tests.coldwarm import Tracer, run_both
from tests.inspections.driver import HEAD, NAMES, PLANNER, WITNESS, InspectionWorld


def secret(user_id: str) -> str:
    return f"{user_id}-cold-warm-signing"


def _scenario(world: InspectionWorld) -> None:
    with world.factory() as session:
        issued = world.now - timedelta(days=30)
        signing.init_ca(session, ca_passphrase="cold-warm-ca", now=issued)
        for user in (PLANNER, WITNESS):
            signing.issue_certificate(session, user.user_id, NAMES[user.user_id], secret(user.user_id),
                                      ca_passphrase="cold-warm-ca", now=issued)
        session.commit()
    world.add_entities(30)
    world.add_inspectors(["officer2", "officer3", "officer4", "officer5", "officer6"])
    plan_id = world.plan(publish=False, seed_source="witnessed", witness_id=WITNESS.user_id, code="A20250901-CW")
    with world.factory() as session:
        instance_id = submit_plan(session, PLANNER, plan_id, now=world.now).instance_id
        session.commit()
    assert instance_id
    world.submit(instance_id, "approve_plan", {"approved": False, "opinion": "请补充检查事项"}, actor=HEAD)
    world.submit(instance_id, "revise_plan", {"changes": "已补充"})
    world.submit(instance_id, "approve_plan", {"approved": True}, actor=HEAD)
    world.submit(instance_id, "witness_seed", {"public_value": "03 11 17 22 29 33 + 08", "source": "双色球2025100期"},
                 actor=WITNESS)
    with world.factory() as session:
        draw_id = session.scalars(select(Draw.id).where(Draw.plan_id == plan_id)).one()
        signing_instance = session.get(DrawSigning, draw_id).instance_id  # type: ignore[union-attr]
    assert not world.try_submit(signing_instance, "sign_draw", {"passphrase": "wrong"}, actor=PLANNER,
                                assignee=PLANNER.user_id)
    for signer in (PLANNER, WITNESS):  # the draw record's signing step, one task each
        world.submit(signing_instance, "sign_draw", {"passphrase": secret(signer.user_id)}, actor=signer,
                     assignee=signer.user_id)
    with world.factory() as session:
        first = session.scalars(select(Inspection).where(Inspection.draw_id == draw_id)
                                .order_by(Inspection.credit_code)).first()
        assert first is not None and first.instance_id
        task_instance, declarer = first.instance_id, first.inspectors[1]
    world.declare_all(task_instance, {declarer: "配偶在该单位任职"})
    world.declare_all(task_instance)
    world.onsite(task_instance, "correction", correction_due="2025-09-20")
    world.submit(task_instance, "review", {"approved": False, "opinion": "请补充证据"}, actor=HEAD)
    world.onsite(task_instance, "correction", correction_due="2025-09-20")
    world.submit(task_instance, "review", {"approved": True}, actor=HEAD)
    world.set_day("2025-09-22", 9)
    world.fire()
    world.submit(task_instance, "reinspect", {"reinspected_on": "2025-09-22", "corrected": False,
                                              "findings": "未整改"})
    world.submit(task_instance, "disclose", {"content_checked": True}, actor=HEAD)


def test_inspections_run_cold_as_warm(inspections_template: Path, tmp_path: Path) -> None:
    engines: list[Engine] = []

    def make_factory() -> sessionmaker[Session]:
        copy = tmp_path / f"inspections-{len(engines)}.db"
        shutil.copyfile(inspections_template, copy)
        engines.append(make_engine(f"sqlite:///{copy}"))
        return sessionmaker(engines[-1], expire_on_commit=False)

    def run(tracer: Tracer) -> None:
        _scenario(InspectionWorld(tracer))  # type: ignore[arg-type]  # a factory that traces

    try:
        trace = run_both(run, make_factory)
    finally:
        for engine in engines:
            engine.dispose()
    final = {i["process"]: i["status"] for i in trace[-1]}
    assert final["inspection_plan"] == "completed"
    processes = [(i["process"], i["status"]) for i in trace[-1]]
    assert ("inspection_task", "completed") in processes and any(p == "penalty_ordinary" for p, _s in processes)
    assert ("inspection_draw_signing", "completed") in processes

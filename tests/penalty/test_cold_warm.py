"""Cold against warm for penalty's processes (ordinary with its deliberation subprocess, summary).

The same case runs on two fresh copies of the penalty template: once with this process's caches
warm, once with every cache cleared before each session, as if every step ran in another web or
worker process. After every command the stored cases must match (``tests/coldwarm.py``). The
deliberation's opinions and signatures are parallel multi-instance tasks: the ones that once
never finished when completed in another process.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

import signing
from engine.dbconnect import make_engine
from processes.penalty import request_extension
from tests.coldwarm import Tracer, run_both
from tests.penalty.driver import CREDIT_CODE, OFFICER1, PenaltyWorld, officer

Template = tuple[Path, dict[str, signing.ServerKeySigner]]


def _ordinary(world: PenaltyWorld) -> None:
    """Also an approved extension (the watch's message path) and a decision document whose fine
    differs from the approved one (back to the head, then decided as re-approved)."""
    world.set_day("2025-09-01")
    case_id = world.start()
    world.run_until(case_id, "investigate")
    with world.factory() as session:
        request_extension(session, OFFICER1, case_id, "需要委托鉴定", now=world.now)
        session.commit()
    world.drain()
    world.submit(case_id, "approve_extension")
    world.run_until(case_id, "sign_record")
    world.sign_all(case_id)
    world.run_until(case_id, "draft_decision")
    world.submit(case_id, "draft_decision", {"fine": 3000.0})
    world.run_until(case_id, "draft_decision")
    world.submit(case_id, "draft_decision", {"fine": 3000.0})
    world.run_until(case_id, "approve_closing")
    world.submit(case_id, "approve_closing")


def _summary(world: PenaltyWorld) -> None:
    world.set_day("2025-09-01")
    case_id = world.start("summary")
    world.submit(case_id, "summary_decision", {
        "entity_name": "宝山区悦来浴室", "party_type": "organisation", "credit_code": CREDIT_CODE,
        "category": "public_places", "officers": [officer("officer1"), officer("officer2")],
        "violation": "未按规定对顾客用品用具进行清洗消毒", "violation_date": world.today.isoformat(),
        "legal_basis": "《公共场所卫生管理条例实施细则》第三十六条", "decided_on": world.today.isoformat(),
        "statement_heard": True, "penalty_kinds": ["fine"], "fine": 1000.0,
        "violation_place": "宝山区友谊路1号", "violation_time": "10:30", "party_signed": True})
    world.submit(case_id, "file_summary", {"approved": True, "opinion": "已备案"})
    world.submit(case_id, "summary_payment", {"paid_on": world.today.isoformat(), "amount": 1000.0})


@pytest.mark.parametrize("drive", [_ordinary, _summary], ids=["ordinary", "summary"])
def test_a_penalty_case_runs_cold_as_warm(drive: Callable[[PenaltyWorld], None], penalty_template: Template,
                                          tmp_path: Path) -> None:
    path, signers = penalty_template
    engines: list[Engine] = []

    def make_factory() -> sessionmaker[Session]:
        copy = tmp_path / f"penalty-{len(engines)}.db"
        shutil.copyfile(path, copy)
        engines.append(make_engine(f"sqlite:///{copy}"))
        return sessionmaker(engines[-1], expire_on_commit=False)

    def run(tracer: Tracer) -> None:
        drive(PenaltyWorld(tracer, signers))  # type: ignore[arg-type]  # a factory that traces

    try:
        trace = run_both(run, make_factory)
    finally:
        for engine in engines:
            engine.dispose()
    statuses = [i["status"] for i in trace[-1]]
    assert statuses and all(s == "completed" for s in statuses), statuses

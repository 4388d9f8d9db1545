"""Cold against warm for the complaint processes: a report forwarded to a district (message start
of ``complaint_received``), accepted there, verified with a penalty lead, co-handled (parallel
multi-instance), reviewed, replied to and archived after the 复查 window closed; and a complaint
that was mediated. Every command runs once with warm caches and once with every cache cleared
before each session; the stored cases must match after every command (``tests/coldwarm.py``).
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from engine.dbconnect import make_engine
from processes.complaints import intake
from tests.coldwarm import Tracer, run_both
from tests.complaints.driver import DISTRICT, ComplaintWorld, at


def _forwarded_report(world: ComplaintWorld) -> None:
    world.file_public(identity={"name": "王五", "address": "渭滨区经二路1号"}, reply_channel="post")
    world.submit("c1", "classify", {"kind": "report"})
    world.submit("c1", "route", {"competence": "subordinate", "target_unit_id": DISTRICT})
    world.submit("c1", "receive", {"accepted": True})
    world.submit("c1", "accept", {"accepted": True, "handlers": ["zhang.wei"], "cohandlers": "市场监管局 5\n公安分局"})
    world.submit("c1", "verify", {"officers": ["zhang.wei", "li.na"], "violation_found": True, "findings": "无证行医"})
    world.submit("c1", "cohandle")
    world.submit("c1", "cohandle")
    world.submit("c1", "final_report")
    world.submit("c1", "review")
    world.fire(at("2025-10-20"))


def _mediated_complaint(world: ComplaintWorld) -> None:
    world.file_by_clerk()
    world.run_to("c1", "await_review_request", {"classify": {"kind": "complaint"}})
    world.fire(at("2025-10-20"))


@pytest.mark.parametrize("drive", [_forwarded_report, _mediated_complaint], ids=["forwarded_report", "mediated"])
def test_a_complaint_runs_cold_as_warm(drive: Callable[[ComplaintWorld], None], complaint_template: Path,
                                       tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engines = []

    def make_factory() -> sessionmaker[Session]:
        copy = tmp_path / f"complaints-{len(engines)}.db"
        shutil.copyfile(complaint_template, copy)
        engines.append(make_engine(f"sqlite:///{copy}"))
        return sessionmaker(engines[-1], expire_on_commit=False)

    def run(tracer: Tracer) -> None:
        serials = itertools.count(1)
        monkeypatch.setattr(intake, "NUMBER_SOURCE", lambda: next(serials))
        drive(ComplaintWorld(tracer))  # type: ignore[arg-type]  # a factory that traces

    try:
        trace = run_both(run, make_factory)
    finally:
        for engine in engines:
            engine.dispose()
    statuses = {(i["process"], i["status"]) for i in trace[-1]}
    assert statuses and all(s == "completed" for p, s in statuses if p.startswith("complaint")), statuses
    assert all(s == "running" for p, s in statuses if p.startswith("penalty")), statuses  # the lead waits

"""Penalty-process benchmark: a full ordinary case through the engine API with persistence.

``measure_penalty()`` runs cases from lead to archive on a temporary SQLite file: every task
through ``processes.penalty.submit_task`` in its own session and commit (as a web request),
every service task as an outbox job run like the eager Celery relay. Excluded, like PDFs:
WeasyPrint (documents are stored as HTML) and unlocking the members' keys (PBKDF2, ~0.2 s per
member by design; the signers are unlocked once). ``case_ms`` is the median wall time of a whole
case (commands and jobs), ``complete_p95_ms`` the 95th percentile of one task completion.
The drive and its default form data are the test suite's (``tests.penalty.driver``).
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy.orm import sessionmaker

from engine.dbconnect import make_engine
from migrations.runner import upgrade
from processes.penalty import submit_task
from tests.penalty.driver import PenaltyWorld, prepare_template

CASES = 5
BENCH_SEAL_PASSPHRASE = "bench-unit-seal-passphrase"  # noqa: S105 - a throw-away database
"""The units' seal passphrase of the throw-away bench database (a deployment sets its own in
``WEIJIAN_SEAL_PASSPHRASE``; the test suite's conftest sets one the same way)."""


class TimedWorld(PenaltyWorld):
    """The test driver, timing each task completion (form checks, engine command, commit)."""

    completions: list[float]

    def submit(self, case_id: str, name: str, fields: Any = None, *, actor: Any = None,
               assignee: str | None = None) -> None:
        task = self.task(case_id, name, assignee)
        data = {**self.default(name, task), **(fields or {})}
        started = time.perf_counter()
        with self.factory() as session:
            submit_task(session, task.id, actor or self.actor_for(task), data, now=self.now)
            session.commit()
        self.completions.append(time.perf_counter() - started)
        self.drain()


def _run_case(world: TimedWorld) -> float:
    started = time.perf_counter()
    case_id = world.start()
    world.run_until(case_id, "approve_closing")
    world.submit(case_id, "approve_closing")
    elapsed = time.perf_counter() - started
    assert world.case(case_id).status == "closed"
    return elapsed


def measure_penalty(cases: int = CASES) -> dict[str, Any]:
    os.environ.setdefault("WEIJIAN_SEAL_PASSPHRASE", BENCH_SEAL_PASSPHRASE)  # the driver seals documents
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "penalty-bench.db"
        upgrade(f"sqlite:///{path}")
        signers = prepare_template(path)
        engine = make_engine(f"sqlite:///{path}")
        try:
            world = TimedWorld(sessionmaker(engine, expire_on_commit=False), signers)
            world.completions = []
            world.set_day("2025-09-01")
            _run_case(world)  # warm caches (spec parse, templates, statement cache)
            world.completions = []
            totals = [_run_case(world) for _ in range(cases)]
            ordered = sorted(world.completions)
            p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
            return {"case_ms": round(statistics.median(totals) * 1000, 1),
                    "complete_p95_ms": round(p95 * 1000, 2),
                    "complete_median_ms": round(statistics.median(ordered) * 1000, 2),
                    "completions_per_case": len(ordered) // cases, "cases": cases}
        finally:
            engine.dispose()


if __name__ == "__main__":
    print(json.dumps(measure_penalty(), ensure_ascii=False, indent=2))

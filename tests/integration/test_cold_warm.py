"""Cold against warm, step by step, for every BPMN in ``tests/fixtures`` (penalty's processes:
``tests/penalty/test_cold_warm.py``).

Each scenario runs twice on fresh databases: once with this process's caches warm, once with
every cache cleared before each session (as if every step ran in a new process). After every
command the stored cases must be the same: status, ready tasks, timers, subscriptions, jobs and
the whole workflow state. A bundle without a scenario fails ``test_every_bundle_has_a_scenario``,
so a new BPMN cannot skip the comparison. ``test_multi_instance_completed_by_a_fresh_interpreter``
runs the part that once broke (multi-instance tasks completed in another process) in a real
second interpreter.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import tests.operators  # noqa: F401 - registers test.echo for the service fixture
from engine import Actor, complete_task, deliver_message, due_jobs, fire_due_timers, run_job, start
from engine.dbconnect import make_engine
from engine.models import HumanTask, ProcessInstance, TimerRow
from tests.coldwarm import Tracer, run_both
from tests.engine_helpers import FIXTURES, deploy_fixture

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2025, 9, 29, 2, 0, tzinfo=UTC)  # Monday 10:00 in China
Data = Mapping[str, Any] | Callable[[HumanTask], Mapping[str, Any]]


@dataclass
class Scenario:
    bundle: str
    process: str | None  # None: the process starts by its timer
    start_data: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Data] = field(default_factory=dict)
    # called when nothing is ready, no job and no timer is due yet; returns False when done
    outside: list[Callable[[Session, datetime], None]] = field(default_factory=list)
    timers_first: bool = False  # fire timers before completing tasks (boundary timers)


def _actor(task: HumanTask) -> Actor:
    role = task.candidate_role or "officer"
    return Actor.of(task.assignee or f"{role}.1", [role, "officer", "head", "complaint_clerk"], [task.unit_id or "U1"])


def _ready(session: Session) -> list[HumanTask]:
    rows = session.scalars(select(HumanTask).where(HumanTask.status == "ready"))
    return sorted(rows, key=lambda t: (t.task_name, t.assignee or "", t.created_at, _tree_order(session, t)))


def _tree_order(session: Session, task: HumanTask) -> int:
    """The task's place among its siblings in the stored tree (ids are random, places are not)."""
    from tests.coldwarm import _Ids, canonical_state

    row = session.get(ProcessInstance, task.instance_id)
    assert row is not None
    ids = _Ids()
    canonical_state(row.state, ids)
    return ids.order(task.id)


def walk(tracer: Tracer, scenario: Scenario, max_steps: int = 60) -> None:
    """Jobs first, then the first ready task (timers first when the scenario says), then the
    scenario's outside events (they come before any timer), then timers in due order, until nothing is left to do."""
    now = T0
    outside = list(scenario.outside)
    with tracer.session() as session:
        deploy_fixture(session, scenario.bundle)
        if scenario.process is not None:
            start(session, scenario.process, Actor.of("officer.1", ["officer", "complaint_clerk"], ["U1"]),
                  scenario.start_data, business_key=scenario.start_data.get("case_no"), unit_id="U1", now=now)
        session.commit()
    for _ in range(max_steps):
        with tracer.session() as session:
            jobs = due_jobs(session, now)
            ready = _ready(session)
            next_timer = session.scalar(select(TimerRow.due_at).order_by(TimerRow.due_at).limit(1))
        if jobs:
            with tracer.session() as session:
                run_job(session, jobs[0], now)
                session.commit()
        elif ready and not (scenario.timers_first and next_timer is not None):
            task = ready[0]
            spec = scenario.data.get(task.task_name, {})
            data = dict(spec(task) if callable(spec) else spec)
            now += timedelta(minutes=5)
            with tracer.session() as session:
                complete_task(session, task.id, _actor(task), data, now=now)
                session.commit()
        elif outside:
            event = outside.pop(0)
            now += timedelta(hours=1)
            with tracer.session() as session:
                event(session, now)
                session.commit()
        elif next_timer is not None or (scenario.process is None and now == T0):
            now = max(now, next_timer.replace(tzinfo=UTC) if next_timer else datetime(2030, 1, 1, tzinfo=UTC)) \
                + timedelta(seconds=1)
            with tracer.session() as session:
                report = fire_due_timers(session, now)
                session.commit()
            assert not report.failures, report.failures
            if not (report.fired or report.started):
                return
        else:
            return
    raise AssertionError(f"{scenario.bundle}: still moving after {max_steps} steps")


def _reply(session: Session, now: datetime) -> None:
    deliver_message(session, "reply", None, {"statement": "对事实有异议"}, now=now)


SCENARIOS = {
    "eventgateway-reply": Scenario("eventgateway", "await_reply", {"served_on": "2025-09-29"}, outside=[_reply]),
    "eventgateway-silence": Scenario("eventgateway", "await_reply", {"served_on": "2025-09-29"}),
    "lead-serious": Scenario("lead", "case_lead", {"source": "complaint"},
                             {"register": {"amount": 20000}, "approve": {"approved": True}}),
    "lead-minor": Scenario("lead", "case_lead", {"source": "complaint"}, {"register": {"amount": 100}}),
    "manual": Scenario("manual", "manual_check", {}, {"visit": {}}),
    "messages": Scenario("messages", "complaint_intake", {"case_no": "TS-2026-0001"},
                         {"route": {"target_unit": "U2", "note": "请核查"}, "handle": {"result": "已核实"},
                          "review": {"passed": True}}),
    "multi": Scenario("multi", "multi_case", {"members": ["officer.1", "officer.2", "officer.3"]},
                      {"declare": lambda t: {"declaration": f"{t.assignee} 无利害关系"},
                       "opinion": {"vote": "同意"}}),
    "periodic": Scenario("periodic", None, data={"review_draw": {"ok": True}}),
    "service": Scenario("service", "with_service", {"name": "李四"}, {"check": {"ok": True}}),
    "structures": Scenario("structures", "structured_case", {"case": "S-1"},
                           {"site": {"site_note": "现场检查"}, "interview": {"interview_note": "询问"},
                            "sub_check": {"checked": True}, "opinion": {"agree": True}, "report": {"report": "终结"}}),
    "timers-in-time": Scenario("timers", "timed", {"start_date": "2025-09-29", "deadline_days": 3,
                                                   "cooling_period": "PT2H"}),
    "timers-overdue": Scenario("timers", "timed", {"start_date": "2025-09-29", "deadline_days": 3,
                                                   "cooling_period": "PT2H"}, timers_first=True),
}


@pytest.fixture
def fresh_factory(_sqlite_template: Path, tmp_path: Path) -> Callable[[], sessionmaker[Session]]:
    import shutil

    made: list[Any] = []

    def make() -> sessionmaker[Session]:
        path = tmp_path / f"coldwarm-{len(made)}.db"
        shutil.copyfile(_sqlite_template, path)
        engine = make_engine(f"sqlite:///{path}")
        made.append(engine)
        return sessionmaker(engine, expire_on_commit=False)

    yield make
    for engine in made:
        engine.dispose()


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_cold_runs_like_warm(name: str, fresh_factory: Callable[[], sessionmaker[Session]]) -> None:
    scenario = SCENARIOS[name]
    trace = run_both(lambda tracer: walk(tracer, scenario), fresh_factory)
    final = trace[-1]
    assert final, "the scenario started nothing"
    assert all(i["status"] in ("completed", "running") for i in final), [(i["process"], i["status"]) for i in final]
    assert any(i["status"] == "completed" for i in final), f"{name} never finished: {final[0]['ready']}"


# Process packages are driven through their own services, in their own test modules.
PACKAGE_SCENARIOS = {"penalty": ROOT / "tests/penalty/test_cold_warm.py",
                     "inspections": ROOT / "tests/inspections/test_cold_warm.py",
                     "complaints": ROOT / "tests/complaints/test_cold_warm.py"}


def test_every_bundle_has_a_scenario() -> None:
    bundles = {p.parent.name for p in FIXTURES.glob("*/*.bpmn")}
    covered = {s.bundle for s in SCENARIOS.values()}
    assert bundles <= covered, f"BPMN bundles without a cold/warm scenario: {sorted(bundles - covered)}"
    packages = {p.parent.name for p in (ROOT / "processes").glob("*/*.bpmn")}
    missing = sorted(name for name in packages if not PACKAGE_SCENARIOS.get(name, Path("/nonexistent")).exists())
    assert not missing, f"process packages without a cold/warm test: {missing}"


SECOND_HALF = """
import sys
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker
from engine import Actor, complete_task
from engine.dbconnect import make_engine
from engine.models import HumanTask, ProcessInstance
factory = sessionmaker(make_engine(sys.argv[1]), expire_on_commit=False)
for _ in range(20):
    with factory() as session:
        task = session.scalars(select(HumanTask).where(HumanTask.status == "ready")
                               .order_by(HumanTask.task_name, HumanTask.assignee)).first()
        if task is None:
            break
        data = {"declare": {"declaration": "无"}, "opinion": {"vote": "同意"}}.get(task.task_name, {})
        actor = Actor.of(task.assignee or "head.1", ["officer", "head"], ["U1"])
        complete_task(session, task.id, actor, data)
        session.commit()
with factory() as session:
    print(session.scalars(select(ProcessInstance.status)).one())
"""


def test_multi_instance_completed_by_a_fresh_interpreter(session_factory: sessionmaker[Session], db_url: str) -> None:
    """The reported failure: a parallel step created in one process and finished in another."""
    with session_factory() as session:
        deploy_fixture(session, "multi")
        instance = start(session, "multi_case", Actor.of("officer.1", ["officer"], ["U1"]),
                         {"members": ["officer.1", "officer.2"]}, unit_id="U1")
        session.commit()
        first = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                        HumanTask.assignee == "officer.1")).one()
        complete_task(session, first.id, Actor.of("officer.1", ["officer"], ["U1"]), {"declaration": "无"})
        session.commit()
    done = subprocess.run([sys.executable, "-c", SECOND_HALF, db_url], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "completed"

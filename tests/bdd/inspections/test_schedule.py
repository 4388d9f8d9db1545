"""周期计划每期只抽取一次: steps for schedule.feature.

Two schedulers are two threads ticking at the same moment on the same database; a restart
mid-draw is a child process killed with SIGKILL while its period's transaction is open (it
stops at the moment the run row is written and waits there to be killed).
"""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pytest_bdd import given, parsers, scenarios, then, when
from sqlalchemy import func, select

from engine.scripting import load_calendar
from processes.directory.services import DirectoryError
from processes.inspections import plans, recurrence, scheduling
from processes.inspections.models import Draw, ScheduleRun
from tests.inspections.driver import HEAD, PLANNER, SH, InspectionWorld, at

scenarios("schedule.feature")
ROOT = Path(__file__).resolve().parents[3]


def moment(text: str) -> datetime:
    day, hm = text.split()
    hour, minute = hm.split(":")
    return at(day, int(hour), int(minute))


@given(parsers.parse('有一个"{spec}"的周期计划，宽限{hours:d}小时'))
def schedule(world: InspectionWorld, ctx: dict[str, Any], spec: str, hours: int) -> None:
    world.set_day("2025-09-01")
    with world.factory() as session:
        plan = plans.create_plan(session, PLANNER, title="公共场所季度双随机抽查", kind="quarterly", unit_id="U1",
                                 window_start=date(2025, 9, 1), window_end=date(2025, 12, 31),
                                 categories={"public_place": {}}, code="Q-TEMPLATE")
        plans.publish_plan(session, plan.id, HEAD.user_id, world.now)
        row = scheduling.create_schedule(session, PLANNER, name="季度抽查", template_plan_id=plan.id,
                                         recurrence_spec=spec, grace_hours=hours, now=world.now)
        session.commit()
        ctx["schedule"] = row.id
        ctx["spec"] = spec


@then(parsers.parse('"{day}"之后的下一次执行时间为"{when}"'))
def next_run(world: InspectionWorld, ctx: dict[str, Any], day: str, when: str) -> None:
    with world.factory() as session:
        period, due = recurrence.parse(ctx["spec"]).next_after(at(day, 23, 59), load_calendar(session))
    assert due.astimezone(SH).strftime("%Y-%m-%d %H:%M") == when and period == "2025Q4"


def tick(world: InspectionWorld, when: datetime) -> list[str]:
    return scheduling.run_due(world.factory, now=when)


@when(parsers.parse('调度进程在"{when}"运行'))
def one_tick(world: InspectionWorld, when: str) -> None:
    report = tick(world, moment(when))
    assert not any("failed" in line for line in report), report


@when(parsers.parse('两个调度进程同时在"{when}"运行'))
def two_schedulers(world: InspectionWorld, ctx: dict[str, Any], when: str) -> None:
    barrier, reports = threading.Barrier(2), []

    def run() -> None:
        barrier.wait()
        reports.append(tick(world, moment(when)))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    ctx["reports"] = reports


CHILD = """
import sys
from datetime import datetime
from sqlalchemy.orm import sessionmaker
from engine.dbconnect import make_engine
from processes.inspections import scheduling
factory = sessionmaker(make_engine(sys.argv[1]), expire_on_commit=False)
def begun(run):
    print("begun", run.period, flush=True)
    sys.stdin.readline()  # killed here, mid-draw, with the period's transaction open
with factory() as session:
    scheduling.run_schedule(session, int(sys.argv[2]), now=datetime.fromisoformat(sys.argv[3]), started=begun)
    session.commit()
"""


@when(parsers.parse('调度进程在"{when}"抽取中途被强制终止'))
def killed(world: InspectionWorld, ctx: dict[str, Any], when: str) -> None:
    url = str(world.factory.kw["bind"].url)
    child = subprocess.Popen([sys.executable, "-c", CHILD, url, str(ctx["schedule"]), moment(when).isoformat()],
                             cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdin is not None
    with child.stdout, child.stdin:
        line = child.stdout.readline()
        assert line.startswith("begun 2025Q4"), line
        child.kill()
        assert child.wait(30) == -9


def _runs(world: InspectionWorld, ctx: dict[str, Any], period: str) -> list[ScheduleRun]:
    with world.factory() as session:
        rows = list(session.scalars(select(ScheduleRun).where(ScheduleRun.schedule_id == ctx["schedule"],
                                                              ScheduleRun.period == period)))
        for row in rows:
            session.expunge(row)
        return rows


def _draws(world: InspectionWorld, period: str) -> int:
    with world.factory() as session:
        return int(session.scalar(select(func.count()).select_from(Draw).where(Draw.period == period)) or 0)


@then(parsers.parse('"{period}"期只有1条执行记录和1次抽取'))
def exactly_once(world: InspectionWorld, ctx: dict[str, Any], period: str) -> None:
    runs = _runs(world, ctx, period)
    assert len(runs) == 1 and runs[0].status == "done" and runs[0].draw_id, runs
    assert _draws(world, period) == 1


@then(parsers.parse('"{period}"期没有执行记录'))
def no_run(world: InspectionWorld, ctx: dict[str, Any], period: str) -> None:
    assert not _runs(world, ctx, period)
    assert _draws(world, period) == 0


@then(parsers.parse('"{period}"期的执行方式为"{trigger}"'))
def trigger_is(world: InspectionWorld, ctx: dict[str, Any], period: str, trigger: str) -> None:
    runs = _runs(world, ctx, period)
    assert [r.trigger for r in runs] == [trigger]


@then(parsers.parse('"{period}"期的执行状态为"{status}"'))
def status_is(world: InspectionWorld, ctx: dict[str, Any], period: str, status: str) -> None:
    assert [r.status for r in _runs(world, ctx, period)] == [status]


@then(parsers.parse('"{period}"期没有抽取'))
def no_draw(world: InspectionWorld, period: str) -> None:
    assert _draws(world, period) == 0


def _pause(world: InspectionWorld, ctx: dict[str, Any], paused: bool) -> None:
    with world.factory() as session:
        scheduling.set_paused(session, HEAD, ctx["schedule"], paused)
        session.commit()


@when("暂停周期计划")
def pause(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    _pause(world, ctx, True)


@when("恢复周期计划")
def resume(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    _pause(world, ctx, False)


@when(parsers.parse('在"{when}"立即执行'))
def run_now(world: InspectionWorld, ctx: dict[str, Any], when: str) -> None:
    with world.factory() as session:
        try:
            scheduling.run_now(session, HEAD, ctx["schedule"], now=moment(when))
            session.commit()
        except DirectoryError as exc:
            session.rollback()
            world.errors.append(exc)


@given("周期计划的模板计划尚待负责人批准")
def template_awaiting_approval(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    """A second quarterly template, scheduled and submitted through its approval process (not yet approved)."""
    with world.factory() as session:
        plan = plans.create_plan(session, PLANNER, title="医疗机构季度双随机抽查", kind="quarterly", unit_id="U1",
                                 window_start=date(2025, 9, 1), window_end=date(2025, 12, 31),
                                 categories={"public_place": {}}, code="Q-AWAITING")
        row = scheduling.create_schedule(session, PLANNER, name="待批准的季度抽查", template_plan_id=plan.id,
                                         recurrence_spec=ctx["spec"], now=world.now)
        submitted = plans.submit_plan(session, PLANNER, plan.id, now=world.now)
        session.commit()
        ctx["schedule"], ctx["approval"] = row.id, submitted.instance_id


@then(parsers.parse('"{period}"期的执行状态为"{status}"，尚无抽取'))
def requested_not_drawn(world: InspectionWorld, ctx: dict[str, Any], period: str, status: str) -> None:
    runs = _runs(world, ctx, period)
    assert [scheduling.STATUS_NAMES[r.status] for r in runs] == [status] and runs[0].draw_id is None
    assert _draws(world, period) == 0


@when(parsers.parse('负责人在"{when}"批准模板计划'))
def approve_template(world: InspectionWorld, ctx: dict[str, Any], when: str) -> None:
    day, hm = when.split()
    world.set_day(day, int(hm.split(":")[0]), int(hm.split(":")[1]))
    world.submit(ctx["approval"], "approve_plan", {"approved": True}, actor=HEAD)

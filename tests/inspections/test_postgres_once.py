"""Exactly once per period on PostgreSQL, with real concurrency: a scheduler that holds its
period's transaction open makes a second one wait on the unique (schedule, period) index, then
refuse (the first committed) or take over (the first died and rolled back); the scheduler tick
under the Redis leader lock runs the package's schedules, and a follower does nothing."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from engine import SYSTEM, deploy_directory
from engine.dbconnect import make_engine
from engine.settings import Settings
from processes.directory.models import Unit, User
from processes.inspections import plans, scheduling
from processes.inspections.models import Draw, ScheduleRun
from tests.inspections.driver import HEAD, NAMES, PLANNER, ROOT, UNIT, InspectionWorld, at


@pytest.fixture
def pg_world(pg_url: str) -> Iterator[tuple[InspectionWorld, int]]:
    engine = make_engine(pg_url)
    factory = sessionmaker(engine, expire_on_commit=False)
    with factory() as session:
        deploy_directory(session, ROOT / "processes" / "penalty", SYSTEM)
        deploy_directory(session, ROOT / "processes" / "inspections", SYSTEM)
        session.add(Unit(id=UNIT, name="宝山区", short_name="宝", level="county", region_code="310113",
                         path=f"/{UNIT}/"))
        session.flush()
        for user_id, name in NAMES.items():
            session.add(User(id=user_id, display_name=name, password_hash="x", unit_id=UNIT, roles=["officer"]))
        session.commit()
    world = InspectionWorld(factory)
    world.add_entities(60)
    world.add_inspectors(["officer2", "officer3", "officer4", "officer5"])
    with factory() as session:
        plan = plans.create_plan(session, PLANNER, title="季度抽查", kind="quarterly", unit_id=UNIT,
                                 window_start=date(2025, 9, 1), window_end=date(2025, 12, 31),
                                 categories={"public_place": {}}, code=f"Q-{uuid.uuid4().hex[:6]}")
        plans.publish_plan(session, plan.id, HEAD.user_id, world.now)
        schedule = scheduling.create_schedule(session, PLANNER, name="季度", template_plan_id=plan.id,
                                              recurrence_spec="quarterly first-workday 08:00", now=world.now)
        session.commit()
        schedule_id = schedule.id
    try:
        yield world, schedule_id
    finally:
        engine.dispose()


def _counts(factory: sessionmaker[Session]) -> tuple[int, int]:
    with factory() as session:
        runs = session.scalar(select(func.count()).select_from(ScheduleRun).where(ScheduleRun.period == "2025Q4"))
        made = session.scalar(select(func.count()).select_from(Draw).where(Draw.period == "2025Q4"))
        return int(runs or 0), int(made or 0)


@pytest.mark.parametrize("first_commits", [True, False], ids=["first-commits", "first-dies"])
def test_a_second_scheduler_waits_for_the_first_then_refuses_or_takes_over(
        pg_world: tuple[InspectionWorld, int], first_commits: bool) -> None:
    world, schedule_id = pg_world
    when = at("2025-10-09", 8, 1)
    inside, release = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def first() -> None:
        with world.factory() as session:
            def hold(_run: object) -> None:
                inside.set()
                release.wait(30)

            outcome["first"] = scheduling.run_schedule(session, schedule_id, now=when, started=hold)
            if first_commits:
                session.commit()
            else:
                session.rollback()  # what a killed process's connection does

    def second() -> None:
        outcome["second"] = scheduling.run_due(world.factory, now=when)

    a = threading.Thread(target=first)
    a.start()
    assert inside.wait(30)
    b = threading.Thread(target=second)
    b.start()
    b.join(1.0)
    assert b.is_alive(), "the second scheduler must wait on the period's unique index"
    release.set()
    a.join(30)
    b.join(30)
    assert _counts(world.factory) == (1, 1)
    if first_commits:
        assert "taken by another runner" in str(outcome["second"])
    else:
        assert "2025Q4" in str(outcome["second"]) and "taken" not in str(outcome["second"])


def test_the_leader_ticks_the_schedules_and_a_follower_does_not(pg_world: tuple[InspectionWorld, int],
                                                                 pg_url: str, redis_url: str, tmp_path: Path) -> None:
    from integrations import scheduler

    world, _schedule_id = pg_world
    settings = Settings(database_url=pg_url, redis_url=redis_url)
    key = f"weijian:test:inspections:{uuid.uuid4().hex}"
    leader = scheduler.LeaderLock(settings, redis_key=key)
    follower = scheduler.LeaderLock(settings, redis_key=key)
    try:
        assert leader.acquire() and not follower.acquire()
        scheduler.run_package_schedules(settings)  # what tick() runs while leading, at the real now
        with world.factory() as session:
            runs = session.scalars(select(ScheduleRun)).all()
        assert runs, "the leader's tick ran the due period (caught up or recorded missed)"
        before = len(runs)
        scheduler.tick(settings, follower)  # a follower's tick does nothing
        scheduler.tick(settings, leader)  # the leader again: the period is done already
        with world.factory() as session:
            assert len(session.scalars(select(ScheduleRun)).all()) == before
    finally:
        leader.release()
        follower.close()
        from integrations.db import engine_for

        engine_for(pg_url).dispose()  # the scheduler's cached engine: close its pooled connections

"""Exactly one scheduler leads: a second one stays idle until the first is gone."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import HumanTask, StartTimer
from engine.settings import Settings
from integrations.scheduler import LeaderLock, tick
from tests.engine_helpers import deploy_fixture


def test_file_lock_lets_one_scheduler_lead(tmp_path: Path) -> None:
    settings = Settings(database_url="sqlite://")
    first = LeaderLock(settings, lock_path=tmp_path / "scheduler.lock")
    second = LeaderLock(settings, lock_path=tmp_path / "scheduler.lock")
    try:
        assert first.acquire()
        assert first.acquire()  # keeps leading
        assert not second.acquire()
        first.release()
        assert second.acquire()
    finally:
        first.release()
        second.release()


@pytest.mark.redis
def test_redis_lock_lets_one_scheduler_lead(redis_url: str) -> None:
    key = f"weijian:test:leader:{uuid.uuid4().hex}"
    settings = Settings(database_url="sqlite://", redis_url=redis_url)
    first, second = LeaderLock(settings, redis_key=key), LeaderLock(settings, redis_key=key)
    client = redis.Redis.from_url(redis_url)
    try:
        assert first.acquire()
        assert not second.acquire()
        assert first.acquire()
        client.delete(key)  # the leader died and its lease ran out
        assert second.acquire()
        assert not first.acquire()
    finally:
        client.delete(key)
        client.close()


def test_tick_fires_due_start_timers(db_url: str, db_session: Session, tmp_path: Path) -> None:
    deploy_fixture(db_session, "periodic")  # weekly from 2030-01-01: nothing due today
    settings = Settings(database_url=db_url)
    lock = LeaderLock(settings, lock_path=tmp_path / "s.lock")
    try:
        tick(settings, lock)
        assert db_session.scalars(select(HumanTask)).all() == []
        plan = db_session.scalar(select(StartTimer))
        assert plan is not None
        plan.next_due = datetime(2020, 1, 1, tzinfo=UTC)  # make it due now
        db_session.commit()
        tick(settings, lock)
        db_session.expire_all()
        assert [t.task_name for t in db_session.scalars(select(HumanTask))] == ["review_draw"]
    finally:
        lock.release()

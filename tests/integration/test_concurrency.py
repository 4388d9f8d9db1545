"""Two people completing the same task at once: exactly one wins, the other gets a conflict.

Real connections (two sessions, two threads) on SQLite and on PostgreSQL; nothing half-written.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from engine import ConflictError, complete_task, start, verify_audit
from engine.dbconnect import make_engine
from engine.models import AuditEvent, HumanTask
from tests.engine_helpers import HEAD, OFFICER, OFFICER2, deploy_fixture

ROUNDS = 4


def _race(factory: sessionmaker[Session], task_id: str) -> list[str]:
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker(actor: object) -> None:
        with factory() as session:
            barrier.wait()
            try:
                complete_task(session, task_id, actor, {"amount": 50000})  # type: ignore[arg-type]
                session.commit()
                result = "ok"
            except ConflictError:
                session.rollback()
                result = "conflict"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=worker, args=(a,)) for a in (OFFICER, OFFICER2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return sorted(outcomes)


def _exercise(factory: sessionmaker[Session]) -> None:
    with factory() as session:
        deploy_fixture(session, "lead")
    for _ in range(ROUNDS):
        with factory() as session:
            inst = start(session, "case_lead", HEAD, {})
            session.commit()
            task_id = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == inst.id))
        assert task_id is not None
        assert _race(factory, task_id) == ["conflict", "ok"]
        with factory() as session:
            tasks = session.scalars(select(HumanTask).where(HumanTask.instance_id == inst.id)).all()
            assert sorted(t.status for t in tasks) == ["completed", "ready"]  # register done, approve waiting
            completions = session.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.instance_id == inst.id, AuditEvent.action == "task_completed"))
            assert completions == 1
    with factory() as session:
        assert verify_audit(session).ok


def _run_against(url: str) -> None:
    engine = make_engine(url)
    try:
        _exercise(sessionmaker(engine, expire_on_commit=False))
    finally:
        engine.dispose()


def test_same_task_twice_on_sqlite(db_url: str) -> None:
    _run_against(db_url)


@pytest.mark.postgres
def test_same_task_twice_on_postgres(pg_url: str) -> None:
    _run_against(pg_url)

"""The driver-level writes of ``engine.hotwrite`` store exactly what the ORM stores.

Inbox order, keyset paging and the audit chain read these columns back; a timestamp written in
another text format (SQLite) or a list adapted as an array instead of JSON (PostgreSQL) would
break them silently, so both databases are checked value by value against ORM-written rows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from engine import complete_task, start, verify_audit
from engine.dbconnect import make_engine
from engine.models import HumanTask, ProcessInstance
from tests.engine_helpers import HEAD, OFFICER, deploy_fixture

NOW = datetime(2026, 3, 2, 1, 30, 15, tzinfo=UTC)  # a Monday; microseconds zero on purpose


def _run(session: Session) -> tuple[str, str]:
    deploy_fixture(session, "lead")
    instance = start(session, "case_lead", OFFICER, {"source": "complaint"}, business_key="LEAD-1", now=NOW)
    session.commit()
    [register] = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id))
    done = complete_task(session, register.id, OFFICER, {"amount": 50000, "facts": "无证经营"},
                         now=NOW + timedelta(hours=1))
    session.commit()
    assert done is instance and done.row_version == 2  # the caller's object follows the write
    return instance.id, register.id


def _check(factory: sessionmaker[Session]) -> None:
    with factory() as session:
        instance_id, register_id = _run(session)
    with factory() as session:
        instance = session.get(ProcessInstance, instance_id)
        assert instance is not None
        assert instance.row_version == 2 and instance.audit_seq == 2
        assert instance.updated_at == NOW + timedelta(hours=1) and instance.started_at == NOW
        assert isinstance(instance.completed_elements, list) and "register" in instance.completed_elements
        [approve_id] = instance.ready_task_ids
        register = session.get(HumanTask, register_id)
        approve = session.get(HumanTask, approve_id)
        assert register is not None and approve is not None
        assert (register.status, register.completed_by, register.completed_at) == (
            "completed", OFFICER.user_id, NOW + timedelta(hours=1))
        assert approve.status == "ready" and approve.created_at == NOW + timedelta(hours=1)
        assert approve.due_sort > approve.created_at and approve.candidate_role == "head"
        assert verify_audit(session).ok
        if session.get_bind().dialect.name == "sqlite":
            # The ORM's text format for timestamps, microseconds included, so text order is time order.
            stored = session.execute(text("SELECT created_at, due_sort FROM human_task WHERE id = :id"),
                                     {"id": approve_id}).one()
            assert stored[0] == "2026-03-02 02:30:15.000000"
            assert len(stored[1]) == len("2026-03-02 02:30:15.000000")
            kinds = session.execute(text("SELECT json_type(completed_elements), json_type(ready_task_ids) "
                                         "FROM process_instance WHERE id = :id"), {"id": instance_id}).one()
        else:
            kinds = session.execute(text("SELECT json_typeof(completed_elements::json), "
                                         "json_typeof(ready_task_ids::json) FROM process_instance WHERE id = :id"),
                                    {"id": instance_id}).one()
        assert tuple(kinds) == ("array", "array")
    with factory() as session:  # the next task still completes through the same path
        complete_task(session, approve_id, HEAD, {"approved": True}, now=NOW + timedelta(hours=2))
        session.commit()


def test_hot_writes_match_the_orm_on_sqlite(session_factory: sessionmaker[Session]) -> None:
    _check(session_factory)


def _on_postgres(url: str, check: Callable[[sessionmaker[Session]], None]) -> None:
    engine = make_engine(url)
    try:
        check(sessionmaker(engine, expire_on_commit=False))
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_hot_writes_match_the_orm_on_postgres(pg_url: str) -> None:
    _on_postgres(pg_url, _check)


def _columns(obj: object) -> dict[str, object]:
    from sqlalchemy import inspect

    return {attr.key: getattr(obj, attr.key) for attr in inspect(type(obj)).column_attrs}


def _hot_read_check(session_factory: sessionmaker[Session]) -> None:
    """Every column (timestamps aware, JSON lists, the deferred state on access) equals the ORM's
    own load; objects the session already holds are refreshed in place, stale state dropped. The
    task row stays out of the session unless the caller already held it."""
    from engine import hotread

    lock = session_factory.kw["bind"].dialect.name == "postgresql"
    with session_factory() as session:
        deploy_fixture(session, "lead")
        instance = start(session, "case_lead", OFFICER, {"source": "complaint"}, business_key="LEAD-2", now=NOW)
        session.commit()
        [task_id] = instance.ready_task_ids
    with session_factory() as session:
        orm_task, orm_instance = session.get(HumanTask, task_id), session.get(ProcessInstance, instance.id)
        expected = (_columns(orm_task), _columns(orm_instance))
    with session_factory() as session:
        found = hotread.task_and_instance(session, task_id, lock=lock)
        assert found is not None
        human, row = found
        assert (_columns(human), _columns(row)) == expected
        assert session.get(ProcessInstance, instance.id) is row and human not in session
        assert not session.dirty and hotread.task_and_instance(session, "no-such-task", lock=lock) is None
    with session_factory() as session:  # a task the caller holds is the one refreshed
        mine = session.get(HumanTask, task_id)
        assert mine is not None
        mine.title = "edited in memory"
        found = hotread.task_and_instance(session, task_id, lock=lock)
        assert found is not None and found[0] is mine and mine.title == expected[0]["title"]
    with session_factory() as session:
        held = session.get(ProcessInstance, instance.id)
        assert held is not None and held.state  # state loaded, then changed by another connection
        held.status = "edited in memory"
        with session_factory() as other:
            other.execute(text("UPDATE process_instance SET state = :s WHERE id = :id"), {"s": b"{}", "id": held.id})
            other.commit()
        # pysqlite reads outside a transaction until the first write, PostgreSQL reads committed
        # data per statement: this read sees the other connection's write
        found = hotread.task_and_instance(session, task_id, lock=lock)
        assert found is not None and found[1] is held
        assert held.status == "running" and held.state == b"{}" and not session.dirty


def test_hot_read_gives_the_objects_the_orm_loads_on_sqlite(session_factory: sessionmaker[Session]) -> None:
    _hot_read_check(session_factory)


@pytest.mark.postgres
def test_hot_read_gives_the_objects_the_orm_loads_on_postgres(pg_url: str) -> None:
    _on_postgres(pg_url, _hot_read_check)


def _newest_definition_check(factory: sessionmaker[Session]) -> None:
    from engine import deploy, hotread
    from engine.actor import SYSTEM
    from engine.definitions import newest_version
    from engine.errors import UnknownProcess
    from tests.engine_helpers import bundle

    with factory() as session:
        files = bundle("lead")
        [first] = deploy(session, files, SYSTEM)
        changed = {name: body.replace(b'name="', b'name="v2 ', 1) for name, body in files.items()}
        [second] = deploy(session, changed, SYSTEM)
        session.commit()
        ref = newest_version(session, "case_lead")
        assert (ref.id, ref.version) == (second.id, second.version) and second.version == first.version + 1
        assert hotread.newest_definition(session, "nothing_deployed") is None
        for bad in ("nothing_deployed", "bad key; drop table"):
            with pytest.raises(UnknownProcess):
                newest_version(session, bad)
        instance = start(session, "case_lead", OFFICER, {"source": "complaint"}, now=NOW)
        assert instance.definition_id == second.id


def test_a_start_takes_the_newest_definition_on_sqlite(session_factory: sessionmaker[Session]) -> None:
    _newest_definition_check(session_factory)


@pytest.mark.postgres
def test_a_start_takes_the_newest_definition_on_postgres(pg_url: str) -> None:
    _on_postgres(pg_url, _newest_definition_check)

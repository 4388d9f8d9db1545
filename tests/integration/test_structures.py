"""Parallel branches, embedded subprocesses and call activities survive pruning and caching.

Each command runs in a fresh session and, on alternate steps, with the in-process workflow
cache emptied, so both the cached and the reloaded path carry the case to its end.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine import complete_task, start
from engine.models import HumanTask, ProcessInstance
from engine.state import WORKFLOW_CACHE
from tests.engine_helpers import HEAD, OFFICER, deploy_fixture


def _ready(factory: sessionmaker[Session], instance_id: str) -> dict[str, str]:
    with factory() as session:
        rows = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                       HumanTask.status == "ready"))
        return {r.task_name: r.id for r in rows}


def _complete(factory: sessionmaker[Session], task_id: str, actor: object, data: dict[str, object],
              drop_cache: bool) -> None:
    if drop_cache:
        WORKFLOW_CACHE.clear()
    with factory() as session:
        complete_task(session, task_id, actor, data)  # type: ignore[arg-type]
        session.commit()


@pytest.mark.parametrize("drop_cache", [False, True])
def test_parallel_subprocess_and_call_activity_run_to_the_end(session_factory: sessionmaker[Session],
                                                               drop_cache: bool) -> None:
    with session_factory() as session:
        deploy_fixture(session, "structures")
        instance_id = start(session, "structured_case", OFFICER, {"case": "S-1"}).id
        session.commit()
    ready = _ready(session_factory, instance_id)
    assert set(ready) == {"interview", "site"}
    _complete(session_factory, ready["site"], OFFICER, {"site_note": "现场检查"}, drop_cache)
    assert set(_ready(session_factory, instance_id)) == {"interview"}  # join waits for the other branch
    _complete(session_factory, ready["interview"], OFFICER, {"interview_note": "询问"}, drop_cache)
    sub = _ready(session_factory, instance_id)
    assert set(sub) == {"sub_check"}
    _complete(session_factory, sub["sub_check"], OFFICER, {"checked": True}, drop_cache)
    called = _ready(session_factory, instance_id)
    assert set(called) == {"opinion"}
    with session_factory() as session:
        row = session.get(HumanTask, called["opinion"])
        assert row is not None and row.candidate_role == "head"
    _complete(session_factory, called["opinion"], HEAD, {"agree": True}, drop_cache)
    last = _ready(session_factory, instance_id)
    assert set(last) == {"report"}
    _complete(session_factory, last["report"], OFFICER, {"report": "终结"}, drop_cache)
    with session_factory() as session:
        instance = session.get(ProcessInstance, instance_id)
        assert instance is not None and instance.status == "completed"
        assert {"interview", "site", "join", "sub_check", "opinion", "tally", "report"} <= set(
            instance.completed_elements)

"""The request id reaches a real Celery worker through Redis, and JSON log lines carry it."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine import deploy, start
from engine.actor import SYSTEM
from engine.settings import Settings
from integrations.celery_app import dispatch_after_commit, make_celery
from integrations.logs import JsonFormatter, RequestIdFilter, new_request_id, request_id_context
from tests.engine_helpers import OFFICER
from tests.tracing import TRACED, TRACED_BPMN


@pytest.fixture
def restore_default_app() -> Iterator[None]:
    from integrations.celery_app import celery_app

    yield
    celery_app.set_current()


@pytest.mark.redis
def test_a_worker_runs_the_job_under_the_request_id_that_queued_it(
        db_url: str, redis_url: str, session_factory: sessionmaker[Session], restore_default_app: None) -> None:
    from engine import complete_task
    from engine.models import HumanTask

    app: Celery = make_celery(Settings(database_url=db_url, redis_url=redis_url))
    app.conf.update(task_default_queue=f"weijian-test-{time.time_ns()}", worker_hijack_root_logger=False)
    with session_factory() as session:
        deploy(session, {"traced.bpmn": TRACED_BPMN}, SYSTEM)
        instance = start(session, "traced", OFFICER, {}, unit_id="U1")
        session.commit()
        ask = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                      HumanTask.status == "ready")).one()
    TRACED.clear()
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        with session_factory() as session, request_id_context("req-through-redis"):
            complete_task(session, ask.id, OFFICER, {})
            session.commit()
            dispatch_after_commit(session)  # what a request does after its commit
        deadline = time.monotonic() + 20
        while not TRACED and time.monotonic() < deadline:
            time.sleep(0.05)
    assert TRACED == ["req-through-redis"]


def test_json_lines_carry_the_request_id() -> None:
    record = logging.makeLogRecord({"name": "weijian.test", "levelname": "WARNING", "msg": "job %s failed",
                                    "args": ("j-1",), "duration_ms": 3.5})
    with request_id_context("req-7"):
        RequestIdFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "job j-1 failed" and line["request_id"] == "req-7"
    assert line["level"] == "WARNING" and line["duration_ms"] == 3.5


def test_only_well_formed_request_ids_are_taken_from_clients() -> None:
    assert new_request_id("abc-123_X.y") == "abc-123_X.y"
    for hostile in ("", "x" * 129, "line\nbreak", 'quote"d', "空格 id"):
        generated = new_request_id(hostile)
        assert generated != hostile and len(generated) == 32

"""The outbox relay hands committed jobs to Celery: eagerly in-process, or through Redis to a worker."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine import start
from engine.models import HumanTask, OutboxJob
from engine.settings import Settings
from integrations.celery_app import dispatch_after_commit, make_celery
from tests.engine_helpers import OFFICER, deploy_fixture
from tests.operators import echo

assert echo  # registers the test.echo operator the service fixture calls


def _start_service_case(session: Session) -> str:
    deploy_fixture(session, "service")
    instance = start(session, "with_service", OFFICER, {"name": "李四"})
    session.commit()
    return instance.id


def _wait_for_check_task(factory: sessionmaker[Session], instance_id: str, timeout: float) -> HumanTask | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with factory() as session:
            task = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                          HumanTask.status == "ready"))
            if task is not None:
                return task
        time.sleep(0.05)
    return None


@pytest.fixture
def restore_default_app() -> Iterator[None]:
    from integrations.celery_app import celery_app

    yield
    celery_app.set_current()


def test_eager_relay_runs_the_job_right_after_commit(db_url: str, session_factory: sessionmaker[Session],
                                                     restore_default_app: None) -> None:
    app = make_celery(Settings(database_url=db_url))
    assert app.conf.task_always_eager
    with session_factory() as session:
        instance_id = _start_service_case(session)
        dispatch_after_commit(session)
    with session_factory() as session:  # no waiting: eager means done when dispatch returns
        job = session.scalar(select(OutboxJob))
        assert job is not None
        assert job.status == "done"
        task = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                      HumanTask.status == "ready"))
        assert task is not None
        assert task.task_name == "check"


@pytest.mark.redis
def test_redis_broker_and_a_real_worker_run_the_job(db_url: str, redis_url: str,
                                                    session_factory: sessionmaker[Session],
                                                    restore_default_app: None) -> None:
    app: Celery = make_celery(Settings(database_url=db_url, redis_url=redis_url))
    app.conf.update(task_default_queue=f"weijian-test-{time.time_ns()}", worker_hijack_root_logger=False)
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        with session_factory() as session:
            instance_id = _start_service_case(session)
            dispatch_after_commit(session)
        task = _wait_for_check_task(session_factory, instance_id, timeout=20)
    assert task is not None and task.task_name == "check"
    with session_factory() as session:
        job = session.scalar(select(OutboxJob))
        assert job is not None and job.status == "done"

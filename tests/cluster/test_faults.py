"""Cluster fault tests (issue 10, item 3): kill -9 one process of the running cluster under load.

The cluster is ``make cluster``'s layout as real processes on 127.0.0.1 (``bench.cluster``):
gunicorn with three workers, two Celery workers, two schedulers, a fresh PostgreSQL database
and Redis db. A few API clients start penalty cases and complete their tasks while one process
is killed with SIGKILL (no chance to clean up, as when a machine is lost): a gunicorn worker, a
Celery worker while it runs a job, the scheduler that leads. After each, ``check_invariants``
asserts that every completion answered 2xx is stored, case numbers are gapless and unique,
nothing is stalled, every job's effect happened once, and ``weijian audit verify`` passes.
The scheduler test also has a timer come due while no scheduler leads: it fires once, after
the takeover. Each test restarts what it killed, so the next one finds the whole cluster.

Times are shortened for the test (``bench.cluster.FAST_TIMING``: tick 1 s, lease 4 s, relay
lease 4 s), so a takeover or a re-sent job happens within seconds, not minutes.
"""

from __future__ import annotations

import os
import re
import signal
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bench.cluster import Cluster
from engine import Actor, clock, complete_task, start
from engine.models import AuditEvent, HumanTask, TimerRow

from .load import Load, check_invariants, settle

pytestmark = [pytest.mark.cluster, pytest.mark.postgres, pytest.mark.redis]
OFFICER = Actor.of("zhang.wei", ["officer"], ["610302"])
TASK_LINE = re.compile(r"Task weijian\.run_outbox_job\[([0-9a-f-]+)\] (received|succeeded|failed|raised|retry)")


def _wait(condition: object, timeout: float, what: str) -> float:
    """Poll ``condition()`` until true; seconds it took. Fails naming ``what``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():  # type: ignore[operator]
            return time.monotonic() - started
        time.sleep(0.05)
    pytest.fail(f"{what} did not happen within {timeout} s")


def test_kill_9_of_a_gunicorn_worker_loses_no_acknowledged_completion(cluster: Cluster,
                                                                      cluster_db: Session) -> None:
    before = set(cluster.children("web"))
    assert len(before) == cluster.web_workers, before
    with Load(cluster) as load:
        load.wait_for_completions(6)
        victim = sorted(before)[0]
        os.kill(victim, signal.SIGKILL)
        _wait(lambda: len(set(cluster.children("web")) - {victim}) == cluster.web_workers, 20,
              "gunicorn replacing its killed worker")
        load.wait_for_completions(load.statuses[200] + 6)
    settle(cluster_db)
    assert victim not in cluster.children("web")
    check_invariants(cluster, cluster_db, load)


def _in_flight(cluster: Cluster, name: str) -> set[str]:
    """Celery task ids the worker received and has not finished, from its log."""
    received: set[str] = set()
    finished: set[str] = set()
    for task_id, what in TASK_LINE.findall(cluster.log(name)):
        (received if what == "received" else finished).add(task_id)
    return received - finished


def test_kill_9_of_a_celery_worker_mid_job_runs_the_job_once(cluster: Cluster, cluster_db: Session) -> None:
    try:
        with Load(cluster, clients=5) as load:
            load.wait_for_completions(4)
            seen: list[set[str]] = []  # the poll that found a job in hand decides, then the kill at once
            _wait(lambda: bool(seen.append(_in_flight(cluster, "worker1")) or seen[-1]), 30,
                  "worker1 running a job")
            cluster.kill9("worker1")  # the worker and its pool child, mid-job
            running = seen[-1]  # read again, a short job could have finished in between (flaky before)
            load.wait_for_completions(load.statuses[200] + 8)
        settle(cluster_db)
        assert running, "the worker was killed with no job in hand"
        check_invariants(cluster, cluster_db, load)
    finally:
        cluster.spawn("worker1", cluster.commands()["worker1"])
        cluster.wait_ready(60)


def _timed_instance(session: Session, due_in: float) -> str:
    """A ``timed`` case waiting on its cooling-off timer, due ``due_in`` seconds from now."""
    instance = start(session, "timed", OFFICER, {"start_date": clock.now().date().isoformat(), "deadline_days": 5,
                                                  "cooling_period": f"PT{due_in:g}S"}, unit_id="610302")
    session.commit()
    review = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance.id,
                                                       HumanTask.status == "ready"))
    assert review is not None
    complete_task(session, review, OFFICER, {})
    session.commit()
    return instance.id


def test_kill_9_of_the_scheduler_leader_fires_a_timer_due_meanwhile_once(cluster: Cluster,
                                                                         cluster_db: Session) -> None:
    leader = cluster.leader_pid()
    names = {p.pid: n for n, p in cluster.processes.items()}
    assert leader in names, f"the leader {leader} is none of ours {names}"
    killed = names[leader]
    try:
        with Load(cluster) as load:
            load.wait_for_completions(4)
            instance_id = _timed_instance(cluster_db, due_in=3)
            due = cluster_db.scalar(select(TimerRow.due_at).where(TimerRow.instance_id == instance_id))
            cluster.kill9(killed)
            killed_at = clock.now()
            took = _wait(lambda: cluster.leader_pid() not in (None, leader), 15, "another scheduler leading")
            _wait(lambda: _fired(cluster_db, instance_id) > 0, 15, "the timer firing after the takeover")
            load.wait_for_completions(load.statuses[200] + 6)
        print(f"\ntakeover after kill -9 of the leader: {took:.1f} s")
        assert due is not None and due > killed_at, "the timer must come due while no scheduler leads"
        time.sleep(2.5)  # two more ticks of the new leader: it must not fire again
        assert _fired(cluster_db, instance_id) == 1
        cluster_db.rollback()
        ready = list(cluster_db.scalars(select(HumanTask.task_name).where(HumanTask.instance_id == instance_id,
                                                                         HumanTask.status == "ready")))
        assert ready == ["done"]
        fired_at = cluster_db.scalar(select(AuditEvent.created_at).where(
            AuditEvent.instance_id == instance_id, AuditEvent.action == "timer_fired"))
        assert fired_at is not None and fired_at >= due - timedelta(seconds=0.01)
        settle(cluster_db)
        check_invariants(cluster, cluster_db, load)
    finally:
        cluster.spawn(killed, cluster.commands()[killed])
        cluster.wait_ready(60)


def _fired(session: Session, instance_id: str) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.instance_id == instance_id, AuditEvent.action == "timer_fired")) or 0

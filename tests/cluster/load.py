"""A bounded load on the cluster, and what must hold after a fault (issue 10, item 3).

``Load`` runs a few API clients, each starting penalty cases and completing their tasks (see
``bench.penalty_http``) until told to stop; it keeps every completion answered 2xx. After the
fault, ``settle`` waits until no job is pending and every case has reached its target, and
``check_invariants`` asserts what a fault must never break: a completion that got a 2xx is
stored, case numbers are gapless and unique, nothing is stalled, each job's effect happened
once, and the audit chains verify (through ``weijian audit verify``, the operator's command).
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from bench.cluster import BIN, Cluster
from bench.penalty_http import Answer, Client, Outcome, drive_case
from engine import Actor, scan_stalled, stalled_instances
from engine.models import AuditEvent, HumanTask, OutboxJob
from processes.penalty.models import CaseDocument, CaseNumberCounter, PenaltyCase

ADMIN = Actor.of("admin", ["admin"], ["610000"], is_admin=True)


@dataclass
class Load:
    cluster: Cluster
    clients: int = 4
    outcomes: list[Outcome] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> Load:
        for n in range(self.clients):
            thread = threading.Thread(target=self._run, name=f"load-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _count(self, _kind: str, answer: Answer) -> None:
        with self._lock:
            self.statuses[answer.status] += 1

    def _run(self) -> None:
        client = Client(self.cluster.port, self.cluster.tokens, timeout=20, record=self._count)
        try:
            while not self._stop.is_set():
                outcome = drive_case(client, time.monotonic() + 60)
                with self._lock:
                    self.outcomes.append(outcome)
        finally:
            client.close()

    def completions(self) -> int:
        with self._lock:
            return sum(len(o.completed) for o in self.outcomes)

    def wait_for_completions(self, count: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.statuses[200] >= count:
                return
            time.sleep(0.1)
        raise AssertionError(f"load made no progress: {dict(self.statuses)}")

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(90)
        assert not any(t.is_alive() for t in self._threads), "a load client did not finish its case"


def settle(session: Session, timeout: float = 45) -> None:
    """Wait until no job is pending (workers and the relay caught up)."""
    deadline = time.monotonic() + timeout
    pending: list[tuple[str, str, int]] = []  # id, operator, attempts
    while time.monotonic() < deadline:
        session.rollback()
        pending = [(r.id, r.operator, r.attempts) for r in session.execute(
            select(OutboxJob.id, OutboxJob.operator, OutboxJob.attempts).where(OutboxJob.status == "pending"))]
        if not pending:
            return
        time.sleep(0.25)
    raise AssertionError(f"jobs still pending after {timeout} s: {pending[:5]}")


def check_invariants(cluster: Cluster, session: Session, load: Load) -> None:
    session.rollback()
    assert load.statuses[500] == 0, f"HTTP 500s: {dict(load.statuses)}"
    assert all(o.reached for o in load.outcomes if o.instance_id), \
        [(o.instance_id, o.refused[:5]) for o in load.outcomes if not o.reached][:5]
    _completions_stored(session, load)
    _numbers_gapless(session)
    assert stalled_instances(session) == []
    assert scan_stalled(session, ADMIN) == []
    session.rollback()
    instances = [o.instance_id for o in load.outcomes if o.instance_id]
    _jobs_once(session, set(session.scalars(select(PenaltyCase.id).where(PenaltyCase.instance_id.in_(instances)))))
    verify = subprocess.run([str(BIN / "weijian"), "audit", "verify"], env=cluster.env(), capture_output=True,
                            text=True, timeout=60, check=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "audit trail intact" in verify.stdout


def _completions_stored(session: Session, load: Load) -> None:
    done = [pair for o in load.outcomes for pair in o.completed]
    assert done, "the load completed nothing"
    rows = dict(session.execute(select(HumanTask.id, HumanTask.completed_by).where(
        HumanTask.id.in_([task_id for task_id, _user in done]), HumanTask.status == "completed")).all())
    lost = [(task_id, user) for task_id, user in done if rows.get(task_id) != user]
    assert not lost, f"completions answered 2xx but not stored as completed by their user: {lost[:5]}"
    assert len({task_id for task_id, _u in done}) == len(done), "a task was answered 2xx twice"


def _numbers_gapless(session: Session) -> None:
    rows = session.execute(select(PenaltyCase.unit_id, PenaltyCase.category, PenaltyCase.number_year,
                                  PenaltyCase.number_seq, PenaltyCase.case_number)
                           .where(PenaltyCase.number_seq.is_not(None))).all()
    numbers = [r.case_number for r in rows]
    assert len(numbers) == len(set(numbers)), f"duplicate case numbers: {Counter(numbers).most_common(3)}"
    series: dict[tuple[str, str, int], list[int]] = {}
    for r in rows:
        series.setdefault((r.unit_id, r.category, r.number_year), []).append(r.number_seq)
    for key, seqs in series.items():
        assert sorted(seqs) == list(range(1, len(seqs) + 1)), f"numbering of {key} has gaps: {sorted(seqs)}"
        unit, category, year = key
        last = session.scalar(select(CaseNumberCounter.last_value).where(
            CaseNumberCounter.unit_id == unit, CaseNumberCounter.category == category, CaseNumberCounter.year == year))
        assert last == len(seqs), f"counter {key} at {last} for {len(seqs)} numbered cases"


def _jobs_once(session: Session, cases: set[str]) -> None:
    statuses = Counter(session.scalars(select(OutboxJob.status)))
    assert set(statuses) <= {"done"}, f"jobs not done: {dict(statuses)}"
    applied = Counter(e.data.get("job") for e in session.scalars(
        select(AuditEvent).where(AuditEvent.action == "service_task_completed")).all())
    twice = [job for job, n in applied.items() if n > 1]
    assert not twice, f"jobs applied more than once: {twice[:5]}"
    # one element resumed once per instance and task: a re-delivered job never moves the case twice
    per_task = Counter(session.execute(select(AuditEvent.instance_id, AuditEvent.task_id).where(
        AuditEvent.action == "service_task_completed")).all())
    assert max(per_task.values(), default=1) == 1, per_task.most_common(3)
    # documents are keyed by the job that made them; a case of the load has each kind once
    documents = Counter(session.execute(select(CaseDocument.case_id, CaseDocument.doc_type)).all())
    twice = [key for key, n in documents.items() if n > 1 and key[0] in cases]
    assert not twice, f"documents made twice: {twice[:5]}"

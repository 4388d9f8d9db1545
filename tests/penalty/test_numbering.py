"""Case numbers under concurrency: two real connections take numbers at once, on SQLite and on
PostgreSQL; every number is used exactly once and a rolled-back filing gives its number back.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from engine.dbconnect import make_engine
from processes.penalty.models import CaseNumberCounter
from processes.penalty.numbering import format_number, next_value

ROUNDS = 8


def _take(factory: sessionmaker[Session], barrier: threading.Barrier, out: list[int], lock: threading.Lock) -> None:
    for _ in range(ROUNDS):
        barrier.wait()
        for attempt in range(50):
            with factory() as session:
                try:
                    session.execute(select(CaseNumberCounter.last_value)).all()  # a job reads before it writes
                    value = next_value(session, "U1", "medical", 2025)
                    session.commit()
                except OperationalError:  # SQLite: the other writer won; the job is retried
                    session.rollback()
                    time.sleep(0.01 * (attempt + 1))
                    continue
            with lock:
                out.append(value)
            break
        else:
            raise AssertionError("never got a number")


def _race(url: str) -> None:
    engine = make_engine(url)
    factory = sessionmaker(engine, expire_on_commit=False)
    try:
        barrier, lock, taken = threading.Barrier(2), threading.Lock(), []  # type: ignore[var-annotated]
        threads = [threading.Thread(target=_take, args=(factory, barrier, taken, lock)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sorted(taken) == list(range(1, 2 * ROUNDS + 1))  # no gap, no duplicate
        with factory() as session:
            value = next_value(session, "U1", "medical", 2025)
            session.rollback()  # a filing that failed gives its number back
        with factory() as session:
            assert next_value(session, "U1", "medical", 2025) == value == 2 * ROUNDS + 1
            assert next_value(session, "U1", "public_places", 2025) == 1  # each category counts alone
            assert next_value(session, "U1", "medical", 2026) == 1  # and each year
            session.commit()
    finally:
        engine.dispose()


def test_two_connections_take_distinct_consecutive_numbers_on_sqlite(db_url: str) -> None:
    _race(db_url)


@pytest.mark.postgres
def test_two_connections_take_distinct_consecutive_numbers_on_postgres(pg_url: str) -> None:
    _race(pg_url)


def test_number_format_follows_the_document_rules() -> None:
    assert format_number("{unit}卫{category}罚〔{year}〕{n}号", "宝", "医", 2026, 12) == "宝卫医罚〔2026〕12号"

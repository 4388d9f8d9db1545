"""Parallel password guesses on PostgreSQL: the attempt is counted atomically before the check, so
no more than the free budget is ever checked, however many arrive at once (ASVS 2.2.1)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy.orm import sessionmaker

from engine.dbconnect import make_engine
from processes.directory.services import SignInRefused, authenticate
from tests.web.conftest import build_directory

pytestmark = pytest.mark.postgres


def test_forty_parallel_guesses_check_only_the_free_budget(pg_url: str) -> None:
    engine = make_engine(pg_url, pool_size=10)
    factory = sessionmaker(engine, expire_on_commit=False)
    with factory() as session:
        build_directory(session)
        session.commit()

    def guess(n: int) -> str:
        with factory() as session:
            try:
                authenticate(session, "officer.a", f"guess-{n}", source="203.0.113.7", max_failures=5)
            except SignInRefused as refused:
                session.commit()
                return refused.reason
            return "signed-in"

    try:
        with ThreadPoolExecutor(max_workers=10) as pool:
            reasons = list(pool.map(guess, range(40)))
    finally:
        engine.dispose()
    assert reasons.count("bad_credentials") == 5  # checked against the password
    assert reasons.count("throttled") == 35  # refused without a check

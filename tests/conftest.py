"""Shared fixtures: real databases created by Alembic (never ``create_all``).

* ``db_url`` / ``db_session``: a fresh SQLite file per test, copied from one migrated template.
* ``pg_url``: a database of this run's own on the PostgreSQL service (``TEST_POSTGRES_URL`` or
  ``DATABASE_URL`` or the local default names the server and the name's prefix), migrated once
  per run, emptied per test and dropped at the end; skipped with the reason when unreachable, a
  failure when ``CI=true``.
* ``redis_url``: likewise for Redis.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from migrations.model_registry import all_metadata
from migrations.runner import upgrade

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS_DEFAULT = "redis://127.0.0.1:6379/0"
TEST_SEAL_PASSPHRASE = "test-unit-seal-passphrase"  # the units' seal passphrase in the test settings
os.environ.setdefault("WEIJIAN_SEAL_PASSPHRASE", TEST_SEAL_PASSPHRASE)  # as a deployment configures it


def _unreachable(what: str, reason: str) -> None:
    message = f"{what} unreachable: {reason}"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (CI=true: services are required)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def db_url(_sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "weijian.db"
    shutil.copyfile(_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def session_factory(db_url: str) -> Iterator[sessionmaker[Session]]:
    from engine.dbconnect import make_engine

    engine = make_engine(db_url)
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


@pytest.fixture
def db_session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


def _pg_base_url() -> str:
    url = os.environ.get("TEST_POSTGRES_URL") or os.environ.get("DATABASE_URL") or PG_DEFAULT
    if not url.startswith("postgresql"):
        url = PG_DEFAULT
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url


@pytest.fixture(scope="session")
def _pg_migrated() -> Iterator[str]:
    """A database of this test run's own on the PostgreSQL service (``<db>_run<pid>``), migrated
    once and dropped at the end: two runs on one machine (or one server) never share tables."""
    from sqlalchemy.engine import make_url

    base = _pg_base_url()
    url = make_url(base)
    name = f"{url.database or 'test'}_run{os.getpid()}"
    try:
        admin = create_engine(url, connect_args={"connect_timeout": 3}, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        _unreachable("PostgreSQL", f"{base}: {exc.__class__.__name__}: {exc}".splitlines()[0])
    own = url.set(database=name).render_as_string(hide_password=False)
    upgrade(own)
    yield own
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture
def pg_url(_pg_migrated: str) -> str:
    engine = create_engine(_pg_migrated)
    names = [t.name for md in all_metadata() for t in md.sorted_tables]
    with engine.begin() as conn:
        if names:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " RESTART IDENTITY CASCADE"))
    engine.dispose()
    return _pg_migrated


@pytest.fixture
def redis_url() -> str:
    import redis

    url = os.environ.get("REDIS_URL") or REDIS_DEFAULT
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as exc:
        _unreachable("Redis", f"{url}: {exc}")
    return url

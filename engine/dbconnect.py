"""Engine construction with the per-dialect settings the engine's locking relies on.

SQLite: WAL journal and a busy timeout so two connections wait for each other instead of
failing at once; foreign keys on. Conflicts are decided by row versions (``engine.runtime``).
PostgreSQL: ``SELECT ... FOR UPDATE`` on the instance row, pre-ping for long-lived pools.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event


def engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 15}}
    return {"pool_pre_ping": True}


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def install_sqlite_pragmas(engine: Engine) -> None:
    if engine.dialect.name == "sqlite" and not event.contains(engine, "connect", _sqlite_pragmas):
        event.listen(engine, "connect", _sqlite_pragmas)


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("postgresql://"):
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    options = {**engine_options(url), **kwargs}
    engine = create_engine(url, **options)
    install_sqlite_pragmas(engine)
    return engine

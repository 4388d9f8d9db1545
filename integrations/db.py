"""One SQLAlchemy engine and session factory per process for workers, the scheduler and the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from engine.dbconnect import make_engine
from engine.settings import Settings


@lru_cache(maxsize=4)
def engine_for(url: str) -> Engine:
    return make_engine(url)


def session_factory(settings: Settings | None = None) -> sessionmaker[Session]:
    settings = settings or Settings.from_env()
    return sessionmaker(engine_for(settings.database_url), expire_on_commit=False)


@contextmanager
def session_scope(settings: Settings | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on error (the job owns the commit)."""
    with session_factory(settings)() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

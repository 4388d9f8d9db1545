"""Declarative base shared by every project table that lives in the engine's schema.

One ``MetaData`` with a naming convention so Alembic produces stable constraint names on
SQLite and PostgreSQL alike. Other packages (``processes/``, ``web/``) define their models on
this same ``Base``; ``signing/`` keeps its own base because it imports no project package, and
Alembic's ``env.py`` merges both metadatas.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, MetaData, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware timestamps that come back aware on SQLite too (stored as UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}  # noqa: RUF012


def database_key(session: Session | None) -> object:
    """Which database ``session`` talks to (its engine URL): process-wide caches of per-database
    data (parsed specs by definition id, the calendar) key by it, since one process may serve two."""
    bind = session.get_bind() if session is not None else None
    engine = bind.engine if bind is not None else None
    return engine.url if engine is not None else ""


def utcnow() -> datetime:
    return datetime.now(UTC)

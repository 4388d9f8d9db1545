"""Alembic environment: the only way the schema is created (SQLite and PostgreSQL alike).

The URL comes from ``config.attributes["connection"]`` (tests and the CLI pass an open
connection), else ``sqlalchemy.url`` if set, else ``DATABASE_URL`` via ``Settings``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from engine.settings import Settings
from migrations import model_registry

config = context.config
target_metadata = model_registry.all_metadata()


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or Settings.from_env().database_url


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Autogenerate skips what a model declares for other dialects only, and the expression
    indexes it cannot compare (``migrations.model_registry.compared``)."""
    return model_registry.compared(obj, name, type_, context.get_context().dialect.name)


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                          include_object=include_object)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(_url())
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True,
                          include_object=include_object)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

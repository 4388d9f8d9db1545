"""The reads every completion and every start begins with, at the driver level.

Why: ``complete_task`` reads one human-task row and its instance row by primary key. The ORM
spends about 0.16 ms building two objects from that row (statement cache look-up, loading
context, identity map, attribute events) where SQLite itself takes 0.02 ms; in a 1.3 ms
completion that is the largest single cost after the commit (``bench.engine``). Here the
statement is built once per dialect (on PostgreSQL it locks the instance row), the values go
through each column type's own result processor (or one C call that gives the same value), and
the instance enters the session as persistent, as if the ORM had loaded it; deferred columns
(the workflow state) load lazily as before. The task row is marked loaded but stays out of the
session. An object the session already holds is refreshed in place, as ``populate_existing``
does. ``tests/integration/test_hot_writes.py`` compares what this gives with the ORM's own.

A start reads only the id and version of the process's newest definition (the parsed spec is
cached by id); loading the whole definition row through the ORM cost a sixth of a start.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import JSON, Column, Dialect, inspect
from sqlalchemy.orm import Mapper, Session, make_transient_to_detached

from .db import UTCDateTime
from .hotwrite import HUMAN, INSTANCE, driver_error, mark_clean, positional_placeholder
from .models import HumanTask, ProcessDefinition, ProcessInstance


@dataclass(frozen=True)
class _Read:
    sql: str
    locked_sql: str  # the same, locking the instance row (PostgreSQL)
    human_sql: str  # the task row alone, read again once the instance is locked
    human: tuple[tuple[str, Callable[[Any], Any] | None], ...]
    instance: tuple[tuple[str, Callable[[Any], Any] | None], ...]


def _loaded_columns(table: Any, mapped: type) -> list[Column[Any]]:
    """The columns the ORM loads up front (deferred ones, such as the state, load on access)."""
    mapper: Mapper[Any] = inspect(mapped)
    deferred = {prop.key for prop in mapper.column_attrs if prop.deferred}
    return [c for c in table.columns if c.key not in deferred]


@lru_cache(maxsize=8)
def _statement(dialect: Dialect) -> _Read:
    quote = dialect.identifier_preparer.quote
    human, instance = _loaded_columns(HUMAN, HumanTask), _loaded_columns(INSTANCE, ProcessInstance)
    columns = [f"h.{quote(c.name)}" for c in human] + [f"p.{quote(c.name)}" for c in instance]
    placeholder = positional_placeholder(dialect)
    # Identifiers come from the table metadata; the task id only ever travels as a parameter.
    sql = (f"SELECT {', '.join(columns)} FROM {quote(HUMAN.name)} AS h "  # noqa: S608
           f"JOIN {quote(INSTANCE.name)} AS p ON p.{quote('id')} = h.{quote('instance_id')} "
           f"WHERE h.{quote('id')} = {placeholder}")
    human_sql = (f"SELECT {', '.join(f'h.{quote(c.name)}' for c in human)} FROM {quote(HUMAN.name)} AS h "  # noqa: S608
                 f"WHERE h.{quote('id')} = {placeholder}")
    locked = f"{sql} FOR UPDATE OF p" if dialect.name == "postgresql" else sql

    def processors(cols: Sequence[Column[Any]]) -> tuple[tuple[str, Callable[[Any], Any] | None], ...]:
        return tuple((c.key, _result_processor(c, dialect)) for c in cols)

    return _Read(sql, locked, human_sql, processors(human), processors(instance))


def _result_processor(column: Column[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    """The column type's own conversion, except two that SQLAlchemy runs as a chain of calls:
    SQLite's timestamps (``UTCDateTime`` over ``DATETIME``) and JSON text, each one C call here
    (``tests/unit/test_hot_write_values.py`` compares them with SQLAlchemy's)."""
    if dialect.name == "sqlite" and isinstance(column.type, UTCDateTime):
        return sqlite_utc_datetime
    if isinstance(column.type, JSON):
        return json_value
    processor: Callable[[Any], Any] | None = column.type.dialect_impl(dialect).result_processor(dialect, None)
    return processor


def sqlite_utc_datetime(value: str | datetime | None) -> datetime | None:
    """A stored SQLite timestamp as an aware UTC datetime, as ``UTCDateTime`` returns it."""
    if value is None:
        return None
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def json_value(value: Any) -> Any:
    """JSON column text as values; what orjson refuses (integers beyond 64 bits) goes to json.
    psycopg hands PostgreSQL's json already decoded."""
    if not isinstance(value, str | bytes):
        return value
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return json.loads(value)


_MAPPERS: dict[type, Mapper[Any]] = {HumanTask: inspect(HumanTask), ProcessInstance: inspect(ProcessInstance)}


def _attach(session: Session, mapped: type, values: dict[str, Any], *, enter: bool = True) -> Any:
    """The persistent object for these freshly read values: the session's own, refreshed, or a
    new one marked as loaded, entered into the session unless ``enter`` is false."""
    mapper = _MAPPERS[mapped]
    key = mapper.identity_key_from_primary_key((values["id"],))
    held = session.identity_map.get(key)
    if held is not None:
        if "state" in inspect(held).dict and mapped is ProcessInstance:
            session.expire(held, ["state"])  # read again on access, as populate_existing would
        inspect(held).dict.update(values)
        mark_clean(held)
        return held
    obj = mapper.class_manager.new_instance()
    inspect(obj).dict.update(values)
    make_transient_to_detached(obj)
    if enter:
        session.add(obj)
    return obj


def task_and_instance(session: Session, task_id: str, *,
                      lock: bool = False) -> tuple[HumanTask, ProcessInstance] | None:
    """The human task ``task_id`` (detached unless the session held it) and its instance (in
    the session) as loaded ORM objects, or None.

    ``lock`` (PostgreSQL): the instance row is locked ``FOR UPDATE`` and the task row read again
    after the lock is granted, since a competitor holding the lock may have just completed it.
    """
    read = _statement(session.get_bind().dialect)
    row = _fetchone(session, read.locked_sql if lock else read.sql, task_id)
    if row is None:
        return None
    split = len(read.human)
    human_row = _fetchone(session, read.human_sql, task_id) if lock else row[:split]
    human_values = {k: (fn(v) if fn is not None else v)
                    for (k, fn), v in zip(read.human, human_row[:split], strict=True)}
    instance_values = {k: (fn(v) if fn is not None else v)
                       for (k, fn), v in zip(read.instance, row[split:], strict=True)}
    # The task row is the command's own business (its status is written back by the driver, then
    # it is marked clean); entering it into the session costs as much as reading it. A task the
    # session already holds is refreshed in place, so the caller's object follows the command.
    return (_attach(session, HumanTask, human_values, enter=False),
            _attach(session, ProcessInstance, instance_values))


@dataclass(frozen=True)
class DefinitionRef:
    """What starting an instance needs of a deployed definition (its spec is cached by id)."""

    id: int
    process_key: str
    version: int


@lru_cache(maxsize=8)
def _newest_sql(dialect: Dialect) -> str:
    quote = dialect.identifier_preparer.quote
    table = quote(ProcessDefinition.__tablename__)
    placeholder = positional_placeholder(dialect)
    return (f"SELECT {quote('id')}, {quote('version')} FROM {table} "  # noqa: S608 (identifiers from metadata)
            f"WHERE {quote('process_key')} = {placeholder} ORDER BY {quote('version')} DESC LIMIT 1")


def newest_definition(session: Session, process_key: str) -> DefinitionRef | None:
    """The newest deployed version of ``process_key``, or None."""
    row = _fetchone(session, _newest_sql(session.get_bind().dialect), process_key)
    return None if row is None else DefinitionRef(int(row[0]), process_key, int(row[1]))


def _fetchone(session: Session, sql: str, param: str) -> Any:
    connection = session.connection()
    dialect = connection.dialect
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, (param,))
        return cursor.fetchone()
    except dialect.loaded_dbapi.Error as exc:
        raise driver_error(dialect, sql, (param,), exc) from exc
    finally:
        cursor.close()

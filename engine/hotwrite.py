"""Core-level writes for the rows every command on an existing instance touches.

Why: a completion writes the instance row (state, version, chain head), one or two human-task
rows and one or two audit events. Through the ORM unit of work those statements cost about
0.9 ms of a 2.5 ms completion (``bench.engine``, SQLite); as plain Core statements they cost
a fraction of that. The ORM objects the command holds are kept in step (their new values are
marked committed), so a caller reading them after the command sees what was written, and the
session's final flush has nothing left to do for them. Everything rarer (new instances,
timers, subscriptions, outbox jobs, rows changed by operators) still goes through the ORM.

The instance UPDATE carries the optimistic version check the ORM's ``version_id_col`` did:
``WHERE id = ? AND row_version = ?``; no row updated means someone else committed first.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import JSON, Dialect, Table, inspect
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.orm import Session, make_transient_to_detached

from .db import UTCDateTime
from .errors import ConflictError
from .models import AuditEvent, HumanTask, ProcessInstance

INSTANCE: Table = ProcessInstance.__table__  # type: ignore[assignment]
HUMAN: Table = HumanTask.__table__  # type: ignore[assignment]
AUDIT: Table = AuditEvent.__table__  # type: ignore[assignment]


def mark_clean(obj: Any) -> None:
    """Tell the ORM that ``obj``'s current values are what the database holds.

    SQLAlchemy's own post-flush step (``InstanceState._commit_all``); there is no public
    equivalent that also drops the object from the session's modified set.
    """
    state = inspect(obj)
    state._commit_all(state.dict, state.session.identity_map if state.session is not None else None)


def changed_columns(obj: Any) -> dict[str, Any]:
    """Column values changed on a persistent ORM object since it was loaded (all of them, so
    that marking the object clean afterwards loses nothing another step changed)."""
    state = inspect(obj)
    columns = state.mapper.columns
    return {key: state.dict[key] for key in state.committed_state if key in columns and key in state.dict}


@dataclass(frozen=True)
class _Statement:
    """SQL text in the driver's own parameter style, with the column types' bind processors.

    Why not a Core statement: SQLAlchemy spends ~0.1 ms per execution building and cache-keying
    a fresh statement (~0.05 ms for a prebuilt one) against ~0.01 ms for the driver itself; a
    completion runs four of these. Values are converted exactly as Core would convert them
    (each column type's public ``bind_processor``), so rows read back identically.
    """

    sql: str
    processors: tuple[tuple[str, Callable[[Any], Any] | None], ...]

    def params(self, values: dict[str, Any]) -> dict[str, Any]:
        return {name: (fn(values[name]) if fn is not None else values[name]) for name, fn in self.processors}


def _json_text(value: Any) -> str:
    """JSON text for a JSON column: orjson's compact form, read back like the ORM's own."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # orjson.JSONEncodeError; e.g. an integer beyond 64 bits
        return json.dumps(value)


def sqlite_utc_text(value: datetime | None) -> str | None:
    """What ``UTCDateTime`` and SQLite's ``DATETIME`` together write, at a fifth of the cost:
    UTC without an offset, in the fixed text format whose text order is time order (inbox
    order relies on it). A naive time is refused, as ``UTCDateTime`` refuses it; a completion
    writes half a dozen timestamps. ``tests/unit/test_hot_write_values.py`` compares the two."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _placeholder(dialect: Dialect, name: str) -> str:
    return f":{name}" if dialect.name == "sqlite" else f"%({name})s"


def _processor(table: Table, name: str, dialect: Dialect) -> Callable[[Any], Any] | None:
    """The column type's own conversion; JSON is serialized here on every dialect (psycopg
    would otherwise adapt a Python list as an array: SQLAlchemy leaves JSON to a cast it
    renders into its own statements)."""
    if name not in table.c:
        return None
    column_type = table.c[name].type
    if isinstance(column_type, JSON):
        none_as_null = column_type.none_as_null
        return lambda value: None if value is None and none_as_null else _json_text(value)
    if isinstance(column_type, UTCDateTime) and dialect.name == "sqlite":
        return sqlite_utc_text
    # The dialect's implementation, as SQLAlchemy itself resolves it.
    processor: Callable[[Any], Any] | None = column_type.dialect_impl(dialect).bind_processor(dialect)
    return processor


@lru_cache(maxsize=256)
def _update(table: Table, keys: tuple[str, ...], versioned: bool, dialect: Dialect) -> _Statement:
    quote = dialect.identifier_preparer.quote
    sets = [f"{quote(k)} = {_placeholder(dialect, k)}" for k in keys]
    where = f"{quote('id')} = {_placeholder(dialect, '_id')}"
    if versioned:
        sets.append(f"{quote('row_version')} = {quote('row_version')} + 1")
        where += f" AND {quote('row_version')} = {_placeholder(dialect, '_version')}"
    # Identifiers come from the table metadata, values only ever travel as parameters.
    sql = f"UPDATE {quote(table.name)} SET {', '.join(sets)} WHERE {where}"  # noqa: S608
    names = (*keys, "_id", "_version") if versioned else (*keys, "_id")
    return _Statement(sql, tuple((n, _processor(table, n, dialect)) for n in names))


@lru_cache(maxsize=64)
def _insert(table: Table, keys: tuple[str, ...], dialect: Dialect) -> _Statement:
    quote = dialect.identifier_preparer.quote
    columns = ", ".join(quote(k) for k in keys)
    values = ", ".join(_placeholder(dialect, k) for k in keys)
    sql = f"INSERT INTO {quote(table.name)} ({columns}) VALUES ({values})"  # noqa: S608 (identifiers from metadata)
    return _Statement(sql, tuple((k, _processor(table, k, dialect)) for k in keys))


def driver_error(dialect: Dialect, sql: str, params: Any, exc: Exception) -> StatementError:
    """A driver error as SQLAlchemy itself would raise it (``OperationalError``,
    ``IntegrityError``...), so callers map lost races the same way whichever path ran."""
    return DBAPIError.instance(sql, params, exc, dialect.loaded_dbapi.Error, dialect=dialect)


def positional_placeholder(dialect: Dialect) -> str:
    return "?" if dialect.paramstyle == "qmark" else "%s"


class Writer:
    """The transaction's own driver cursor, opened once for every row one command writes.

    Even ``exec_driver_sql`` spends more time in SQLAlchemy's execution context than the driver
    spends on the statement, and asking the session for its connection and a new cursor per
    statement cost as much again. Driver errors are wrapped exactly as SQLAlchemy wraps them
    (``DBAPIError.instance``), so callers see ``OperationalError``/``IntegrityError`` as before.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        connection = session.connection()
        self.dialect: Dialect = connection.dialect
        self._cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self._cursor.close()

    def execute(self, stmt: _Statement, params: dict[str, Any] | list[dict[str, Any]]) -> int:
        """Run one statement (``executemany`` for a list); return the row count."""
        try:
            if isinstance(params, list):
                self._cursor.executemany(stmt.sql, params)
            else:
                self._cursor.execute(stmt.sql, params)
        except self.dialect.loaded_dbapi.Error as exc:
            raise driver_error(self.dialect, stmt.sql, params, exc) from exc
        count: int = self._cursor.rowcount
        return count

    def update_instance(self, row: ProcessInstance) -> None:
        """Write the instance's changed columns with the version check; raise ConflictError if it lost."""
        values = changed_columns(row)
        values.pop("row_version", None)
        version = row.row_version
        stmt = _update(INSTANCE, tuple(sorted(values)), True, self.dialect)
        if self.execute(stmt, stmt.params({**values, "_id": row.id, "_version": version})) != 1:
            raise ConflictError("this case was changed by someone else at the same time; reload and retry")
        row.row_version = version + 1
        mark_clean(row)

    def insert_instance(self, row: ProcessInstance) -> None:
        """Insert a new instance with every column set, then attach it to the session as loaded.

        ``make_transient_to_detached`` + ``add`` is SQLAlchemy's public way to say "this object
        already exists in the database"; the session will not insert it again.
        """
        state = inspect(row)
        values = {column.key: state.dict[column.key] for column in INSTANCE.columns}  # KeyError: a column left unset
        stmt = _insert(INSTANCE, tuple(sorted(values)), self.dialect)
        self.execute(stmt, stmt.params(values))
        make_transient_to_detached(row)
        self.session.add(row)

    def finish_human_tasks(self, rows: Sequence[HumanTask]) -> None:
        """Write the changed columns of human tasks that left the ready state."""
        for human in rows:
            values = changed_columns(human)
            if values:
                stmt = _update(HUMAN, tuple(sorted(values)), False, self.dialect)
                self.execute(stmt, stmt.params({**values, "_id": human.id}))
            mark_clean(human)

    def insert_rows(self, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        """Insert complete rows (every column but an autoincrement key), all with the same columns."""
        if not rows:
            return
        stmt = _insert(table, tuple(sorted(rows[0])), self.dialect)
        if len(rows) == 1:
            self.execute(stmt, stmt.params(rows[0]))
        else:
            self.execute(stmt, [stmt.params(r) for r in rows])

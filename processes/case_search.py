"""Helpers for the case list's package hooks (``ProcessPackage.case_text`` / ``case_officers``).

The case list (``web.case_list``) searches ``process_instance`` itself and asks each package for
the ids of its cases whose own record matches: a penalty case's number, party and facts, a
complaint's tracking number, target and facts. These helpers keep the hooks short and alike on
PostgreSQL and SQLite. No Flask, no package imports.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Text, cast
from sqlalchemy.sql import ColumnElement

ESCAPE = "\\"


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains_pattern(term: str) -> str:
    """``%term%`` with the term's own ``%``, ``_`` and ``\\`` taken literally."""
    return "%" + escape_like(term) + "%"


def matches(column: Any, pattern: str) -> ColumnElement[bool]:
    """Case-insensitive LIKE of a text column (ILIKE on PostgreSQL, lower() LIKE lower() on SQLite)."""
    return column.ilike(pattern, escape=ESCAPE)


def mentions(json_column: Any, user_id: str) -> ColumnElement[bool]:
    """A JSON list (of ids, or of objects with a ``user_id``) that names ``user_id`` as a string:
    its text contains ``"user_id"``. Portable (no JSON operators), exact on the quotes."""
    return cast(json_column, Text).like('%"' + escape_like(user_id) + '"%', escape=ESCAPE)

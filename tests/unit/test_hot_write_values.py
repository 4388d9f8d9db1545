"""Timestamps written by ``engine.hotwrite`` on SQLite are the text the ORM itself writes.

Inbox order and keyset paging compare this text; a different format (a ``T``, a missing
fraction, an offset) would sort wrongly without any error.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.dialects import sqlite

from engine.db import UTCDateTime
from engine.hotwrite import sqlite_utc_text

DIALECT = sqlite.dialect()
ORM = UTCDateTime().dialect_impl(DIALECT).bind_processor(DIALECT)


@pytest.mark.parametrize("value", [
    None,
    datetime(2026, 12, 1, 8, 0, tzinfo=UTC),
    datetime(2026, 12, 1, 16, 0, 0, 1, tzinfo=ZoneInfo("Asia/Shanghai")),
    datetime(2026, 1, 1, 0, 30, 59, 999999, tzinfo=timezone(timedelta(hours=-5))),
    datetime(9999, 12, 31, tzinfo=UTC),
    datetime(999, 3, 4, 5, 6, 7, tzinfo=UTC),
])
def test_fast_text_is_the_orm_text(value: datetime | None) -> None:
    assert ORM is not None
    assert sqlite_utc_text(value) == ORM(value)


def test_a_naive_time_is_refused_as_the_orm_refuses_it() -> None:
    assert ORM is not None
    with pytest.raises(ValueError, match="naive"):
        ORM(datetime(2026, 12, 1, 8, 0))
    with pytest.raises(ValueError, match="naive"):
        sqlite_utc_text(datetime(2026, 12, 1, 8, 0))

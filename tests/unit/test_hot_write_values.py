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


ORM_READ = UTCDateTime().dialect_impl(DIALECT).result_processor(DIALECT, None)


@pytest.mark.parametrize("text", [
    None, "2026-12-01 08:00:00.000000", "2026-12-01 08:00:00.000001", "9999-12-31 00:00:00.000000",
    "2026-12-01 08:00:00", "2026-02-28 23:59:59.999999",
])
def test_fast_read_is_the_orm_read(text: str | None) -> None:
    from engine.hotread import sqlite_utc_datetime

    assert ORM_READ is not None
    assert sqlite_utc_datetime(text) == ORM_READ(text)
    if text is not None:
        assert sqlite_utc_datetime(text).tzinfo is UTC  # type: ignore[union-attr]


def test_json_text_reads_back_whole() -> None:
    from engine.hotread import json_value

    assert json_value('["a","第二"]') == ["a", "第二"]
    assert json_value('{"serial": 1180591620717411303424}') == {"serial": 2**70}
    assert json_value(None) is None

"""Reading the days of a holiday arrangement as an administrator types them, one line at a time.

Why a parser of our own: the State Council's notice lists its days as ranges (春节：2月6日至12日
放假调休，共7天), and an administrator copies them line by line. A textarea of ``2027-02-06 至
2027-02-12 春节`` lines is quicker to type and to check against the notice than a date picker
per day. Pure functions, no Flask: every refusal names the line, and the caller writes nothing
when any line is refused. Messages are Chinese (the domain text); ``domain.po`` has the English.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, timedelta

MAX_RANGE_DAYS = 31
"""A single holiday is never longer (Spring Festival: 8 or 9 days); a longer range is a typo."""

_DAY = r"\d{4}-\d{1,2}-\d{1,2}"
_SEPARATOR = r"(?:至|到|\.\.|~|～)"
_LINE = re.compile(rf"(?P<start>{_DAY})(?:\s*{_SEPARATOR}\s*(?P<end>{_DAY}))?(?P<rest>.*)", re.DOTALL)
_NOT_A_COMMENT = re.compile(rf"^(?:[\d\-./]|{_SEPARATOR})")
_SHOWN = 40


class DayLineError(ValueError):
    """A line that is not a date or a range of dates: ``field`` is the form field, ``line`` its
    1-based number, ``message`` what the administrator reads."""

    def __init__(self, message: str, field: str, line: int) -> None:
        super().__init__(message)
        self.message, self.field, self.line = message, field, line


def _iso(text: str, field: str, number: int) -> date:
    year, month, day = (int(part) for part in text.split("-"))
    try:
        return date(year, month, day)
    except ValueError:
        raise DayLineError(f"第{number}行：{text} 不是有效日期", field, number) from None


def parse_day_lines(text: str | None, field: str, year: int | None = None) -> list[date]:
    """The days ``text`` names, in order: one ``2027-01-01`` or ``2027-02-06 至 2027-02-12``
    (also ``..``, ``~``) per line, each with an optional trailing comment; blank lines and lines
    starting with ``#`` are skipped. With ``year``, a day outside it is refused too."""
    days: list[date] = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        rest = match.group("rest").strip() if match else ""
        if match is None or _NOT_A_COMMENT.match(rest):
            shown = line if len(line) <= _SHOWN else line[:_SHOWN] + "…"
            raise DayLineError(
                f"第{number}行：“{shown}”不是日期或日期范围（如 2027-01-01 或 2027-02-06 至 2027-02-12）",
                field, number)
        start = _iso(match.group("start"), field, number)
        end = _iso(match.group("end"), field, number) if match.group("end") else start
        if end < start:
            raise DayLineError(f"第{number}行：范围的结束日期早于开始日期", field, number)
        if (end - start).days >= MAX_RANGE_DAYS:
            raise DayLineError(f"第{number}行：一个范围最多{MAX_RANGE_DAYS}天", field, number)
        for offset in range((end - start).days + 1):
            day = start + timedelta(days=offset)
            if year is not None and day.year != year:
                raise DayLineError(f"第{number}行：{day.isoformat()} 不在{year}年内", field, number)
            days.append(day)
    return days


def day_lines(days: Iterable[date]) -> str:
    """Days as the textarea takes them back, consecutive days as one ``..`` range per line: what
    re-entering a year starts from."""
    return "\n".join(day_ranges(days, ".."))


def day_ranges(days: Iterable[date], joiner: str = " – ") -> list[str]:
    """Consecutive days joined into ranges (``2027-02-06 – 2027-02-12``), as the page lists them."""
    runs: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if runs and day == runs[-1][1] + timedelta(days=1):
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return [first.isoformat() if first == last else f"{first.isoformat()}{joiner}{last.isoformat()}"
            for first, last in runs]

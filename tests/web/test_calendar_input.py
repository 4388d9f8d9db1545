"""The textarea syntax of the calendar admin form (``web.calendar_input``): dates and ranges one
per line with comments, each bad line refused by number, and the English of every calendar
message, those made with values included. The 2027 days are made up, not the State Council's."""

from __future__ import annotations

from datetime import date

import pytest

from web.calendar_input import DayLineError, day_lines, parse_day_lines
from web.i18n import domain_text, has_domain_translation

HOLIDAYS = ("2027-01-01 元旦（测试用）\n\n# 春节，测试用，非真实安排\n"
            "2027-02-06 至 2027-02-12 春节\n2027-05-03..2027-05-04")


def test_lines_of_dates_and_ranges_with_comments() -> None:
    days = parse_day_lines(HOLIDAYS, "holidays", 2027)
    assert days[0] == date(2027, 1, 1) and len(days) == 1 + 7 + 2
    assert date(2027, 2, 9) in days and date(2027, 5, 4) in days
    assert parse_day_lines("2027-1-2 ~ 2027-1-3\n2027-10-01～2027-10-02（国庆）", "holidays") == [
        date(2027, 1, 2), date(2027, 1, 3), date(2027, 10, 1), date(2027, 10, 2)]
    assert parse_day_lines("", "workdays") == [] and parse_day_lines(None, "workdays") == []
    # What re-entering a year starts from reads back as the same days.
    assert day_lines(days) == "2027-01-01\n2027-02-06..2027-02-12\n2027-05-03..2027-05-04"
    assert parse_day_lines(day_lines(days), "holidays", 2027) == sorted(days)


@pytest.mark.parametrize(("text", "year", "line", "message"), [
    ("2027-01-01\n2027-02-30 春节", 2027, 2, "第2行：2027-02-30 不是有效日期"),
    ("元旦", None, 1, "第1行：“元旦”不是日期或日期范围（如 2027-01-01 或 2027-02-06 至 2027-02-12）"),
    ("2027/01/01", None, 1, "第1行：“2027/01/01”不是日期或日期范围"),
    ("2027-01-01 至", None, 1, "不是日期或日期范围"),
    ("2027-01-012", None, 1, "不是日期或日期范围"),
    ("\n2027-02-12 至 2027-02-06", None, 2, "第2行：范围的结束日期早于开始日期"),
    ("2027-01-01 至 2027-03-01", None, 1, "第1行：一个范围最多31天"),
    ("2027-12-31 至 2028-01-01", 2027, 1, "第1行：2028-01-01 不在2027年内"),
])
def test_a_bad_line_is_refused_naming_it(text: str, year: int | None, line: int, message: str) -> None:
    with pytest.raises(DayLineError) as refused:
        parse_day_lines(text, "holidays", year)
    assert (refused.value.field, refused.value.line) == ("holidays", line)
    assert refused.value.message.startswith(message) or message in refused.value.message


def test_the_calendar_messages_have_english() -> None:
    from web.admin_calendar import DAY_REQUIRED, KIND_REQUIRED, YEAR_REQUIRED

    for text in (YEAR_REQUIRED, DAY_REQUIRED, KIND_REQUIRED):
        assert has_domain_translation(text), text
    made = {  # messages built with values: each value is put back into the English
        "第2行：2027-02-30 不是有效日期": "Line 2: 2027-02-30 is not a valid date",
        "第1行：2028-01-01 不在2027年内": "Line 1: 2028-01-01 is not in 2027",
        "2028-01-01 不在2027年内": "2028-01-01 is not in 2027",
        "2027-01-06 本是工作日，无需登记为调休上班":
            "2027-01-06 is a weekday: it is a working day anyway and is not entered as a make-up working day",
        "2026年的安排已由 chinesecalendar 提供，只能按日更正":
            "The arrangement for 2026 comes with chinesecalendar: correct single days instead",
        "年份应在2004至2200之间": "The year must be between 2004 and 2200",
        "依据不能超过200个字": "The source may have at most 200 characters",
        "2026-10-09 没有更正记录": "2026-10-09 has no correction to remove",
    }
    for chinese, english in made.items():
        assert domain_text(chinese, "en") == english

"""Art. 85 deadlines on the real Chinese calendar.

Every expected date below was counted by hand on the State Council's arrangements:

* National Day / Mid-Autumn 2025: Wed 10-01 .. Wed 10-08 off; Sun 09-28 and Sat 10-11 are
  make-up working days.
* Spring Festival 2026: Sun 02-15 .. Mon 02-23 off; Sat 02-14 and Sat 02-28 are make-up
  working days (chinesecalendar 1.11 data).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from engine.calendar import (
    CHINA_TZ,
    CalendarUnknownYear,
    Deadline,
    WorkCalendar,
    WorkdayCount,
    default_calendar,
)

CAL = default_calendar()


# -- the days themselves -----------------------------------------------------------------------

@pytest.mark.parametrize(("day", "expected"), [
    (date(2025, 9, 26), True),    # Friday
    (date(2025, 9, 27), False),   # Saturday
    (date(2025, 9, 28), True),    # Sunday, make-up working day
    (date(2025, 10, 1), False),   # National Day
    (date(2025, 10, 6), False),   # Mid-Autumn, inside the golden week
    (date(2025, 10, 8), False),   # last day off
    (date(2025, 10, 9), True),
    (date(2025, 10, 11), True),   # Saturday, make-up working day
    (date(2025, 10, 12), False),  # Sunday
    (date(2026, 2, 14), True),    # Saturday, make-up before Spring Festival
    (date(2026, 2, 16), False),   # Spring Festival eve
    (date(2026, 2, 23), False),   # Monday, still off
    (date(2026, 2, 24), True),
    (date(2026, 2, 28), True),    # Saturday, make-up after Spring Festival
])
def test_is_workday_follows_the_state_council(day: date, expected: bool) -> None:
    assert CAL.is_workday(day) is expected


def test_is_workday_refuses_to_guess_an_unknown_year() -> None:
    with pytest.raises(CalendarUnknownYear) as info:
        CAL.is_workday(date(2031, 3, 3))
    assert info.value.year == 2031
    assert "2031" in str(info.value)


def test_knows_year() -> None:
    assert CAL.knows_year(2025)
    assert CAL.knows_year(2026)
    assert not CAL.knows_year(2031)
    assert WorkCalendar(complete_years=[2031]).knows_year(2031)
    assert not WorkCalendar({date(2031, 1, 1): False}).knows_year(2031)


# -- working-day periods -------------------------------------------------------------------------

def test_start_day_is_not_counted() -> None:
    # Mon 2025-09-15 + 1 working day is Tuesday, not Monday itself.
    assert CAL.add_workdays(date(2025, 9, 15), 1) == Deadline(date(2025, 9, 16), True, ())
    assert CAL.add_workdays(date(2025, 9, 15), 0).due == date(2025, 9, 15)
    # From a Saturday, the count starts on Monday.
    assert CAL.add_workdays(date(2025, 9, 13), 1).due == date(2025, 9, 15)


def test_five_working_days_across_national_day() -> None:
    # 10-09 (1), 10-10 (2), Sat 10-11 make-up (3), Mon 10-13 (4), Tue 10-14 (5).
    assert CAL.add_workdays(date(2025, 9, 30), 5) == Deadline(date(2025, 10, 14), True, ())


def test_seven_working_days_count_both_make_up_days() -> None:
    # Served Fri 09-26: Sun 09-28 (1), 09-29 (2), 09-30 (3), holiday, 10-09 (4), 10-10 (5),
    # Sat 10-11 (6), Mon 10-13 (7).
    assert CAL.add_workdays(date(2025, 9, 26), 7).due == date(2025, 10, 13)


def test_working_days_across_spring_festival_2026() -> None:
    assert CAL.add_workdays(date(2026, 2, 13), 1).due == date(2026, 2, 14)  # make-up Saturday
    assert CAL.add_workdays(date(2026, 2, 13), 2).due == date(2026, 2, 24)
    # Thu 02-12: 02-13 (1), Sat 02-14 (2), nine days off, 02-24 (3), 02-25 (4), 02-26 (5).
    assert CAL.add_workdays(date(2026, 2, 12), 5).due == date(2026, 2, 26)


def test_next_workday() -> None:
    assert CAL.next_workday(date(2025, 9, 30)).due == date(2025, 10, 9)
    assert CAL.next_workday(date(2026, 2, 13)).due == date(2026, 2, 14)
    assert CAL.next_workday_strict(date(2025, 10, 10)) == date(2025, 10, 11)


def test_negative_or_non_integer_periods_are_rejected() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        CAL.add_workdays(date(2025, 9, 30), -1)
    with pytest.raises(ValueError, match=">= 0"):
        CAL.add_days(date(2025, 9, 30), -1)
    with pytest.raises(TypeError):
        CAL.add_workdays(date(2025, 9, 30), 1.5)  # type: ignore[arg-type]


# -- calendar-day periods ------------------------------------------------------------------------

def test_fifteen_days_ending_on_national_day_rolls_to_next_working_day() -> None:
    # Sat 09-20 + 15 = Sun 10-05 (holiday) -> rolls over 10-06..10-08 to Thu 10-09.
    assert CAL.add_days(date(2025, 9, 20), 15) == Deadline(date(2025, 10, 9), True, ())


def test_fifteen_days_ending_in_spring_festival_rolls_past_the_in_lieu_monday() -> None:
    # 02-01 + 15 = Mon 02-16 -> off until Mon 02-23 -> Tue 02-24.
    assert CAL.add_days(date(2026, 2, 1), 15).due == date(2026, 2, 24)


def test_calendar_period_ending_on_a_make_up_saturday_does_not_roll() -> None:
    assert CAL.add_days(date(2026, 2, 13), 15).due == date(2026, 2, 28)


def test_calendar_period_ending_on_an_ordinary_weekend_rolls_to_monday() -> None:
    # Fri 2025-06-06 + 15 = Sat 06-21 -> Mon 06-23.
    assert CAL.add_days(date(2025, 6, 6), 15).due == date(2025, 6, 23)


def test_ninety_days_is_not_affected_by_holidays_in_between() -> None:
    # 2025-09-01 + 90 = Sun 11-30 -> Mon 12-01, the golden week inside does not matter.
    assert CAL.add_days(date(2025, 9, 1), 90).due == date(2025, 12, 1)


# -- remaining working days (inbox) --------------------------------------------------------------

def test_workdays_between_inverts_add_workdays() -> None:
    start = date(2025, 9, 30)
    assert CAL.workdays_between(start, date(2025, 10, 14)) == 5
    assert CAL.workdays_between(start, start) == 0
    assert CAL.workdays_between(start, date(2025, 10, 8)) == 0   # only holidays left
    assert CAL.workdays_between(date(2025, 10, 14), start) == -5  # overdue
    assert CAL.workdays_between_strict(date(2026, 2, 12), date(2026, 2, 26)) == 5


def test_count_workdays_flags_guessed_years() -> None:
    assert CAL.count_workdays(date(2026, 12, 30), date(2027, 1, 5)) == WorkdayCount(4, False, (2027,))
    with pytest.raises(CalendarUnknownYear):
        CAL.workdays_between_strict(date(2026, 12, 30), date(2027, 1, 5))


# -- years nobody knows yet ---------------------------------------------------------------------

def test_unknown_year_is_computed_on_weekdays_but_flagged() -> None:
    # Mon 2031-01-06 + 5 working days on the weekday rule: Mon 01-13.
    result = CAL.add_workdays(date(2031, 1, 6), 5)
    assert result == Deadline(date(2031, 1, 13), certain=False, unknown_years=(2031,))


def test_strict_variant_raises_for_unknown_year() -> None:
    with pytest.raises(CalendarUnknownYear) as info:
        CAL.add_workdays_strict(date(2031, 1, 6), 5)
    assert info.value.year == 2031
    with pytest.raises(CalendarUnknownYear):
        CAL.add_days_strict(date(2031, 1, 6), 15)


def test_period_running_into_an_unannounced_year_is_flagged() -> None:
    # 2026-12-20 + 15 = 2027-01-04: New Year 2027 has not been announced.
    assert CAL.add_days(date(2026, 12, 20), 15) == Deadline(date(2027, 1, 4), False, (2027,))
    # Ending well inside the known year it stays certain.
    assert CAL.add_days(date(2026, 12, 1), 15) == Deadline(date(2026, 12, 16), True, ())


def test_entering_the_2031_arrangement_makes_it_certain() -> None:
    # A made-up 2031 New Year: Wed 01-01 .. Fri 01-03 off, Sat 01-04 a make-up working day.
    overrides = {date(2031, 1, 1): False, date(2031, 1, 2): False, date(2031, 1, 3): False,
                 date(2031, 1, 4): True}
    cal = WorkCalendar(overrides, complete_years=[2031])
    # Tue 2030-12-31 is still unknown, so start there but count only 2031 days:
    # Sat 01-04 (1), Mon 01-06 (2), Tue 01-07 (3).
    assert cal.add_workdays(date(2030, 12, 31), 3) == Deadline(date(2031, 1, 7), True, ())
    assert cal.add_workdays_strict(date(2031, 1, 6), 5) == date(2031, 1, 13)
    assert cal.is_workday(date(2031, 1, 4)) is True
    assert cal.is_workday(date(2031, 1, 5)) is False  # plain Sunday, year marked complete


def test_partial_overrides_without_complete_year_stay_uncertain() -> None:
    cal = WorkCalendar({date(2031, 1, 1): False})
    assert cal.is_workday(date(2031, 1, 1)) is False  # this day was entered explicitly
    result = cal.add_workdays(date(2030, 12, 31), 1)
    assert result == Deadline(date(2031, 1, 2), False, (2031,))


def test_single_date_override_corrects_a_known_year() -> None:
    # Suppose 2025-10-09 were declared an extra day off: 5 working days then end a day later.
    cal = WorkCalendar({date(2025, 10, 9): False})
    assert cal.is_workday(date(2025, 10, 9)) is False
    assert cal.add_workdays(date(2025, 9, 30), 5) == Deadline(date(2025, 10, 15), True, ())
    # And the other way round: a Sunday made a working day.
    cal = WorkCalendar({date(2025, 10, 12): True})
    assert cal.add_workdays(date(2025, 9, 30), 5).due == date(2025, 10, 13)


def test_complete_year_does_not_wipe_library_holidays() -> None:
    cal = WorkCalendar(complete_years=[2025])
    assert cal.is_workday(date(2025, 10, 1)) is False


# -- datetimes -----------------------------------------------------------------------------------

def test_datetime_keeps_time_and_timezone() -> None:
    served = datetime(2025, 9, 30, 15, 30, tzinfo=CHINA_TZ)
    result = CAL.add_workdays(served, 5)
    assert result.due == datetime(2025, 10, 14, 15, 30, tzinfo=CHINA_TZ)
    assert isinstance(result.due, datetime)


def test_aware_datetime_is_counted_on_its_day_in_china() -> None:
    # 2025-09-30 20:00 UTC is already 10-01 04:00 in Beijing (a holiday).
    served = datetime(2025, 9, 30, 20, 0, tzinfo=UTC)
    due = CAL.add_workdays(served, 1).due
    assert due == datetime(2025, 10, 9, 4, 0, tzinfo=CHINA_TZ)
    assert due.tzinfo is UTC


def test_naive_datetime_is_china_local_time() -> None:
    due = CAL.add_days(datetime(2025, 9, 20, 9, 0), 15).due
    assert due == datetime(2025, 10, 9, 9, 0)
    assert due.tzinfo is None


def test_fixed_offset_datetime_round_trips() -> None:
    plus8 = timezone(timedelta(hours=8))
    due = CAL.add_workdays(datetime(2026, 2, 13, 18, 0, tzinfo=plus8), 2).due
    assert due == datetime(2026, 2, 24, 18, 0, tzinfo=plus8)
    assert due.utcoffset() == timedelta(hours=8)


def test_override_keyed_by_datetime_counts_as_its_day() -> None:
    cal = WorkCalendar({datetime(2025, 10, 9, 0, 0): False})
    assert cal.is_workday(date(2025, 10, 9)) is False

"""The complaint deadlines, computed in one place from a complaint's own rules and the calendar.

Why in Python and not in BPMN expressions: the same due date is needed by the BPMN (task due
dates, boundary timers), the register (lists, the overdue filter, statistics) and the urging
operator, and a paused period moves it. Operators compute it here and return it to the
process (``handling['handling_due']``), so there is one formula per period.
Working-day periods use ``add_workdays`` and calendar-day periods ``add_days`` (a period
never counts its start day; a calendar period ending on a non-working day rolls on).
"""

from __future__ import annotations

from datetime import date, datetime, time

from engine.calendar import CHINA_TZ, WorkCalendar

from .rules import Rules

REMIND_HOUR = 8  # reminders go out at 08:00 China time


def acceptance_due(calendar: WorkCalendar, rules: Rules, kind: str, start: date) -> date:
    """投诉/举报: decide within N working days; 信访: tell in writing within N days."""
    if kind == "petition":
        return calendar.add_days(start, rules.number("acceptance", "petition_notice_days")).due
    name = "complaint_workdays" if kind == "complaint" else "report_workdays"
    return calendar.add_workdays(start, rules.number("acceptance", name)).due


def handling_due(calendar: WorkCalendar, rules: Rules, kind: str, accepted_on: date) -> date:
    """举报 verification, 投诉 mediation cap, 信访 handling opinion, counted from acceptance."""
    if kind == "petition":
        return calendar.add_days(accepted_on, rules.number("petition", "handling_days")).due
    if kind == "complaint":
        return calendar.add_workdays(accepted_on, rules.number("mediation", "max_workdays")).due
    return calendar.add_workdays(accepted_on, rules.number("verification", "report_workdays")).due


def extended_due(calendar: WorkCalendar, rules: Rules, kind: str, due: date) -> date:
    """The due date after one approved extension (+15 working days for a report, +30 days for 信访)."""
    if kind == "petition":
        return calendar.add_days(due, rules.number("petition", "extension_days")).due
    return calendar.add_workdays(due, rules.number("verification", "extension_workdays")).due


def remind_on(calendar: WorkCalendar, rules: Rules, due: date, today: date) -> date:
    """N working days before ``due`` (not before ``today``)."""
    n = rules.number("urging", "reminder_workdays_before")
    day = due
    while day > today:
        day = date.fromordinal(day.toordinal() - 1)
        if calendar.count_workdays(day, due).days >= n:
            break
    return max(day, today)


def at_morning(day: date) -> str:
    return datetime.combine(day, time(REMIND_HOUR), CHINA_TZ).isoformat()


def end_of(day: date) -> str:
    return datetime.combine(day, time(23, 59, 59), CHINA_TZ).isoformat()


def urge_cycle(rules: Rules, due: date) -> str:
    """ISO 8601 repetition for the overdue boundary timer: first at the end of the due day, then
    every ``repeat_days``; ``max_rounds`` 督办单 and one escalation."""
    rounds = rules.number("urging", "max_rounds") + 1
    return f"R{rounds}/{end_of(due)}/P{rules.number('urging', 'repeat_days')}D"


def window(calendar: WorkCalendar, rules: Rules, due: date, today: date) -> dict[str, str]:
    """What the BPMN needs about one deadline: the due day, the reminder moment, the urging cycle."""
    return {"due": due.isoformat(), "remind_at": at_morning(remind_on(calendar, rules, due, today)),
            "urge_cycle": urge_cycle(rules, due)}


def shift_by_workdays(calendar: WorkCalendar, due: date, workdays: int) -> date:
    """A due date moved by the working days a pause took (pauses are not counted)."""
    return calendar.add_workdays(due, workdays).due if workdays > 0 else due


def paused_workdays(calendar: WorkCalendar, started: date, ended: date) -> int:
    """Working days from ``started`` (inclusive) to ``ended`` (exclusive): the days not counted."""
    if ended <= started:
        return 0
    return calendar.count_workdays(date.fromordinal(started.toordinal() - 1),
                                   date.fromordinal(ended.toordinal() - 1)).days

"""An administrator enters a year's holiday arrangement; deadlines reaching it stop being guesses.

``chinesecalendar`` 1.11 ends with 2026, so today a 5-working-day period started on
2026-12-28 runs into an unannounced 2027 and is flagged. The arrangement used here is made up
for the test (only 2027-01-01 off, one make-up Saturday); it is not the State Council's.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import (
    InvalidData,
    PermissionDenied,
    calendar_years,
    correct_day,
    enter_year,
    load_calendar,
    set_due,
    start,
    uncertain_tasks,
    verify_audit,
    year_status,
)
from engine.dbconnect import make_engine
from engine.models import AuditEvent, CalendarOverride, CalendarYear, HumanTask
from tests.engine_helpers import ADMIN, HEAD, OFFICER, deploy_fixture

MONDAY_BEFORE_NEW_YEAR = datetime(2026, 12, 28, 1, 0, tzinfo=UTC)  # 09:00 in China
NOTICE = "测试用安排（非国务院通知）"


def _register_due(session: Session) -> HumanTask:
    instance = start(session, "case_lead", OFFICER, {"source": "complaint"}, now=MONDAY_BEFORE_NEW_YEAR)
    session.commit()
    [task] = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id))
    return task


def _snapshot(session: Session) -> tuple[int, int, int]:
    return (session.scalar(select(func.count()).select_from(CalendarOverride)) or 0,
            session.scalar(select(func.count()).select_from(CalendarYear)) or 0,
            session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def test_entering_2027_makes_its_deadlines_certain_and_lists_the_guessed_ones(db_session: Session) -> None:
    deploy_fixture(db_session, "lead")
    guessed = _register_due(db_session)
    assert guessed.due_uncertain and guessed.due_at is not None
    assert guessed.due_at.date() == date(2027, 1, 4)  # 01-01 counted as a working day: a guess
    assert year_status(db_session, 2027).source == "unknown"
    assert [t.id for t in uncertain_tasks(db_session, 2027)] == [guessed.id]

    status = enter_year(db_session, ADMIN, 2027, [date(2027, 1, 1), date(2027, 1, 2)], [date(2027, 1, 9)], NOTICE)
    db_session.commit()
    assert (status.source, status.holidays, status.workdays) == (
        "entered", (date(2027, 1, 1), date(2027, 1, 2)), (date(2027, 1, 9),))
    assert status.entered_by == "admin" and status.uncertain_tasks == 1  # still to be checked by a head
    calendar = load_calendar(db_session)  # this process sees the entry at once
    assert calendar.knows_year(2027) and not calendar.is_workday(date(2027, 1, 1))
    assert calendar.is_workday(date(2027, 1, 9))  # the make-up Saturday
    new = _register_due(db_session)
    assert not new.due_uncertain and new.due_at is not None and new.due_at.date() == date(2027, 1, 5)

    # The head checks the guessed deadline and moves it to the true one: no longer flagged.
    set_due(db_session, guessed.id, HEAD, datetime(2027, 1, 5, 15, 59, 59, tzinfo=UTC), "按2027年节假日安排核实")
    db_session.commit()
    assert uncertain_tasks(db_session, 2027) == [] and year_status(db_session, 2027).uncertain_tasks == 0
    years = {y.year: y.source for y in calendar_years(db_session, date(2026, 12, 1))}
    assert years == {2025: "library", 2026: "library", 2027: "entered", 2028: "unknown"}


def test_a_year_with_guessed_deadlines_is_listed_however_far_ahead(db_session: Session) -> None:
    deploy_fixture(db_session, "lead")
    task = _register_due(db_session)  # due in 2027, guessed
    years = [y.year for y in calendar_years(db_session, date(2031, 6, 1))]
    assert years == [2027, 2030, 2031, 2032, 2033]
    assert next(y for y in calendar_years(db_session, date(2031, 6, 1)) if y.year == 2027).uncertain_tasks == 1
    assert task.due_uncertain
    assert verify_audit(db_session).ok


def test_re_entering_a_year_replaces_it_and_the_trail_keeps_what_it_replaced(db_session: Session) -> None:
    enter_year(db_session, ADMIN, 2027, [date(2027, 1, 1)], [], NOTICE)
    db_session.commit()
    enter_year(db_session, ADMIN, 2027, [date(2027, 1, 1), date(2027, 2, 11)], [date(2027, 2, 20)], "更正后的安排")
    db_session.commit()
    status = year_status(db_session, 2027)
    assert status.holidays == (date(2027, 1, 1), date(2027, 2, 11)) and status.workdays == (date(2027, 2, 20),)
    assert status.note == "更正后的安排"
    events = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "calendar_year_entered")
                                .order_by(AuditEvent.id)).all()
    assert [e.actor for e in events] == ["admin", "admin"]
    assert events[0].data["replaced"] is None
    assert events[1].data["replaced"] == {"holidays": ["2027-01-01"], "workdays": []}
    correct_day(db_session, ADMIN, date(2027, 1, 4), False, "补充通知")  # the year's source stays the notice
    assert year_status(db_session, 2027).note == "更正后的安排"


def test_entering_a_year_after_single_day_corrections_records_them_as_replaced(db_session: Session) -> None:
    correct_day(db_session, ADMIN, date(2027, 3, 1), False, "临时安排")
    enter_year(db_session, ADMIN, 2027, [date(2027, 1, 1)], [], NOTICE)
    db_session.commit()
    [event] = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "calendar_year_entered")).all()
    assert event.data["replaced"] == {"holidays": ["2027-03-01"], "workdays": []}
    assert year_status(db_session, 2027).holidays == (date(2027, 1, 1),)


@pytest.mark.parametrize(("actor", "year", "holidays", "workdays", "note", "error"), [
    (HEAD, 2027, [date(2027, 1, 1)], [], NOTICE, PermissionDenied),
    (ADMIN, 2026, [date(2026, 1, 1)], [], NOTICE, InvalidData),  # the library knows 2026
    (ADMIN, 1999, [date(1999, 1, 1)], [], NOTICE, InvalidData),
    (ADMIN, 2027, [date(2028, 1, 1)], [], NOTICE, InvalidData),  # not in the year
    (ADMIN, 2027, [], [date(2027, 1, 9)], NOTICE, InvalidData),  # no day off at all
    (ADMIN, 2027, [date(2027, 1, 9)], [date(2027, 1, 9)], NOTICE, InvalidData),  # off and on
    (ADMIN, 2027, [date(2027, 1, 1)], [date(2027, 1, 6)], NOTICE, InvalidData),  # a Wednesday is no make-up day
    (ADMIN, 2027, [date(2027, 1, 1)], [], "  ", InvalidData),  # no source
    (ADMIN, 2027, ["2027-01-01"], [], NOTICE, InvalidData),
])
def test_a_bad_arrangement_is_refused_and_writes_nothing(db_session: Session, actor: object, year: int,
                                                         holidays: list[object], workdays: list[object],
                                                         note: str, error: type[Exception]) -> None:
    before = _snapshot(db_session)
    with pytest.raises(error):
        enter_year(db_session, actor, year, holidays, workdays, note)  # type: ignore[arg-type]
    db_session.rollback()
    assert _snapshot(db_session) == before
    assert not load_calendar(db_session).knows_year(2027)


def test_a_single_day_is_corrected_and_the_correction_removed(db_session: Session) -> None:
    day = date(2026, 10, 9)  # a working day in the library's 2026
    assert load_calendar(db_session).is_workday(day)
    correct_day(db_session, ADMIN, day, False, "补充通知：当日放假")
    db_session.commit()
    assert not load_calendar(db_session).is_workday(day)
    with pytest.raises(PermissionDenied):
        correct_day(db_session, OFFICER, day, None, "撤销")
    correct_day(db_session, ADMIN, day, None, "补充通知撤销")
    db_session.commit()
    assert load_calendar(db_session).is_workday(day)
    with pytest.raises(InvalidData):
        correct_day(db_session, ADMIN, day, None, "没有可撤销的更正")
    actions = [(e.data["before"], e.data["is_workday"]) for e in db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "calendar_day_corrected").order_by(AuditEvent.id))]
    assert actions == [(None, False), (False, None)]


def test_each_database_has_its_own_calendar(db_session: Session, db_url: str, tmp_path: object) -> None:
    """One process serving two databases (tests, a migration tool) never mixes their overrides."""
    from sqlalchemy.orm import sessionmaker

    from migrations.runner import upgrade

    other_url = f"sqlite:///{tmp_path}/other.db"
    upgrade(other_url)
    load_calendar(db_session)  # cached for the first database
    engine = make_engine(other_url)
    try:
        with sessionmaker(engine)() as other:
            enter_year(other, ADMIN, 2027, [date(2027, 1, 1)], [], NOTICE)
            other.commit()
            assert load_calendar(other).knows_year(2027)
        assert not load_calendar(db_session).knows_year(2027)
    finally:
        engine.dispose()

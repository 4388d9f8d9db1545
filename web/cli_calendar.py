"""``weijian calendar``: the working-day calendar from a shell, for the day the State Council's
holiday notice comes out and nobody wants to open a browser (or for scripting a year's entry).

The same engine verbs as the admin page (``engine.calendar_admin``), acting as a named
administrator of the staff directory, so the audit trail says who entered what.
"""

from __future__ import annotations

import sys
from datetime import date, datetime
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from engine import Actor

def parse_days(values: tuple[str, ...], year: int | None = None) -> list[date]:
    """ISO dates and ``FIRST..LAST`` ranges, read as the admin page reads its lines."""
    from web.calendar_input import DayLineError, parse_day_lines

    try:
        return parse_day_lines("\n".join(values), "days", year)
    except DayLineError as exc:
        raise click.BadParameter(exc.message) from exc


@click.group()
def calendar() -> None:
    """Working-day calendar: enter each year's holiday arrangement, correct single days."""


def _admin(session: Session, username: str) -> Actor:
    from processes.directory.models import User
    from processes.directory.services import actor_for

    user = session.get(User, username)
    if user is None or not user.active:
        click.echo(f"no active user {username}", err=True)
        sys.exit(1)
    return actor_for(session, user)


@calendar.command("show")
@click.argument("year", type=int, required=False)
def show(year: int | None) -> None:
    """The years around today (or one YEAR): where their working days come from."""
    from engine import calendar_years, year_status
    from engine.clock import china_today
    from integrations.db import session_scope

    with session_scope() as session:
        years = [year_status(session, year)] if year else calendar_years(session, china_today())
        for status in years:
            click.echo(f"{status.year}  {status.source:8s}  days off {len(status.holidays):3d}  "
                       f"make-up days {len(status.workdays):2d}  guessed deadlines {status.uncertain_tasks}"
                       + (f"  entered by {status.entered_by}" if status.entered_by else ""))
            if year:
                for day in status.holidays:
                    click.echo(f"  off  {day.isoformat()}")
                for day in status.workdays:
                    click.echo(f"  work {day.isoformat()}")


@calendar.command("enter")
@click.argument("year", type=int)
@click.option("--off", "off", multiple=True, required=True, help="a day off, or FIRST..LAST (repeatable)")
@click.option("--on", "on", multiple=True, help="a make-up working weekend day, or FIRST..LAST (repeatable)")
@click.option("--note", required=True, help="the notice it comes from, e.g. its document number")
@click.option("--as", "username", required=True, help="the administrator entering it")
def enter(year: int, off: tuple[str, ...], on: tuple[str, ...], note: str, username: str) -> None:
    """Enter (or replace) YEAR's whole arrangement."""
    from engine import EngineError, enter_year
    from integrations.db import session_scope

    holidays, workdays = parse_days(off, year), parse_days(on, year)
    try:
        with session_scope() as session:
            status = enter_year(session, _admin(session, username), year, holidays, workdays, note)
    except EngineError as exc:
        click.echo(f"not entered: {exc.message}", err=True)
        sys.exit(1)
    click.echo(f"entered {year}: {len(status.holidays)} days off, {len(status.workdays)} make-up days; "
               f"{status.uncertain_tasks} open task(s) with a guessed deadline in {year} to check")


@calendar.command("correct")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--workday", "kind", flag_value="workday", help="the day is a working day")
@click.option("--day-off", "kind", flag_value="off", help="the day is a day off")
@click.option("--remove", "kind", flag_value="remove", help="drop the correction of this day")
@click.option("--note", required=True, help="why (the notice or its amendment)")
@click.option("--as", "username", required=True, help="the administrator correcting it")
def correct(day: datetime, kind: str | None, note: str, username: str) -> None:
    """Correct one DAY (any year), or remove its correction."""
    from engine import EngineError, correct_day
    from integrations.db import session_scope

    if kind is None:
        raise click.UsageError("say --workday, --day-off or --remove")
    value = {"workday": True, "off": False, "remove": None}[kind]
    try:
        with session_scope() as session:
            correct_day(session, _admin(session, username), day.date(), value, note)
    except EngineError as exc:
        click.echo(f"not corrected: {exc.message}", err=True)
        sys.exit(1)
    click.echo(f"{day.date().isoformat()}: {kind}")

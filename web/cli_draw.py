"""``weijian draw verify <id>`` / ``weijian draw schedules``: re-verify a double-random draw from
its stored snapshot, seed and algorithm, and list recurring plans.

Why a command of its own: anyone holding a copy of the database (an auditor, the supervising
authority) must be able to recompute a draw without the web app; the exit status says whether it
is identical (0) or not (1), and every difference is printed.
"""

from __future__ import annotations

import sys

import click


@click.group("draw")
def draw() -> None:
    """Double-random draws (双随机抽取)."""


@draw.command("verify")
@click.argument("draw_id")
def draw_verify(draw_id: str) -> None:
    """Recompute DRAW_ID and compare it with what was recorded."""
    from integrations.db import session_scope
    from processes.directory.services import DirectoryError
    from processes.inspections import verify_draw

    with session_scope() as session:
        try:
            report = verify_draw(session, draw_id)
        except DirectoryError as exc:
            click.echo(f"draw {draw_id}: {exc.message}", err=True)
            sys.exit(2)
    for line in report.checked:
        click.echo(f"ok   {line}")
    for line in report.problems:
        click.echo(f"DIFF {line}")
    click.echo(f"draw {draw_id}: " + ("identical" if report.identical else f"{len(report.problems)} difference(s)"))
    sys.exit(0 if report.identical else 1)


@draw.command("schedules")
def draw_schedules() -> None:
    """Each recurring plan's next run, last run and outcome."""
    from engine.calendar import CHINA_TZ
    from integrations.db import session_scope
    from processes.inspections.scheduling import statuses

    with session_scope() as session:
        for s in statuses(session):
            when = s.next_run.astimezone(CHINA_TZ) if s.next_run else None
            state = "paused" if s.paused else f"next {s.next_period} at {when:%Y-%m-%d %H:%M}"
            click.echo(f"{s.schedule_id}\t{s.name}\t{s.recurrence}\t{state}\tlast {s.last_period or '-'} "
                       f"{s.last_outcome or ''}{' ' + s.last_note if s.last_note else ''}")

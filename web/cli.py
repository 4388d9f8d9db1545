"""The ``weijian`` command: database, deployment, demo data, server, scheduler, audit, timers."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from engine.actor import SYSTEM
from engine.settings import Settings


@click.group()
def main() -> None:
    """Weijian (卫监) administration commands."""


@main.group()
def db() -> None:
    """Database schema (Alembic is the only way it is created)."""


@db.command("upgrade")
def db_upgrade() -> None:
    from migrations.runner import upgrade

    url = Settings.from_env().database_url
    upgrade(url)
    click.echo(f"database at {url.split('@')[-1]} is at the newest schema")


@main.command()
@click.argument("path", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
def deploy(path: Path | None) -> None:
    """Deploy every process package (BPMN + DMN): each registered package, or those under PATH.

    Each package deploys through its own hook (``processes.registry``), so a package whose tables
    administrators edit (kept in the database) deploys with those: a deploy of the files never
    silently brings the files' thresholds back. Other folders are deployed as they are.
    """
    from engine import EngineError
    from integrations.db import session_scope
    from processes.registry import deploy_packages

    try:
        with session_scope() as session:
            definitions = deploy_packages(session, SYSTEM, path)
            for d in definitions:
                click.echo(f"{d.process_key} v{d.version} ({d.content_hash[:12]})")
    except EngineError as exc:
        click.echo(f"deploy failed: {exc.message}", err=True)
        sys.exit(1)


@main.group()
def demo() -> None:
    """Demo data for ``make run``."""


@demo.command("load")
def demo_load() -> None:
    from integrations.celery_app import dispatch_after_commit
    from integrations.db import session_scope
    from processes.demo_data import load_demo

    with session_scope() as session:
        summary = load_demo(session)
    dispatch_after_commit(session)
    click.echo(summary)


@main.group()
def users() -> None:
    """Staff accounts."""


@users.command("create")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="display name, e.g. 张伟")
@click.option("--unit", "unit_id", required=True, help="unit id")
@click.option("--roles", required=True, help="comma-separated: officer,legal_reviewer,head,complaint_clerk,admin")
@click.option("--certificate", default=None, help="enforcement certificate number (officers)")
@click.option("--certificate-valid-until", "valid_until", default=None,
              help="last day the certificate is valid, YYYY-MM-DD")
@click.password_option(envvar="WEIJIAN_NEW_PASSWORD", help="password (prompted if not given)")
def users_create(username: str, display_name: str, unit_id: str, roles: str, certificate: str | None,
                 valid_until: str | None, password: str) -> None:
    """Create a staff account."""
    from integrations.db import session_scope
    from processes.directory.services import DirectoryError, create_user

    try:
        with session_scope() as session:
            user = create_user(session, username, display_name, unit_id, roles.split(","), password, certificate,
                               valid_until)
            click.echo(f"created {user.id} ({user.display_name}) in {user.unit_id}: {', '.join(user.roles)}")
    except DirectoryError as exc:
        click.echo(f"not created: {exc.message}", err=True)
        sys.exit(1)


@users.command("token")
@click.argument("username")
@click.option("--name", default="api", help="name of the system using the token")
@click.option("--days", default=365, type=int, help="days until it expires (0: never)")
def users_token(username: str, name: str, days: int) -> None:
    """Issue an API token acting as USERNAME (printed once; only its hash is stored)."""
    from processes.directory.models import User
    from web.app import create_app
    from web.extensions import dbs
    from web.security import create_token

    app = create_app(Settings.from_env())
    with app.app_context():
        user = dbs().get(User, username)
        if user is None:
            click.echo(f"no user {username}", err=True)
            sys.exit(1)
        _row, token = create_token(user, name, SYSTEM.user_id, days or None)
        dbs().commit()
    click.echo(token)


@main.group()
def units() -> None:
    """Units (jurisdictions)."""


@units.command("create")
@click.argument("unit_id")
@click.option("--name", required=True)
@click.option("--level", required=True, type=click.Choice(["province", "city", "county"]))
@click.option("--region", "region_code", required=True, help="6-digit administrative region code")
@click.option("--parent", "parent_id", default=None)
@click.option("--short-name", default=None, help="short name used in document numbers, e.g. 宝")
def units_create(unit_id: str, name: str, level: str, region_code: str, parent_id: str | None,
                 short_name: str | None) -> None:
    """Create a unit under PARENT."""
    from integrations.db import session_scope
    from processes.directory.services import DirectoryError, create_unit

    try:
        with session_scope() as session:
            unit = create_unit(session, unit_id, name, level, region_code, parent_id, short_name)
            click.echo(f"created unit {unit.id} {unit.name}")
    except DirectoryError as exc:
        click.echo(f"not created: {exc.message}", err=True)
        sys.exit(1)


@main.group()
def i18n() -> None:
    """Translations of the web UI."""


@i18n.command("compile")
def i18n_compile() -> None:
    """Compile web/translations/*/LC_MESSAGES/*.po to .mo (the .mo files are committed)."""
    from web.i18n import compile_catalogs

    for path in compile_catalogs():
        click.echo(f"compiled {path}")


@main.group()
def audit() -> None:
    """Audit trail."""


@audit.command("verify")
def audit_verify() -> None:
    """Recompute every hash chain; name the first broken link."""
    from engine import verify_audit
    from integrations.db import session_scope

    with session_scope() as session:
        result = verify_audit(session)
    if result.ok:
        click.echo(f"audit trail intact: {result.events} events in {result.chains} chains")
        return
    click.echo(f"audit trail BROKEN at {result.first_broken}", err=True)
    sys.exit(1)


@main.group()
def timers() -> None:
    """Timers."""


@timers.command("fire")
def timers_fire() -> None:
    """Fire every due timer now (what the scheduler does every tick)."""
    from engine import fire_due_timers
    from integrations.celery_app import dispatch_after_commit
    from integrations.db import session_scope

    with session_scope() as session:
        report = fire_due_timers(session)
    dispatch_after_commit(session)
    click.echo(f"fired {len(report.fired)} instance(s), started {len(report.started)}, "
               f"{len(report.failures)} failure(s)")
    for where, error in report.failures:
        click.echo(f"  {where}: {error}", err=True)


@main.command()
def scheduler() -> None:
    """Run the scheduler alone (scale-out: run two or more; one leads, the others stay idle).

    SIGTERM or Ctrl-C stops it after the running tick and releases the leader lock at once.
    """
    from engine.tuning import settle_heap
    from integrations.logs import configure_logging
    from integrations.scheduler import run_until_signalled

    configure_logging()
    settle_heap()
    click.echo("scheduler running; Ctrl-C to stop")
    run_until_signalled()


@main.command()
@click.option("--host", default=None, help="address to bind (default 127.0.0.1, or WEIJIAN_HOST)")
@click.option("--port", default=None, type=int, help="port (default 5000, or WEIJIAN_PORT)")
@click.option("--production", is_flag=True, help="gunicorn with several workers; WEIJIAN_ENV=production")
@click.option("--workers", default=None, type=int, help="gunicorn workers (default WEIJIAN_WEB_WORKERS or 2*cores+1, "
                                                        "at most 8)")
def serve(host: str | None, port: int | None, production: bool, workers: int | None) -> None:
    """Serve the web app: the development server, or gunicorn with ``--production``.

    Both start the scheduler (a thread in development, a child process in production) unless
    WEIJIAN_SCHEDULER=0, for deployments that run ``weijian scheduler`` on their own.
    """
    from web.server import serve_development, serve_production

    host = host or os.environ.get("WEIJIAN_HOST") or "127.0.0.1"
    port = port or int(os.environ.get("WEIJIAN_PORT") or 5000)
    if production:
        serve_production(host, port, workers)
    else:
        serve_development(host, port)


def _mount_groups() -> None:
    from web.cli_calendar import calendar
    from web.cli_draw import draw
    from web.cli_import import import_camunda
    from web.cli_ops import backup_command, db_create, restore_command

    main.add_command(calendar)
    main.add_command(draw)
    main.add_command(import_camunda)
    main.add_command(backup_command)
    main.add_command(restore_command)
    db.add_command(db_create)


_mount_groups()


def _mount_optional_groups() -> None:
    try:
        from signing.cli import make_pki_cli
    except ImportError:
        return
    from sqlalchemy.orm import Session

    from integrations.db import session_scope
    from processes.directory.models import Unit

    def unit_name(session: Session, unit_id: str) -> str | None:  # the seal names the unit as the directory does
        unit = session.get(Unit, unit_id)
        return unit.name if unit is not None else None

    main.add_command(make_pki_cli(session_scope, unit_name))


_mount_optional_groups()

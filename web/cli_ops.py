"""``weijian backup`` / ``weijian restore`` / ``weijian db create``: operating a deployment.

Backup and restore cover the embedded deployment (SQLite file + uploads, see ``web.backup``);
PostgreSQL has its own tools, documented in docs/operations.md. Restore always finishes by
recomputing every audit hash chain of the restored database and reports the result, so a
restore is never taken on trust. ``db create`` makes the PostgreSQL database a URL names
(``make cluster`` runs it before migrating).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from engine.settings import PROJECT_ROOT, Settings


def upload_dir() -> Path:
    """Where uploads live: the same rule as the web app's ``UPLOAD_DIR`` (web.config)."""
    return Path(os.environ.get("WEIJIAN_UPLOAD_DIR") or PROJECT_ROOT / "instance" / "uploads")


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(path: Path) -> None:
    """Write a backup of the SQLite database and the uploaded files to PATH (.tar.gz).

    Safe while Weijian runs (SQLite's online backup API). The archive holds password hashes
    and passphrase-locked signing keys: keep it as carefully as the database.
    """
    from web.backup import BackupError, backup

    settings = Settings.from_env()
    try:
        report = backup(settings.database_url, upload_dir(), path.resolve())
    except BackupError as exc:
        click.echo(f"backup failed: {exc}", err=True)
        sys.exit(1)
    click.echo(f"backup written to {report.path}: database {report.database_bytes} bytes, "
               f"{report.uploads} uploaded file(s) ({report.upload_bytes} bytes)")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="replace an existing database (stop every Weijian process first)")
def restore_command(path: Path, force: bool) -> None:
    """Restore a backup made by ``weijian backup``, then verify the audit trail.

    Exit status 1 when the backup cannot be restored or the restored audit trail is broken.
    """
    from web.backup import BackupError, restore

    settings = Settings.from_env()
    try:
        report = restore(path, settings.database_url, upload_dir(), force=force)
    except BackupError as exc:
        click.echo(f"restore failed: {exc}", err=True)
        sys.exit(1)
    click.echo(f"restored database {report.database} (backup of {report.manifest.get('created_at')}) and "
               f"{report.uploads} uploaded file(s) into {upload_dir()}")
    for name in report.skipped:
        click.echo(f"  skipped {name} (not an upload, or its bytes do not match its name)", err=True)
    ok, message = verify_audit_trail(settings)
    click.echo(message, err=not ok)
    if not ok or report.skipped:
        sys.exit(1)


def verify_audit_trail(settings: Settings) -> tuple[bool, str]:
    """``audit verify`` on ``settings``' database: (intact?, the line to print)."""
    from engine import verify_audit
    from integrations.db import session_scope

    with session_scope(settings) as session:
        result = verify_audit(session)
    if result.ok:
        return True, f"audit trail intact: {result.events} events in {result.chains} chains"
    return False, f"audit trail BROKEN at {result.first_broken}"


@click.command("create")
def db_create() -> None:
    """Create the PostgreSQL database DATABASE_URL names, if it does not exist yet."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    settings = Settings.from_env()
    if not settings.database_url.startswith("postgresql"):
        click.echo("DATABASE_URL is not PostgreSQL: nothing to create (SQLite creates its file on upgrade)")
        return
    url = make_url(settings.database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = url.database
    if not name or not name.replace("_", "").isalnum():
        click.echo(f"refusing unusual database name {name!r}", err=True)
        sys.exit(1)
    engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name})
            if exists:
                click.echo(f"database {name} exists")
                return
            connection.execute(text(f'CREATE DATABASE "{name}"'))  # the name was checked above
            click.echo(f"database {name} created")
    finally:
        engine.dispose()

"""Backup and restore: the embedded deployment round trip (``weijian backup``/``restore``) and the
documented PostgreSQL procedure (``pg_dump``/``pg_restore`` custom format, then ``audit verify``).

Both run the real commands as child processes, as an operator would.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from engine import start
from engine.dbconnect import make_engine
from engine.models import AuditEvent, ProcessInstance
from forms.uploads import UploadStore
from tests.engine_helpers import OFFICER, deploy_fixture

CLI = [sys.executable, "-c", "from web.cli import main; main()"]
PDF = b"%PDF-1.4\n% weijian backup test\n" + os.urandom(2048)


def _weijian(*args: str, database_url: str, upload_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    if upload_dir is not None:
        env["WEIJIAN_UPLOAD_DIR"] = str(upload_dir)
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=120, check=False)


def _fill(url: str, cases: int = 3) -> int:
    """Deploy a fixture and start a few cases (audit events in several chains); return the event count."""
    engine = make_engine(url)
    with Session(engine) as session:
        deploy_fixture(session, "lead")
        for n in range(cases):
            start(session, "case_lead", OFFICER, {}, f"B-{n}", unit_id="U1")
        session.commit()
        count = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    engine.dispose()
    assert count > cases
    return count


def _counts(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    with Session(engine) as session:
        result = (session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
                  session.scalar(select(func.count()).select_from(ProcessInstance)) or 0)
    engine.dispose()
    return result


def test_sqlite_backup_and_restore_round_trip(db_url: str, tmp_path: Path) -> None:
    events = _fill(db_url)
    uploads = tmp_path / "uploads"
    stored = UploadStore(uploads).save(io.BytesIO(PDF), "笔录.pdf", ["pdf"], 10_000)
    archive = tmp_path / "weijian-backup.tar.gz"

    made = _weijian("backup", str(archive), database_url=db_url, upload_dir=uploads)
    assert made.returncode == 0, made.stderr
    assert "1 uploaded file(s)" in made.stdout
    assert archive.stat().st_mode & 0o077 == 0  # password hashes and keys inside: owner only
    assert _weijian("backup", str(archive), database_url=db_url, upload_dir=uploads).returncode == 1  # no overwrite

    restored_url = f"sqlite:///{tmp_path}/restored/weijian.db"
    restored_uploads = tmp_path / "restored-uploads"
    done = _weijian("restore", str(archive), database_url=restored_url, upload_dir=restored_uploads)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"audit trail intact: {events} events" in done.stdout
    assert _counts(restored_url) == _counts(db_url)
    assert UploadStore(restored_uploads).path(stored.sha256).read_bytes() == PDF

    again = _weijian("restore", str(archive), database_url=restored_url, upload_dir=restored_uploads)
    assert again.returncode == 1 and "--force" in again.stderr  # never replaces a database silently
    forced = _weijian("restore", "--force", str(archive), database_url=restored_url, upload_dir=restored_uploads)
    assert forced.returncode == 0, forced.stderr


def test_restore_reports_a_broken_audit_trail_and_damaged_uploads(db_url: str, tmp_path: Path) -> None:
    _fill(db_url, cases=1)
    engine = make_engine(db_url)
    with Session(engine) as session:  # someone edited history before the backup was taken
        first = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).first()
        assert first is not None
        session.execute(update(AuditEvent).where(AuditEvent.id == first.id).values(actor="mallory"))
        session.commit()
    engine.dispose()
    uploads = tmp_path / "uploads"
    stored = UploadStore(uploads).save(io.BytesIO(PDF), "a.pdf", ["pdf"], 10_000)
    UploadStore(uploads).path(stored.sha256).write_bytes(b"%PDF-1.4 not what was uploaded")
    archive = tmp_path / "backup.tar.gz"
    assert _weijian("backup", str(archive), database_url=db_url, upload_dir=uploads).returncode == 0

    result = _weijian("restore", str(archive), database_url=f"sqlite:///{tmp_path}/r.db",
                      upload_dir=tmp_path / "r-uploads")
    assert result.returncode == 1
    assert "audit trail BROKEN" in result.stderr
    assert f"skipped uploads/{stored.sha256[:2]}/{stored.sha256[2:4]}/{stored.sha256}" in result.stderr


def test_restore_refuses_what_is_not_a_backup(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.tar.gz"
    with tarfile.open(bogus, "w:gz") as archive:
        archive.add(__file__, "../../etc/evil")
    result = _weijian("restore", str(bogus), database_url=f"sqlite:///{tmp_path}/x.db")
    assert result.returncode == 1 and "not a Weijian backup" in result.stderr
    assert not (tmp_path / "x.db").exists()
    assert _weijian("backup", str(tmp_path / "b.tgz"), database_url="postgresql://u@127.0.0.1/x").returncode == 1


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} not installed (CI=true: the PostgreSQL backup procedure must be tested)")
        pytest.skip(f"{name} not installed")
    return found


@pytest.mark.postgres
def test_postgres_dump_and_restore_keeps_the_audit_trail(pg_url: str, tmp_path: Path) -> None:
    pg_dump, pg_restore = _pg_tool("pg_dump"), _pg_tool("pg_restore")
    events = _fill(pg_url)
    source = make_url(pg_url).set(drivername="postgresql")
    scratch_name = f"weijian_restore_{uuid.uuid4().hex[:12]}"
    scratch = source.set(database=scratch_name)
    dump = tmp_path / "weijian.dump"
    admin = create_engine(source.set(drivername="postgresql+psycopg", database="postgres"),
                          isolation_level="AUTOCOMMIT")
    scratch_url = scratch.render_as_string(hide_password=False)
    try:
        created = _weijian("db", "create", database_url=scratch_url)  # what `make cluster` runs first
        assert created.returncode == 0 and f"database {scratch_name} created" in created.stdout, created.stderr
        assert f"database {scratch_name} exists" in _weijian("db", "create", database_url=scratch_url).stdout
        subprocess.run([pg_dump, "--format=custom", "--no-owner", f"--file={dump}",
                        source.render_as_string(hide_password=False)], check=True, timeout=120, capture_output=True)
        subprocess.run([pg_restore, "--no-owner", "--exit-on-error",
                        f"--dbname={scratch.render_as_string(hide_password=False)}", str(dump)],
                       check=True, timeout=120, capture_output=True)
        verified = _weijian("audit", "verify", database_url=scratch_url)
        assert verified.returncode == 0, verified.stderr
        assert f"audit trail intact: {events} events" in verified.stdout
        assert _counts(scratch_url) == _counts(pg_url)
        tamper = create_engine(scratch.set(drivername="postgresql+psycopg"))
        with tamper.begin() as connection:  # the restored copy really is checked, not the source
            connection.execute(text("UPDATE audit_event SET actor = 'mallory' "
                                    "WHERE id = (SELECT min(id) FROM audit_event)"))
        tamper.dispose()
        assert _weijian("audit", "verify", database_url=scratch_url).returncode == 1
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{scratch_name}" WITH (FORCE)'))
        admin.dispose()

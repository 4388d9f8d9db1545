"""Backup and restore of the embedded deployment: the SQLite database plus the uploaded files.

A backup is one ``.tar.gz`` holding ``manifest.json``, ``weijian.db`` and ``uploads/…``:

* The database is copied with SQLite's online backup API (``sqlite3.Connection.backup``), so
  the web app, workers and scheduler may keep running: the copy is one consistent snapshot,
  WAL included, never a torn file.
* Uploads are content-addressed (``uploads/ab/cd/<sha256>``) and never change once written,
  and a file is stored before the row naming it commits. Copying them *after* the database
  snapshot therefore brings every file the snapshot can name (and perhaps a few newer ones).
* Signing keys (the agency CA's and each signer's PKCS#12, passphrase-locked) live in the
  database tables ``signing_ca`` and ``signing_certificate``, so the database copy carries
  them. ``SECRET_KEY`` is deliberately not in a backup: keep it with the deployment's secrets.

Restore is for a stopped deployment: it writes the database next to the target and renames
it into place (after removing a stale ``-wal``/``-shm`` that SQLite would otherwise replay
over the restored file), checks each upload against its name's digest, and then the caller
runs ``audit verify`` on the result.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import tarfile
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

FORMAT = "weijian-backup/1"
DB_MEMBER = "weijian.db"
MANIFEST = "manifest.json"
_UPLOAD_MEMBER = re.compile(r"^uploads/([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})$")


class BackupError(Exception):
    """A backup cannot be made or restored; the message says why."""


@dataclass
class BackupReport:
    path: Path
    database_bytes: int
    uploads: int
    upload_bytes: int


@dataclass
class RestoreReport:
    database: Path
    uploads: int
    skipped: list[str] = field(default_factory=list)
    manifest: dict[str, object] = field(default_factory=dict)


def sqlite_path(database_url: str) -> Path:
    """The file of a ``sqlite:///`` URL; other databases have their own tools (docs/operations.md)."""
    if not database_url.startswith("sqlite:///") or database_url in ("sqlite://", "sqlite:///:memory:"):
        raise BackupError("weijian backup/restore handle the embedded SQLite database only; for PostgreSQL "
                          "use pg_dump/pg_restore (docs/operations.md)")
    return Path(database_url.removeprefix("sqlite:///"))


def backup(database_url: str, upload_dir: Path, target: Path) -> BackupReport:
    """Write a backup archive to ``target`` (a new file; its folder must exist)."""
    source = sqlite_path(database_url)
    if not source.is_file():
        raise BackupError(f"no database at {source}")
    if target.exists():
        raise BackupError(f"{target} exists; choose a new file name")
    with tempfile.TemporaryDirectory(prefix="weijian-backup-", dir=target.parent) as tmp:
        snapshot = Path(tmp) / DB_MEMBER
        _online_copy(source, snapshot)
        heads = _schema_heads(snapshot)
        files = sorted(_upload_files(upload_dir))
        manifest = {
            "format": FORMAT, "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "database_sha256": _sha256(snapshot), "database_bytes": snapshot.stat().st_size,
            "schema_heads": heads, "uploads": len(files),
        }
        partial = Path(tmp) / "archive.tar.gz"
        upload_bytes = 0
        with tarfile.open(partial, "w:gz") as archive:
            _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=2).encode())
            archive.add(snapshot, DB_MEMBER)
            for relative in files:
                path = upload_dir / relative
                upload_bytes += path.stat().st_size
                archive.add(path, f"uploads/{relative}")
        os.chmod(partial, 0o600)  # password hashes and locked keys are inside
        os.replace(partial, target)
    return BackupReport(target, int(manifest["database_bytes"]), len(files), upload_bytes)  # type: ignore[call-overload]


def restore(archive_path: Path, database_url: str, upload_dir: Path, force: bool = False) -> RestoreReport:
    """Put the database and uploads of ``archive_path`` in place (the deployment must be stopped)."""
    target = sqlite_path(database_url)
    if target.exists() and not force:
        raise BackupError(f"{target} exists; stop every Weijian process and pass --force to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        archive = tarfile.open(archive_path, "r:gz")  # noqa: SIM115 - closed by the with below
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"{archive_path} is not a Weijian backup: {exc}") from exc
    with archive, tempfile.TemporaryDirectory(prefix="weijian-restore-", dir=target.parent) as tmp:
        manifest = _read_manifest(archive)
        incoming = Path(tmp) / DB_MEMBER
        _extract(archive, DB_MEMBER, incoming)
        if _sha256(incoming) != manifest.get("database_sha256"):
            raise BackupError("the database in the backup does not match its manifest (damaged archive)")
        _check_sqlite(incoming)
        report = RestoreReport(target, 0, manifest=manifest)
        for member in archive.getmembers():
            if member.name in (MANIFEST, DB_MEMBER) or member.isdir():
                continue
            match = _UPLOAD_MEMBER.match(member.name)
            if match is None or not member.isfile():
                report.skipped.append(member.name)
                continue
            if _restore_upload(archive, member, upload_dir, match.group(3)):
                report.uploads += 1
            else:
                report.skipped.append(member.name)
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        os.replace(incoming, target)
    return report


def _online_copy(source: Path, destination: Path) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(destination)
    try:
        src.backup(dst, pages=1024)  # in steps, so writers are not held off for the whole copy
    finally:
        dst.close()
        src.close()


def _schema_heads(path: Path) -> list[str]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return sorted(row[0] for row in connection.execute("SELECT version_num FROM alembic_version"))
    except sqlite3.Error:
        return []
    finally:
        connection.close()


def _check_sqlite(path: Path) -> None:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        result = connection.execute("PRAGMA integrity_check").fetchone()
    except sqlite3.Error as exc:
        raise BackupError(f"the database in the backup cannot be read: {exc}") from exc
    finally:
        connection.close()
    if not result or result[0] != "ok":
        raise BackupError(f"the database in the backup fails SQLite's integrity check: {result}")


def _upload_files(root: Path) -> list[str]:
    """Stored uploads, relative to ``root`` (temporary ``.upload-*`` files are not uploads)."""
    if not root.is_dir():
        return []
    found = []
    for path in root.rglob("*"):
        relative = path.relative_to(root).as_posix()
        if path.is_file() and _UPLOAD_MEMBER.match(f"uploads/{relative}"):
            found.append(relative)
    return found


def _restore_upload(archive: tarfile.TarFile, member: tarfile.TarInfo, upload_dir: Path, digest: str) -> bool:
    """Write one upload if its bytes hash to its name; an existing file is the same file."""
    destination = upload_dir / digest[:2] / digest[2:4] / digest
    if destination.is_file():
        return True
    source = archive.extractfile(member)
    if source is None:
        return False
    destination.parent.mkdir(parents=True, exist_ok=True)
    hasher = hashlib.sha256()
    fd, partial = tempfile.mkstemp(dir=destination.parent, prefix=".restore-")
    with source, os.fdopen(fd, "wb") as out:
        for chunk in iter(lambda: source.read(1 << 20), b""):
            hasher.update(chunk)
            out.write(chunk)
    if hasher.hexdigest() != digest:
        os.unlink(partial)
        return False
    os.replace(partial, destination)
    return True


def _read_manifest(archive: tarfile.TarFile) -> dict[str, object]:
    try:
        member = archive.getmember(MANIFEST)
        handle = archive.extractfile(member)
        manifest = json.loads(handle.read()) if handle is not None else None
    except (KeyError, ValueError) as exc:
        raise BackupError("not a Weijian backup (no readable manifest.json)") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"not a Weijian backup of format {FORMAT}")
    return manifest


def _extract(archive: tarfile.TarFile, name: str, destination: Path) -> None:
    try:
        handle = archive.extractfile(archive.getmember(name))
    except KeyError as exc:
        raise BackupError(f"the backup has no {name}") from exc
    if handle is None:
        raise BackupError(f"{name} in the backup is not a file")
    with handle, destination.open("wb") as out:
        shutil.copyfileobj(handle, out, 1 << 20)


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(datetime.now(UTC).timestamp())
    info.mode = 0o600
    archive.addfile(info, io.BytesIO(data))


def _sha256(path: Path) -> str:
    hasher = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            hasher.update(chunk)
    return hasher.hexdigest()

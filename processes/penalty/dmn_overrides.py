"""Administrators' versions of the penalty DMN tables: save, reset, and deploy with them.

Why the tables live in the database once edited: ``weijian deploy`` (and ``make run``) deploy
the files of ``processes/penalty``; if the admin's table lived only in a deployed definition,
the next deploy of the files would silently bring the file's thresholds back. So every deploy
of the penalty bundle goes through ``bundle_files``, which puts the admin's tables in place of
the files' (``deploy_processes`` for the CLI). Saving a table deploys a new definition
version through ``engine.deploy`` (which parses and sandbox-checks the whole bundle); running
cases keep the version they started with, new cases get the new one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import Actor, EngineError, InvalidDefinition, deploy
from engine.audit import append as audit_append
from engine.db import utcnow
from engine.definitions import deploy_directory
from engine.errors import UnknownProcess
from engine.models import ProcessDefinition

from .dmn_tables import (
    DecisionTable,
    DmnTableError,
    read_table,
    rows_from_data,
    same_rows,
    stamp,
    validate,
    write_table,
)
from .rule_overrides import DmnOverride

PENALTY_DIR = Path(__file__).resolve().parent
MAIN_PROCESS = "penalty_ordinary"


def table_files() -> list[str]:
    """The penalty DMN files an administrator may edit (every ``*.dmn`` beside the BPMN)."""
    return sorted(p.name for p in PENALTY_DIR.glob("*.dmn"))


def _sha(xml: bytes) -> str:
    return hashlib.sha256(xml).hexdigest()


def latest_dmn_overrides(session: Session) -> dict[str, DmnOverride]:
    newest = select(func.max(DmnOverride.id)).group_by(DmnOverride.file_name)
    return {row.file_name: row for row in session.scalars(select(DmnOverride).where(DmnOverride.id.in_(newest)))}


def _active(session: Session) -> dict[str, bytes]:
    """The admin's tables in force (file name -> XML); a reset returns a file to its disk version."""
    return {name: row.xml.encode("utf-8") for name, row in latest_dmn_overrides(session).items()
            if row.xml is not None and name in table_files()}


def current_xml(session: Session, file_name: str) -> tuple[bytes, DmnOverride | None]:
    """The table in force for new cases and the change that made it (None: the file's)."""
    _known(file_name)
    row = latest_dmn_overrides(session).get(file_name)
    if row is not None and row.xml is not None:
        return row.xml.encode("utf-8"), row
    return (PENALTY_DIR / file_name).read_bytes(), None


def current_table(session: Session, file_name: str) -> tuple[DecisionTable, DmnOverride | None]:
    xml, row = current_xml(session, file_name)
    return read_table(xml, file_name), row


def dmn_history(session: Session, file_name: str) -> list[DmnOverride]:
    return list(session.scalars(select(DmnOverride).where(DmnOverride.file_name == file_name)
                                .order_by(DmnOverride.id.desc())))


def _known(file_name: str) -> None:
    if file_name not in table_files():
        raise DmnTableError(file_name, "不是可编辑的处罚决策表")


def is_penalty_bundle(folder: Path) -> bool:
    return folder.resolve() == PENALTY_DIR or (folder.name == "penalty" and (folder / f"{MAIN_PROCESS}.bpmn").exists())


def bundle_files(session: Session, folder: Path) -> dict[str, bytes]:
    """The files of a process folder as they are to be deployed: the admin's DMN tables win."""
    files = {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.suffix in (".bpmn", ".dmn")}
    if is_penalty_bundle(folder):
        files.update({name: xml for name, xml in _active(session).items() if name in files})
    return files


def deploy_processes(session: Session, directory: Path, actor: Actor) -> list[ProcessDefinition]:
    """``engine.deploy_directory`` honouring the admin's penalty tables (what ``weijian deploy`` runs)."""
    return deploy_directory(session, directory, actor, bundle_files=lambda folder: bundle_files(session, folder))


def _base_bundle(session: Session) -> dict[str, bytes]:
    """The penalty bundle last deployed (so saving a table changes only that table), else the files."""
    try:
        from engine import latest_definition

        definition = latest_definition(session, MAIN_PROCESS)
    except UnknownProcess:
        return bundle_files(session, PENALTY_DIR)
    return {name: text.encode("utf-8") for name, text in definition.sources.items()}


def _redeploy(session: Session, actor: Actor, file_name: str, xml: bytes) -> dict[str, int]:
    files = {**_base_bundle(session), **_active(session), file_name: xml}
    try:
        definitions = deploy(session, files, actor)
    except InvalidDefinition as exc:
        raise DmnTableError(file_name, f"部署失败：{exc.message}") from None
    except EngineError as exc:
        raise DmnTableError(file_name, f"部署失败：{exc.message}") from None
    return {d.process_key: d.version for d in definitions}


def _reason(file_name: str, reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise DmnTableError(file_name, "请写明修改理由（记入审计记录）")
    return text[:1000]


def save_table(session: Session, actor: Actor, file_name: str, rows: Iterable[Mapping[str, Any]],
               reason: str | None, *, now: datetime | None = None) -> DmnOverride:
    """Replace the table's rows, validate every cell, deploy a new penalty version, keep and audit it.

    Raises ``DmnTableError`` naming the row and column; nothing is written then (the caller rolls
    back its transaction on any error). The stored and deployed XML carries a revision comment
    (``dmn_tables.stamp``); the audit event has the SHA-256 of the XML before and after. Caller commits.
    """
    old_xml, _row = current_xml(session, file_name)
    table = read_table(old_xml, file_name)
    table.rows = rows_from_data(table, rows)
    why = _reason(file_name, reason)
    validate(table)
    if same_rows(table, read_table(old_xml, file_name)):
        raise DmnTableError(file_name, "决策表没有变化")
    new_xml = write_table(old_xml, table)
    read_table(new_xml, file_name)  # what was written parses back
    return _record(session, actor, file_name, old_xml, new_xml, why, now)


def reset_table(session: Session, actor: Actor, file_name: str, reason: str | None, *,
                now: datetime | None = None) -> DmnOverride:
    """Back to the file in ``processes/penalty`` for new cases (deploys a new version). Caller commits."""
    old_xml, row = current_xml(session, file_name)
    why = _reason(file_name, reason)
    if row is None:
        raise DmnTableError(file_name, "当前已是文件中的默认决策表")
    return _record(session, actor, file_name, old_xml, (PENALTY_DIR / file_name).read_bytes(), why, now,
                   reset=True)


def _record(session: Session, actor: Actor, file_name: str, old_xml: bytes, new_xml: bytes, reason: str,
            now: datetime | None, reset: bool = False) -> DmnOverride:
    changed_at = now or utcnow()
    row = DmnOverride(file_name=file_name, xml=None, sha256="", previous_sha256=_sha(old_xml),
                      changed_by=actor.user_id, changed_at=changed_at, reason=reason, versions={})
    session.add(row)
    session.flush()  # its id names the revision
    deployed = stamp(new_xml, file_name, f"#{row.id} {changed_at.isoformat(timespec='seconds')} {actor.user_id}")
    row.sha256 = _sha(deployed)
    row.xml = None if reset else deployed.decode("utf-8")
    session.flush()
    row.versions = _redeploy(session, actor, file_name, deployed)
    audit_append(session, actor.user_id, "penalty_dmn_reset" if reset else "penalty_dmn_changed", data={
        "file": file_name, "old_sha256": row.previous_sha256, "new_sha256": row.sha256, "reason": reason,
        "versions": row.versions}, now=now)
    session.flush()
    return row

"""The case file (案卷) as one ZIP: documents, evidence, signed deliberation records, the audit
trail, the case card, and a manifest of every file's SHA-256.

Why a manifest: the archive leaves the system (retention, transfer to the archives office); the
manifest lets anyone check that no file was changed or dropped, and its own hash is kept on the
``penalty_archive`` row and in the audit trail. Entries get a fixed timestamp so the same case
file gives the same ZIP bytes.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import signing
from engine import audit_history

from .casecard import case_card
from .models import CaseArchive, CaseDocument, CaseRecord, PenaltyCase
from .storage import load_blob, store_blob

FIXED_TIME = (2000, 1, 1, 0, 0, 0)


def _audit_export(session: Session, instance_id: str) -> list[dict[str, Any]]:
    return [{"seq": e.seq, "action": e.action, "actor": e.actor, "task_id": e.task_id, "task_name": e.task_name,
             "data": e.data, "created_at": e.created_at.isoformat(), "prev_hash": e.prev_hash, "hash": e.hash}
            for e in audit_history(session, instance_id)]


def archive_files(session: Session, case: PenaltyCase) -> dict[str, bytes]:
    """Every file of the case file, by its path in the archive."""
    files: dict[str, bytes] = {}
    documents = session.scalars(select(CaseDocument).where(CaseDocument.case_id == case.id)
                                .order_by(CaseDocument.created_at, CaseDocument.id))
    for n, document in enumerate(documents, start=1):
        name = document.file_name.replace("/", "／")  # 撤销立案/终止调查审批表: one file, not a folder
        files[f"documents/{n:02d}-{name}"] = load_blob(session, document.sha256)
    records = session.scalars(select(CaseRecord).where(CaseRecord.case_id == case.id).order_by(CaseRecord.id))
    n = 0
    for record in records:
        for item in (record.content or {}).get("files", []):
            n += 1
            files[f"evidence/{n:02d}-{item['file_name']}"] = load_blob(session, item["sha256"])
    for signed in signing.records_for_case(session, case.id):
        for name, content in signing.signature_documents(session, signed.id).items():
            files[f"signatures/{signed.id}/{name}"] = content
    files["audit/audit-trail.json"] = json.dumps(_audit_export(session, case.instance_id), ensure_ascii=False,
                                                 indent=1).encode("utf-8")
    files["case-card.json"] = json.dumps(case_card(case), ensure_ascii=False, indent=1).encode("utf-8")
    return files


def build_zip(files: dict[str, bytes], manifest: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(files):
            archive.writestr(zipfile.ZipInfo(path, FIXED_TIME), files[path])
        archive.writestr(zipfile.ZipInfo("manifest.json", FIXED_TIME), manifest)
    return buffer.getvalue()


def manifest_of(case: PenaltyCase, files: dict[str, bytes], on: date, audit_head: str | None) -> bytes:
    entries = [{"path": path, "sha256": hashlib.sha256(content).hexdigest(), "size": len(content)}
               for path, content in sorted(files.items())]
    body = {"case_id": case.id, "case_number": case.case_number, "entity_name": case.entity_name,
            "archived_on": on.isoformat(), "audit_head": audit_head, "files": entries}
    return json.dumps(body, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")


def build_archive(session: Session, case: PenaltyCase, on: date, *, job_id: str | None = None) -> CaseArchive:
    """Build, store and register the case file (one per case: a rerun returns the stored one)."""
    existing = session.scalar(select(CaseArchive).where(CaseArchive.case_id == case.id))
    if existing is not None:
        return existing
    files = archive_files(session, case)
    trail = json.loads(files["audit/audit-trail.json"])
    manifest = manifest_of(case, files, on, trail[-1]["hash"] if trail else None)
    content = build_zip(files, manifest)
    digest = store_blob(session, content, "application/zip")
    row = CaseArchive(case_id=case.id, entity_id=case.entity_id, credit_code=case.credit_code, sha256=digest,
                      manifest_sha256=hashlib.sha256(manifest).hexdigest(),
                      file_name=f"案卷-{case.case_number or case.id}.zip")
    session.add(row)
    session.flush()
    del job_id
    return row


def archives_for_entity(session: Session, *, entity_id: str | None = None,
                        credit_code: str | None = None) -> list[CaseArchive]:
    """The archived case files of one supervised entity (一户一档), newest first."""
    if not entity_id and not credit_code:
        return []
    query = select(CaseArchive)
    query = query.where(CaseArchive.entity_id == entity_id) if entity_id else query.where(
        CaseArchive.credit_code == credit_code)
    return list(session.scalars(query.order_by(CaseArchive.created_at.desc())))

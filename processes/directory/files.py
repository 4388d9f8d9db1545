"""Which stored files a person may name in a form (by SHA-256).

Uploads are stored once per content, so a hash alone proves nothing: a form may refer to a
file only when its user uploaded that content themselves (an ``UploadGrant``: uploading proves
they hold the bytes) or the file already belongs to the same case. Every upload path records
the grant (``grant_upload``); every form that takes files checks ``may_reference``.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import utcnow

from .models import CaseDocument, UploadGrant


def grant_upload(session: Session, sha256: str, user_id: str) -> None:
    """Record that ``user_id`` uploaded this content (idempotent); the caller commits."""
    if session.get(UploadGrant, (sha256, user_id)) is None:
        session.add(UploadGrant(sha256=sha256, user_id=user_id, created_at=utcnow()))
        session.flush()


def may_reference(session: Session, sha256: str, user_id: str, instance_id: str | None = None,
                  case_files: frozenset[str] = frozenset()) -> bool:
    """True when the user uploaded this content, or it is already one of the case's files
    (``case_files``: hashes a process package knows for the case; documents attached to the
    instance count too)."""
    if sha256 in case_files or session.get(UploadGrant, (sha256, user_id)) is not None:
        return True
    if instance_id is None:
        return False
    found = session.scalar(select(CaseDocument.id).where(CaseDocument.instance_id == instance_id,
                                                         CaseDocument.sha256 == sha256).limit(1))
    return found is not None

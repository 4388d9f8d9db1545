"""Content-addressed storage: every document, evidence file and archive is kept by its SHA-256."""

from __future__ import annotations

import hashlib

from sqlalchemy.orm import Session

from .models import Blob

MAX_BLOB_BYTES = 200 * 1024 * 1024


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def store_blob(session: Session, content: bytes, media_type: str) -> str:
    """Store ``content`` once (the same bytes twice are one row); return its SHA-256."""
    if len(content) > MAX_BLOB_BYTES:
        raise ValueError(f"file of {len(content)} bytes is over the {MAX_BLOB_BYTES}-byte limit")
    digest = sha256_hex(content)
    if session.get(Blob, digest) is None:
        session.add(Blob(sha256=digest, media_type=media_type, size=len(content), content=content))
        session.flush()
    return digest


def load_blob(session: Session, digest: str) -> bytes:
    """The stored bytes, checked against their hash (a changed row is an error, not data)."""
    blob = session.get(Blob, digest)
    if blob is None:
        raise LookupError(f"no stored file {digest}")
    if sha256_hex(blob.content) != digest:
        raise ValueError(f"stored file {digest} no longer matches its hash")
    return blob.content

"""The complainant's identity and contact: encrypted at rest, shown only to the handlers.

信访工作条例 and 投诉举报办法 Art. 33 forbid disclosing who complained. So the name, phone, email,
address and ID number are one Fernet token in ``Complaint.identity_token`` (AES-128-CBC +
HMAC-SHA256 from ``cryptography``), under keys from ``WEIJIAN_COMPLAINT_KEYS`` (comma-separated
Fernet keys; the first encrypts, every one decrypts, so a new key is put first and
``rotate_identities`` re-encrypts the rows before the old key is dropped).

``identity_for`` is the one door to the clear text: it answers only the accepting clerk and the
assigned handlers and writes an audit event for every view; everyone else gets ``redacted``.
Without the environment variable a fixed development key is used (``is_development_key``), which
a production start must refuse (the deployment's check).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import Actor, PermissionDenied
from engine.audit import append as audit_append

from .models import Complaint

KEYS_ENV = "WEIJIAN_COMPLAINT_KEYS"
FIELDS = ("name", "phone", "email", "address", "id_number")
_DEV_KEY = base64.urlsafe_b64encode(hashlib.sha256(b"weijian-development-complaint-key").digest())


def _keys() -> list[bytes]:
    raw = os.environ.get(KEYS_ENV, "")
    keys = [k.strip().encode() for k in raw.split(",") if k.strip()]
    return keys or [_DEV_KEY]


def is_development_key() -> bool:
    """True when no key is configured (the fixed development key is in use)."""
    return not os.environ.get(KEYS_ENV, "").strip()


def production_problems() -> list[str]:
    """Production mode refuses the development key: every complainant's identity would be
    readable by anyone holding the source code."""
    if not is_development_key():
        return []
    return [f"{KEYS_ENV} is not set: complainants' identities would be encrypted with the development key.\n"
            "Generate one and set it in the environment of every web, worker and scheduler process:\n"
            f"    export {KEYS_ENV}=$(python3 -c \"from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())\")\n"
            "Keep it with the database backups' secrets; a new key goes first, old ones after it (rotation)."]


def _fernet() -> MultiFernet:
    try:
        return MultiFernet([Fernet(k) for k in _keys()])
    except (ValueError, TypeError) as exc:
        raise RuntimeError(f"{KEYS_ENV} must hold comma-separated Fernet keys (Fernet.generate_key())") from exc


def encrypt_identity(identity: Mapping[str, Any] | None) -> str | None:
    """The token for ``identity`` (only the known fields, blank ones left out), or None when empty."""
    values = {k: str(identity[k]).strip() for k in FIELDS if identity and str(identity.get(k) or "").strip()}
    if not values:
        return None
    return _fernet().encrypt(json.dumps(values, ensure_ascii=False).encode()).decode()


def decrypt_identity(token: str | None) -> dict[str, str]:
    if not token:
        return {}
    try:
        return dict(json.loads(_fernet().decrypt(token.encode())))
    except InvalidToken:
        raise RuntimeError("the complainant's identity cannot be decrypted with the configured keys") from None


def may_see_identity(actor: Actor, complaint: Complaint) -> bool:
    """The accepting clerk and the handlers assigned to the complaint; nobody else (not heads of
    other units, not administrators: an administrator's role is the system, not the case)."""
    return actor.user_id == complaint.clerk_id or actor.user_id in (complaint.handlers or [])


def identity_for(session: Session, actor: Actor, complaint: Complaint, purpose: str,
                 now: datetime | None = None) -> dict[str, str]:
    """The clear identity for an allowed actor (audited with ``purpose``); PermissionDenied otherwise."""
    if complaint.anonymous or not complaint.identity_token:
        return {}
    if not may_see_identity(actor, complaint):
        audit_append(session, actor.user_id, "complaint_identity_refused", now=now,
                     data={"complaint": complaint.id, "purpose": purpose[:200]})
        raise PermissionDenied("only the accepting clerk and the assigned handlers may see the complainant")
    audit_append(session, actor.user_id, "complaint_identity_viewed", now=now,
                 data={"complaint": complaint.id, "purpose": purpose[:200]})
    return decrypt_identity(complaint.identity_token)


def redacted(complaint: Complaint) -> dict[str, str]:
    """What everyone else sees of the complainant: whether they gave a name, never the name."""
    if complaint.anonymous or not complaint.identity_token:
        return {"name": "匿名", "contact": ""}
    return {"name": "（实名，已保密）", "contact": "（已保密）"}


def identity_or_redacted(session: Session, actor: Actor, complaint: Complaint, purpose: str,
                         now: datetime | None = None) -> dict[str, str]:
    """For pages shown to anyone: the identity to those allowed (audited), the redacted view otherwise."""
    if not complaint.anonymous and complaint.identity_token and may_see_identity(actor, complaint):
        return identity_for(session, actor, complaint, purpose, now)
    return redacted(complaint)


def rotate_identities(session: Session, batch: int = 500) -> int:
    """Re-encrypt every stored identity under the first configured key; returns rows changed."""
    fernet, changed, last = _fernet(), 0, ""
    while True:
        rows = list(session.scalars(select(Complaint).where(Complaint.identity_token.is_not(None), Complaint.id > last)
                                    .order_by(Complaint.id).limit(batch)))
        if not rows:
            return changed
        for row in rows:
            assert row.identity_token is not None
            new = fernet.rotate(row.identity_token.encode()).decode()
            if new != row.identity_token:
                row.identity_token, changed = new, changed + 1
        last = rows[-1].id
        session.flush()

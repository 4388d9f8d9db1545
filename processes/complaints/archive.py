"""The closed complaint's file (一户一档): a ZIP of the record, the timeline, the attachments,
the letters sent and the audit trail of every instance that worked on it, with a SHA-256
manifest. The identity is left out (the record says only whether it was anonymous): the
archive is listed on the entity's page, which more people see than the handlers.
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

from engine import audit_history

from .identity import redacted
from .models import Complaint, ComplaintArchive, ComplaintBlob, ComplaintEvent, FeedbackDelivery

FIXED_TIME = (2020, 1, 1, 0, 0, 0)  # ZIP entry times fixed: the same content gives the same archive


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True, default=str).encode()


def build_archive(session: Session, complaint: Complaint, day: date) -> ComplaintArchive:
    files: list[tuple[str, bytes]] = []
    record = {"tracking_no": complaint.tracking_no, "channel": complaint.channel, "kind": complaint.kind,
              "petition_kind": complaint.petition_kind, "target": complaint.target_name,
              "entity_id": complaint.entity_id,
              "facts": complaint.facts, "request": complaint.request, "complainant": redacted(complaint),
              "received_on": complaint.received_on, "accepted_on": complaint.accepted_on,
              "handling_due": complaint.handling_due, "replied_on": complaint.replied_on, "outcome": complaint.outcome,
              "reply": complaint.reply_text, "penalty_case_id": complaint.penalty_case_id,
              "review_level": complaint.review_level, "paused_workdays": complaint.paused_workdays}
    files.append(("record.json", _json(record)))
    events = session.scalars(select(ComplaintEvent).where(ComplaintEvent.complaint_id == complaint.id)
                             .order_by(ComplaintEvent.id))
    files.append(("timeline.json", _json([{"at": e.at, "kind": e.kind, "public": e.public_text, "actor": e.actor}
                                          for e in events])))
    for item in complaint.attachments or []:
        blob = session.get(ComplaintBlob, item["sha256"])
        if blob is not None:
            files.append((f"attachments/{item['sha256'][:12]}-{item['name']}", blob.content))
    for sent in session.scalars(select(FeedbackDelivery).where(FeedbackDelivery.complaint_id == complaint.id)):
        blob = session.get(ComplaintBlob, sent.document_sha256) if sent.document_sha256 else None
        if blob is not None:
            ext = "pdf" if blob.media_type == "application/pdf" else "html"
            files.append((f"letters/{sent.id}-{sent.kind}-{sent.channel}.{ext}", blob.content))
    for instance_id in complaint.instance_ids or []:
        trail = [{"seq": e.seq, "at": e.created_at, "actor": e.actor, "action": e.action, "hash": e.hash}
                 for e in audit_history(session, instance_id)]
        files.append((f"audit/{instance_id}.json", _json(trail)))
    manifest = [{"name": name, "sha256": hashlib.sha256(content).hexdigest(), "size": len(content)}
                for name, content in files]
    manifest_bytes = _json(manifest)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in [*files, ("manifest.json", manifest_bytes)]:
            archive.writestr(zipfile.ZipInfo(name, FIXED_TIME), content)
    content = buffer.getvalue()
    digest = hashlib.sha256(content).hexdigest()
    if session.get(ComplaintBlob, digest) is None:
        session.add(ComplaintBlob(sha256=digest, media_type="application/zip", size=len(content), content=content))
    row = ComplaintArchive(complaint_id=complaint.id, entity_id=complaint.entity_id,
                           file_name=f"{complaint.tracking_no}-{day:%Y%m%d}.zip", sha256=digest,
                           manifest_sha256=hashlib.sha256(manifest_bytes).hexdigest(), manifest=manifest)
    session.add(row)
    session.flush()
    return row


def archives_for_entity(session: Session, entity_id: str) -> list[ComplaintArchive]:
    """The complaint archives on an entity's 一户一档 page, newest first."""
    return list(session.scalars(select(ComplaintArchive).where(ComplaintArchive.entity_id == entity_id)
                                .order_by(ComplaintArchive.id.desc())))

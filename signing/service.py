"""The signing verbs the rest of Weijian calls: create a record, sign it, verify it.

Plain functions on a caller-owned ``Session`` (the caller commits). A signature is stored
only after it verified in full at the moment it arrived, and then byte for byte as it came;
``verify_record`` re-checks every stored signature from scratch each time it is asked, so a
later change to a record or a signature in the database shows up as INVALID with a reason.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import UnknownRecordError
from .kinds import kind_of_tag
from .models import DeliberationRecord, RecordMember, StoredSignature, utcnow
from .pki import TrustAnchor, serial_hex, trust_anchor
from .records import DEFAULT_MIN_MEMBERS, DeliberationData, build_record_xml, record_uri, sha256_hex
from .report import Reason, RecordVerification, SignatureReport, Status
from .signer import Signer, SigningRequest
from .verify import CheckedRecord, check_record, verify_signature
from .xmlsafe import UnsafeXmlError, parse_xml


def create_record(session: Session, data: DeliberationData, *, min_members: int = DEFAULT_MIN_MEMBERS,
                  record_id: str | None = None, now: datetime | None = None) -> DeliberationRecord:
    """Build the canonical record for a deliberation and store it (immutable from now on).

    A deliberation whose content changes gets a new record; the old one keeps its signatures.
    """
    rid = record_id or str(uuid.uuid4())
    xml = build_record_xml(data, rid, min_members=min_members)
    record = DeliberationRecord(id=rid, case_ref=data.case_ref, case_number=data.case_number,
                                record_xml=xml, record_sha256=sha256_hex(xml), created_at=now or utcnow())
    session.add(record)
    for position, member in enumerate(data.members, start=1):
        session.add(RecordMember(record_id=rid, user_id=member.user_id, name=member.name, role=member.role,
                                 position=position))
    session.flush()
    return record


def get_record(session: Session, record_id: str) -> DeliberationRecord:
    record = session.get(DeliberationRecord, record_id)
    if record is None:
        raise UnknownRecordError(f"no deliberation record {record_id!r}")
    return record


def records_for_case(session: Session, case_ref: str) -> list[DeliberationRecord]:
    return list(session.scalars(select(DeliberationRecord).where(DeliberationRecord.case_ref == case_ref)
                                .order_by(DeliberationRecord.created_at)))


def stored_kind(record: DeliberationRecord) -> str:
    """The kind a stored record names by its root element (deliberation when it cannot be read:
    verification then reports the damage)."""
    try:
        root = parse_xml(record.record_xml)
    except UnsafeXmlError:
        return "deliberation"
    kind = kind_of_tag(root.tag) if isinstance(root.tag, str) else None
    return kind.name if kind else "deliberation"


def members(session: Session, record_id: str) -> list[RecordMember]:
    return list(session.scalars(select(RecordMember).where(RecordMember.record_id == record_id)
                                .order_by(RecordMember.position)))


def sign_record(session: Session, record_id: str, user_id: str, signer: Signer, *,
                now: datetime | None = None) -> SignatureReport:
    """Have ``signer`` sign the record as ``user_id``; store it only if it verifies.

    Refusals are reports (NOT_A_MEMBER, ALREADY_SIGNED, CERTIFICATE_REVOKED…), not exceptions:
    the signing page shows the reason. Nothing is stored for an INVALID report.
    """
    moment = now or utcnow()
    record = get_record(session, record_id)
    cert = signer.certificate
    member = session.scalar(select(RecordMember).where(RecordMember.record_id == record_id,
                                                       RecordMember.user_id == user_id))
    if member is None:
        return SignatureReport(Status.INVALID, Reason.NOT_A_MEMBER,
                               f"{user_id!r} is not a member of this deliberation",
                               signer_user_id=user_id, certificate_serial=serial_hex(cert.serial_number))
    kind = stored_kind(record)
    signature_xml = signer.sign(SigningRequest(record_xml=record.record_xml, record_uri=record_uri(record_id, kind),
                                               role=member.role, signing_time=moment, kind=kind))
    return submit_signature(session, record_id, user_id, signature_xml, now=moment)


def submit_signature(session: Session, record_id: str, user_id: str, signature_xml: bytes, *,
                     now: datetime | None = None, trust: TrustAnchor | None = None) -> SignatureReport:
    """Accept a signature document made elsewhere (server key today, a USB key later).

    Verified in full against the agency root with ``now`` as the receipt time; stored
    unchanged only when VALID.
    """
    received_at = now or utcnow()
    record = get_record(session, record_id)
    existing = session.scalar(select(StoredSignature.id).where(StoredSignature.record_id == record_id,
                                                               StoredSignature.user_id == user_id))
    if existing is not None:
        return SignatureReport(Status.INVALID, Reason.ALREADY_SIGNED, f"{user_id!r} has already signed",
                               signer_user_id=user_id, signature_id=existing)
    checked = check_record(record.record_xml, record_id)
    report = verify_signature(signature_xml, checked, trust=trust or trust_anchor(session),
                              received_at=received_at, expected_user_id=user_id)
    if not report.valid:
        return report
    if report.signing_time is None or report.certificate_serial is None:  # a VALID report always has both
        raise RuntimeError("VALID report without signing time or certificate serial")
    row = StoredSignature(record_id=record_id, user_id=user_id, certificate_serial=report.certificate_serial,
                          signature_xml=signature_xml, signing_time=report.signing_time,
                          received_at=received_at)
    session.add(row)
    session.flush()
    return dataclasses.replace(report, signature_id=row.id)


def verify_record(session: Session, record_id: str, *,
                  trust: TrustAnchor | None = None) -> RecordVerification:
    """Check every stored signature of a record again, from the stored bytes."""
    record = get_record(session, record_id)
    anchor = trust or trust_anchor(session)
    checked = check_record(record.record_xml, record_id)
    rows = session.scalars(select(StoredSignature).where(StoredSignature.record_id == record_id)
                           .order_by(StoredSignature.id)).all()
    reports = tuple(
        _with_stored_facts(verify_signature(row.signature_xml, checked, trust=anchor, received_at=row.received_at,
                                            expected_user_id=row.user_id), row)
        for row in rows
    )
    valid_signers = {r.signer_user_id for r in reports if r.valid}
    if isinstance(checked, CheckedRecord):
        expected = list(checked.members)
    else:  # the record itself is damaged: fall back to the member table
        expected = [m.user_id for m in members(session, record_id)]
    return RecordVerification(
        record_id=record_id,
        signatures=reports,
        unsigned_members=tuple(u for u in expected if u not in valid_signers),
        record_problem=checked.detail if isinstance(checked, SignatureReport) else None,
    )


def _with_stored_facts(report: SignatureReport, row: StoredSignature) -> SignatureReport:
    """Fill what a broken signature no longer tells from what was recorded when it was accepted.

    So an INVALID line still says whose signature it was, when, and with which certificate.
    """
    return dataclasses.replace(
        report,
        signature_id=row.id,
        signer_user_id=report.signer_user_id or row.user_id,
        signing_time=report.signing_time or row.signing_time,
        certificate_serial=report.certificate_serial or row.certificate_serial,
    )


def signature_documents(session: Session, record_id: str) -> dict[str, bytes]:
    """The archive package: the record and each signature under the names they reference.

    Any XMLDSig verifier (xmlsec1, DSS) can check the files in a folder laid out like this.
    """
    record = get_record(session, record_id)
    files = {record_uri(record_id, stored_kind(record)): record.record_xml}
    for row in session.scalars(select(StoredSignature).where(StoredSignature.record_id == record_id)
                               .order_by(StoredSignature.id)):
        files[f"signature-{row.id}.xml"] = row.signature_xml
    return files

"""Hostile inputs (after EU DSS's test corpus): each is INVALID with its own reason.

Two ways in: tampering with what is already stored (``verify_record`` must notice) and
submitting a bad signature (``submit_signature``/``sign_record`` must refuse it and store
nothing). No call may raise.
"""

from __future__ import annotations

import copy
import time
from datetime import timedelta

import pytest
from lxml import etree
from sqlalchemy import func, select

from signing import (
    Reason,
    RecordVerification,
    ServerKeySigner,
    SignatureReport,
    SigningRequest,
    Status,
    get_record,
    issue_certificate,
    record_uri,
    revoke_certificate,
    sign_record,
    submit_signature,
    verify_record,
)
from signing.models import StoredSignature, utcnow

from .conftest import CA_PASSPHRASE, World, passphrase_of

DS = "{http://www.w3.org/2000/09/xmldsig#}"
XADES = "{http://uri.etsi.org/01903/v1.3.2#}"


def _row(world: World, record_id: str, user_id: str) -> StoredSignature:
    row = world.session.scalar(select(StoredSignature).where(StoredSignature.record_id == record_id,
                                                             StoredSignature.user_id == user_id))
    assert row is not None
    return row


def _tamper_signature(world: World, record_id: str, user_id: str, new: bytes) -> None:
    _row(world, record_id, user_id).signature_xml = new
    world.session.commit()
    world.session.expire_all()


def _tamper_record(world: World, record_id: str, old: bytes, new: bytes) -> None:
    record = get_record(world.session, record_id)
    assert old in record.record_xml
    record.record_xml = record.record_xml.replace(old, new, 1)
    world.session.commit()
    world.session.expire_all()


def _signature_count(world: World, record_id: str) -> int:
    return world.session.scalar(select(func.count()).select_from(StoredSignature)
                                .where(StoredSignature.record_id == record_id)) or 0


def _verdict(world: World, record_id: str, user_id: str) -> SignatureReport:
    """Verify the record; the named member's signature must be INVALID, the others untouched."""
    row_id = _row(world, record_id, user_id).id
    verification = verify_record(world.session, record_id)
    assert not verification.complete
    [report] = [r for r in verification.signatures if r.signature_id == row_id]
    assert all(r.valid for r in verification.signatures if r.signature_id != row_id)
    assert report.status is Status.INVALID
    assert report.detail
    return report


def _all_invalid(verification: RecordVerification, reason: Reason) -> None:
    assert not verification.complete
    assert verification.signatures
    assert {(r.status, r.reason) for r in verification.signatures} == {(Status.INVALID, reason)}
    # Each line still says whose signature it was, when and with which certificate.
    assert all(r.signer_user_id and r.signing_time and r.certificate_serial for r in verification.signatures)


def _refused(world: World, report: SignatureReport, reason: Reason, record_id: str, before: int) -> None:
    assert report.status is Status.INVALID, report
    assert report.reason is reason, report
    assert report.signature_id is None
    assert _signature_count(world, record_id) == before, "nothing may be stored for an INVALID signature"


def _sign(world: World, signer: ServerKeySigner, record_id: str, role: str) -> bytes:
    record = get_record(world.session, record_id)
    return signer.sign(SigningRequest(record.record_xml, record_uri(record_id), role, utcnow()))


# --- the record changed after signing ---------------------------------------------------------

def test_one_changed_character_in_the_record_text(world: World) -> None:
    _tamper_record(world, world.signed_record, "伍仟元".encode(), "伍万元".encode())
    _all_invalid(verify_record(world.session, world.signed_record), Reason.RECORD_CHANGED)


def test_changed_evidence_hash(world: World) -> None:
    _tamper_record(world, world.signed_record, b"3f3f3f3f</SHA256>", b"3f3f3f3e</SHA256>")
    _all_invalid(verify_record(world.session, world.signed_record), Reason.RECORD_CHANGED)


def test_dtd_and_entity_in_the_record(world: World) -> None:
    _tamper_record(world, world.signed_record, b"<DeliberationRecord",
                   '<!DOCTYPE DeliberationRecord [<!ENTITY pen "警告">]>\n'.encode() + b"<DeliberationRecord")
    _tamper_record(world, world.signed_record, "<ProposedPenalty>警告".encode(), b"<ProposedPenalty>&pen;")
    verification = verify_record(world.session, world.signed_record)
    _all_invalid(verification, Reason.RECORD_DTD)
    assert verification.record_problem is not None
    assert verification.unsigned_members == ("wang", "li", "zhao")


def test_billion_laughs_in_the_record_is_refused_quickly(world: World) -> None:
    laughs = (b'<!DOCTYPE lolz [<!ENTITY lol "lol">' +
              b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                       for i in range(1, 10)) + b"]>\n<DeliberationRecord")
    _tamper_record(world, world.signed_record, b"<DeliberationRecord", laughs)
    started = time.perf_counter()
    _all_invalid(verify_record(world.session, world.signed_record), Reason.RECORD_DTD)
    assert time.perf_counter() - started < 1


# --- a signature that belongs elsewhere -------------------------------------------------------

def test_signature_copied_from_another_record(world: World) -> None:
    copied = _row(world, world.other_record, "wang").signature_xml
    before = _signature_count(world, world.unsigned_record)
    report = submit_signature(world.session, world.unsigned_record, "wang", copied)
    _refused(world, report, Reason.WRONG_RECORD, world.unsigned_record, before)

    _tamper_signature(world, world.signed_record, "wang", copied)
    assert _verdict(world, world.signed_record, "wang").reason is Reason.WRONG_RECORD


def test_copied_signature_with_the_reference_rewritten(world: World) -> None:
    copied = _row(world, world.other_record, "wang").signature_xml
    forged = copied.replace(record_uri(world.other_record).encode(),
                            record_uri(world.unsigned_record).encode())
    report = submit_signature(world.session, world.unsigned_record, "wang", forged)
    _refused(world, report, Reason.SIGNATURE_VALUE_INVALID, world.unsigned_record, 0)


def test_signature_by_a_certificate_from_another_ca(world: World) -> None:
    forged = _sign(world, world.foreign_signer, world.unsigned_record, "主持人")
    report = submit_signature(world.session, world.unsigned_record, "wang", forged)
    _refused(world, report, Reason.UNTRUSTED_CERTIFICATE, world.unsigned_record, 0)
    assert report.signer_user_id == "wang"  # the forged certificate claims to be wang's

    _tamper_signature(world, world.signed_record, "wang",
                      _sign(world, world.foreign_signer, world.signed_record, "主持人"))
    assert _verdict(world, world.signed_record, "wang").reason is \
        Reason.UNTRUSTED_CERTIFICATE


# --- the certificate was not good at signing time ---------------------------------------------

def test_expired_certificate(world: World) -> None:
    three_years_ago = utcnow() - timedelta(days=3 * 365)
    row = issue_certificate(world.session, "li", "李娜", passphrase_of("li"), ca_passphrase=CA_PASSPHRASE,
                            now=three_years_ago, validity=timedelta(days=365))
    expired = ServerKeySigner(row.pkcs12, passphrase_of("li"))
    report = sign_record(world.session, world.unsigned_record, "li", expired)
    _refused(world, report, Reason.CERTIFICATE_EXPIRED, world.unsigned_record, 0)
    assert report.certificate_serial == row.serial


def test_revoked_certificate(world: World) -> None:
    revoke_certificate(world.session, "zhao", reason="key_compromise", ca_passphrase=CA_PASSPHRASE)
    report = sign_record(world.session, world.unsigned_record, "zhao", world.signers["zhao"])
    _refused(world, report, Reason.CERTIFICATE_REVOKED, world.unsigned_record, 0)

    # A row slipped into the table behind the service's back is caught on verification.
    made = _sign(world, world.signers["zhao"], world.unsigned_record, "法制审核员")
    now = utcnow()
    world.session.add(StoredSignature(record_id=world.unsigned_record, user_id="zhao", certificate_serial="0",
                                      signature_xml=made, signing_time=now, received_at=now))
    world.session.commit()
    assert _verdict(world, world.unsigned_record, "zhao").reason is \
        Reason.CERTIFICATE_REVOKED


# --- the signer is not who they must be -------------------------------------------------------

def test_signer_who_is_not_a_member(world: World) -> None:
    outsider = world.signers["qian"]
    report = sign_record(world.session, world.signed_record, "qian", outsider)
    _refused(world, report, Reason.NOT_A_MEMBER, world.signed_record, 3)

    made = _sign(world, outsider, world.unsigned_record, "主持人")
    report = submit_signature(world.session, world.unsigned_record, "qian", made)
    _refused(world, report, Reason.NOT_A_MEMBER, world.unsigned_record, 0)

    report = submit_signature(world.session, world.unsigned_record, "wang", made)
    _refused(world, report, Reason.SIGNER_MISMATCH, world.unsigned_record, 0)


def test_member_claiming_another_role(world: World) -> None:
    made = _sign(world, world.signers["li"], world.unsigned_record, "主持人")
    report = submit_signature(world.session, world.unsigned_record, "li", made)
    _refused(world, report, Reason.ROLE_MISMATCH, world.unsigned_record, 0)


# --- the signature document was tampered with -------------------------------------------------

def test_injected_second_signature(world: World) -> None:
    root = etree.fromstring(_row(world, world.signed_record, "wang").signature_xml)
    other = etree.fromstring(_row(world, world.signed_record, "li").signature_xml)
    carrier = etree.SubElement(root, f"{DS}Object")
    carrier.append(other)
    _tamper_signature(world, world.signed_record, "wang", etree.tostring(root))
    assert _verdict(world, world.signed_record, "wang").reason is Reason.EXTRA_SIGNATURE


def test_signature_wrapping(world: World) -> None:
    """The signed SignedProperties is moved aside and an unsigned, altered copy takes its place."""
    root = etree.fromstring(_row(world, world.signed_record, "wang").signature_xml)
    signed = root.find(f"{DS}Object/{XADES}QualifyingProperties/{XADES}SignedProperties")
    assert signed is not None
    qualifying = signed.getparent()
    assert qualifying is not None
    fake = copy.deepcopy(signed)
    time_node = fake.find(f".//{XADES}SigningTime")
    assert time_node is not None
    time_node.text = "2020-01-01T00:00:00+00:00"
    qualifying.replace(signed, fake)
    hiding_place = etree.SubElement(etree.SubElement(root, f"{DS}Object"), "{urn:attacker}Wrapper")
    hiding_place.append(signed)
    _tamper_signature(world, world.signed_record, "wang", etree.tostring(root))
    assert _verdict(world, world.signed_record, "wang").reason is \
        Reason.SIGNATURE_WRAPPING


def test_signed_properties_changed_in_place(world: World) -> None:
    tampered = _row(world, world.signed_record, "li").signature_xml.replace(
        "承办人".encode(), "主持人".encode())
    _tamper_signature(world, world.signed_record, "li", tampered)
    assert _verdict(world, world.signed_record, "li").reason is \
        Reason.SIGNED_PROPERTIES_ALTERED


def test_truncated_signature(world: World) -> None:
    original = _row(world, world.signed_record, "wang").signature_xml
    _tamper_signature(world, world.signed_record, "wang", original[: len(original) // 2])
    assert _verdict(world, world.signed_record, "wang").reason is \
        Reason.SIGNATURE_MALFORMED


def test_truncated_signature_value(world: World) -> None:
    root = etree.fromstring(_row(world, world.signed_record, "zhao").signature_xml)
    value = root.find(f"{DS}SignatureValue")
    assert value is not None
    assert value.text is not None
    value.text = value.text[:-8]
    _tamper_signature(world, world.signed_record, "zhao", etree.tostring(root))
    assert _verdict(world, world.signed_record, "zhao").reason is \
        Reason.SIGNATURE_VALUE_INVALID


def test_dtd_in_the_signature(world: World) -> None:
    original = _row(world, world.signed_record, "wang").signature_xml
    body = original.split(b"?>", 1)[1]
    tampered = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + body
    before = _signature_count(world, world.unsigned_record)
    report = submit_signature(world.session, world.unsigned_record, "wang", tampered)
    _refused(world, report, Reason.SIGNATURE_DTD, world.unsigned_record, before)


@pytest.mark.parametrize(("payload", "reason"), [
    (b"", Reason.SIGNATURE_MALFORMED),
    (b"\x00\xff\xfe garbage", Reason.SIGNATURE_MALFORMED),
    (b"<notasignature/>", Reason.SIGNATURE_STRUCTURE),
    (b'<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/>', Reason.SIGNATURE_STRUCTURE),
    (b"<a>" * 10_000 + b"</a>" * 10_000, Reason.SIGNATURE_MALFORMED),
])
def test_garbage_never_raises_and_is_never_stored(world: World, payload: bytes, reason: Reason) -> None:
    report = submit_signature(world.session, world.unsigned_record, "wang", payload)
    _refused(world, report, reason, world.unsigned_record, 0)

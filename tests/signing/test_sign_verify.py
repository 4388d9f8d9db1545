"""Signing and verifying a deliberation record with three members: the ordinary path."""

from __future__ import annotations

from datetime import timedelta

from lxml import etree
from sqlalchemy import select

from signing import (
    Reason,
    ServerKeySigner,
    Signer,
    SigningRequest,
    Status,
    get_record,
    record_uri,
    revoke_certificate,
    sign_record,
    signature_documents,
    submit_signature,
    verify_record,
)
from signing.models import StoredSignature, utcnow
from signing.xades import AGENCY_POLICY

from .conftest import CA_PASSPHRASE, MEMBERS, World

XADES = "{http://uri.etsi.org/01903/v1.3.2#}"


def test_three_members_sign_and_every_signature_verifies(world: World) -> None:
    verification = verify_record(world.session, world.signed_record)

    assert verification.complete
    assert verification.unsigned_members == ()
    assert [(r.status, r.signer_user_id, r.role) for r in verification.signatures] == [
        (Status.VALID, uid, role) for uid, _name, role in MEMBERS]
    for report, (uid, name, _role) in zip(verification.signatures, MEMBERS, strict=True):
        assert report.signer_name == name
        assert report.certificate_serial == format(world.signers[uid].certificate.serial_number, "x")
        assert report.signing_time is not None
        assert report.signing_time.tzinfo is not None
        assert report.reason is None
    as_dict = verification.to_dict()
    assert as_dict["complete"] is True
    assert as_dict["signatures"][0]["status"] == "VALID"


def test_each_signature_is_a_separate_xades_bes_document(world: World) -> None:
    rows = world.session.scalars(select(StoredSignature).where(
        StoredSignature.record_id == world.signed_record).order_by(StoredSignature.id)).all()
    assert len(rows) == 3
    for row, (_uid, _name, role) in zip(rows, MEMBERS, strict=True):
        root = etree.fromstring(row.signature_xml)
        assert root.tag == "{http://www.w3.org/2000/09/xmldsig#}Signature"
        assert len(root.findall(".//{http://www.w3.org/2000/09/xmldsig#}Signature")) == 0
        props = root.find(f".//{XADES}SignedSignatureProperties")
        assert props is not None
        assert props.find(f"{XADES}SigningTime") is not None
        assert props.find(f"{XADES}SigningCertificateV2") is not None
        assert props.findtext(f"{XADES}SignerRole/{XADES}ClaimedRoles/{XADES}ClaimedRole") == role
        assert props.findtext(f".//{XADES}SigPolicyId/{XADES}Identifier") == AGENCY_POLICY.Identifier
        refs = root.findall("{http://www.w3.org/2000/09/xmldsig#}SignedInfo/"
                            "{http://www.w3.org/2000/09/xmldsig#}Reference")
        assert refs[0].get("URI") == record_uri(world.signed_record)


def test_signature_is_stored_exactly_as_the_signer_made_it(world: World) -> None:
    record = get_record(world.session, world.unsigned_record)
    now = utcnow()
    made = world.signers["wang"].sign(SigningRequest(record.record_xml, record_uri(record.id), "主持人", now))
    report = submit_signature(world.session, record.id, "wang", made, now=now)
    assert report.valid
    assert report.signature_id is not None
    stored = world.session.get(StoredSignature, report.signature_id)
    assert stored is not None
    assert stored.signature_xml == made


def test_partly_signed_record_lists_who_has_not_signed(world: World) -> None:
    verification = verify_record(world.session, world.other_record)
    assert verification.all_valid
    assert not verification.complete
    assert verification.unsigned_members == ("li", "zhao")


def test_a_member_signs_once(world: World) -> None:
    report = sign_record(world.session, world.signed_record, "li", world.signers["li"])
    assert report.status is Status.INVALID
    assert report.reason is Reason.ALREADY_SIGNED
    assert len(verify_record(world.session, world.signed_record).signatures) == 3


def test_revocation_after_signing_leaves_earlier_signatures_valid(world: World) -> None:
    later = utcnow() + timedelta(seconds=2)
    revoke_certificate(world.session, "zhao", ca_passphrase=CA_PASSPHRASE, now=later)
    assert verify_record(world.session, world.signed_record).complete


def test_server_key_signer_satisfies_the_signer_interface(world: World) -> None:
    signer: Signer = world.signers["wang"]
    assert isinstance(signer, Signer)
    assert isinstance(signer, ServerKeySigner)


def test_archive_package_holds_the_record_and_each_signature(world: World) -> None:
    files = signature_documents(world.session, world.signed_record)
    assert record_uri(world.signed_record) in files
    assert len(files) == 4

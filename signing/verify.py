"""Verification of one member's signature over one record: every check, in an order that
gives the most specific reason, and never an exception for hostile input.

Order: the record (safe, schema-valid, canonical) → the signature document (safe, exactly one
``ds:Signature``, the expected three references, nothing wrapped) → the certificate (issued
by the agency root, usable for signing) → cryptography via signxml (signature value, record
digest, SignedProperties digest, SigningCertificateV2, policy) → the signed properties read
from what signxml verified (never from the document) → time, validity, revocation (from the
agency CRL) → membership and role.

Why a reference named like a file: see ``signing.xades``. Why signxml's own certificate-time
check is neutralised: it would compare against a single time before we have read the signed
SigningTime; the validity check here uses that time and gives a specific reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml.exceptions import InvalidCertificate, InvalidDigest, InvalidInput, SignXMLException
from signxml.exceptions import InvalidSignature as SignxmlInvalidSignature
from signxml.util import add_pem_header
from signxml.xades import XAdESVerifyResult

from .errors import RecordInvalidError
from .pki import TrustAnchor, serial_hex
from .records import load_record, record_kind, record_uri
from .report import Reason, SignatureReport, Status
from .xades import (
    POLICIES,
    SIGNED_PROPERTIES_TYPE,
    AgencyVerifier,
    verify_config,
    xades_find,
    xades_findall,
)
from .xmlsafe import UnsafeXmlError, parse_xml

DS_SIGNATURE = "{http://www.w3.org/2000/09/xmldsig#}Signature"
MAX_CLOCK_SKEW = timedelta(minutes=5)
"""A signing time may be this far after the server received the signature (clock drift)."""
MAX_SUBMISSION_DELAY = timedelta(minutes=15)
"""…and this far before: a client-side signer has to upload within a quarter of an hour."""
_REFERENCE_INDEX = re.compile(r"reference (\d+)")


@dataclass(frozen=True)
class CheckedRecord:
    """A record that passed ``load_record``, with its members, ready for many signatures."""

    record_id: str
    root: etree._Element
    members: dict[str, tuple[str, str]]
    """user id → (name, role)"""
    kind: str = "deliberation"
    """signing.kinds: the record's kind, read from its own namespace"""

    @property
    def uri(self) -> str:
        return record_uri(self.record_id, self.kind)


class _Invalid(Exception):  # internal control flow, never escapes this module
    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def check_record(record_xml: bytes, record_id: str) -> CheckedRecord | SignatureReport:
    """Check stored record bytes once; an INVALID report (for every signature) if they fail."""
    try:
        root = load_record(record_xml)
    except RecordInvalidError as exc:
        reason = Reason.RECORD_DTD if exc.kind == "dtd" else Reason.RECORD_INVALID
        return SignatureReport(Status.INVALID, reason, str(exc))
    if root.get("recordId") != record_id:
        return SignatureReport(Status.INVALID, Reason.RECORD_INVALID,
                               f"record file names record {root.get('recordId')!r}, not {record_id!r}")
    kind = record_kind(root)
    ns = {"d": kind.ns}
    members: dict[str, tuple[str, str]] = {}
    for member in root.iterfind(kind.signers_path, ns):
        name = member.findtext("d:Name", default="", namespaces=ns)
        role = member.findtext("d:Role", default="", namespaces=ns)
        members[member.get("userId", "")] = (name, role)
    return CheckedRecord(record_id=record_id, root=root, members=members, kind=kind.name)


def verify_signature(signature_xml: bytes, record: CheckedRecord | SignatureReport, *, trust: TrustAnchor,
                     received_at: datetime, expected_user_id: str | None = None) -> SignatureReport:
    """Verify one signature document against a checked record; always returns a report."""
    if isinstance(record, SignatureReport):
        return record
    facts: dict[str, object] = {}
    try:
        _verify(signature_xml, record, trust=trust, received_at=received_at,
                expected_user_id=expected_user_id, facts=facts)
    except _Invalid as bad:
        return _report(Status.INVALID, bad.reason, bad.detail, facts)
    except Exception as exc:  # hostile input must never crash the caller: report it instead
        return _report(Status.INVALID, Reason.SIGNATURE_MALFORMED,
                       f"unexpected {exc.__class__.__name__}: {exc}", facts)
    return _report(Status.VALID, None, "", facts)


def _report(status: Status, reason: Reason | None, detail: str, facts: dict[str, object]) -> SignatureReport:
    signing_time = facts.get("signing_time")
    return SignatureReport(
        status=status, reason=reason, detail=detail,
        signer_user_id=_str_or_none(facts.get("user_id")),
        signer_name=_str_or_none(facts.get("name")),
        role=_str_or_none(facts.get("role")),
        signing_time=signing_time if isinstance(signing_time, datetime) else None,
        certificate_serial=_str_or_none(facts.get("serial")),
    )


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _verify(signature_xml: bytes, record: CheckedRecord, *, trust: TrustAnchor, received_at: datetime,
            expected_user_id: str | None, facts: dict[str, object]) -> None:
    root = _parse_signature(signature_xml)
    refs = _check_structure(root, record)
    cert = _certificate(root, trust, facts)
    verified = _crypto(signature_xml, cert, record, refs)
    signing_time = _signed_properties(verified, facts, record.kind)
    _check_time(cert, signing_time, received_at, trust)
    _check_member(cert, record, expected_user_id, facts)


def _parse_signature(signature_xml: bytes) -> etree._Element:
    try:
        root = parse_xml(signature_xml)
    except UnsafeXmlError as exc:
        reason = Reason.SIGNATURE_DTD if exc.kind == "dtd" else Reason.SIGNATURE_MALFORMED
        raise _Invalid(reason, str(exc)) from exc
    if root.tag != DS_SIGNATURE:
        raise _Invalid(Reason.SIGNATURE_STRUCTURE, f"document element is {root.tag}, not ds:Signature")
    count = sum(1 for _ in root.iter(DS_SIGNATURE))
    if count != 1:
        raise _Invalid(Reason.EXTRA_SIGNATURE, f"the document holds {count} ds:Signature elements; "
                                               "each member's signature must be a document of its own")
    return root


@dataclass(frozen=True)
class _References:
    record: int
    signed_properties: int
    key_info: int


def _check_structure(root: etree._Element, record: CheckedRecord) -> _References:
    """Exactly the three references we make, each pointing where it must (anti-wrapping)."""
    references = xades_findall(root, "ds:SignedInfo/ds:Reference")
    if len(references) != 3:
        raise _Invalid(Reason.SIGNATURE_STRUCTURE, f"expected 3 references, found {len(references)}")
    external = [i for i, r in enumerate(references) if not r.get("URI", "").startswith("#")]
    typed = [i for i, r in enumerate(references) if r.get("Type") == SIGNED_PROPERTIES_TYPE]
    if len(external) != 1 or len(typed) != 1 or external == typed:
        raise _Invalid(Reason.SIGNATURE_STRUCTURE, "expected one record reference and one SignedProperties "
                                                   "reference")
    uri = references[external[0]].get("URI", "")
    if uri != record.uri:
        raise _Invalid(Reason.WRONG_RECORD, f"the signature covers {uri!r}, not {record.uri!r}")
    key_index = ({0, 1, 2} - {external[0], typed[0]}).pop()

    all_props = list(root.iter("{http://uri.etsi.org/01903/v1.3.2#}SignedProperties"))
    all_qualifying = list(root.iter("{http://uri.etsi.org/01903/v1.3.2#}QualifyingProperties"))
    placed = xades_findall(root, "ds:Object/xades:QualifyingProperties/xades:SignedProperties")
    if len(all_props) != 1 or len(all_qualifying) != 1 or len(placed) != 1:
        raise _Invalid(Reason.SIGNATURE_WRAPPING,
                       f"found {len(all_props)} SignedProperties / {len(all_qualifying)} "
                       "QualifyingProperties; "
                       "exactly one of each, in ds:Object, is allowed")
    if references[typed[0]].get("URI") != f"#{placed[0].get('Id')}":
        raise _Invalid(Reason.SIGNATURE_WRAPPING, "the SignedProperties reference does not point at the "
                                                  "SignedProperties of this signature")
    qualifying = all_qualifying[0]
    if root.get("Id") is None or qualifying.get("Target") != f"#{root.get('Id')}":
        raise _Invalid(Reason.SIGNATURE_WRAPPING, "QualifyingProperties do not target this signature")
    key_infos = list(root.iter("{http://www.w3.org/2000/09/xmldsig#}KeyInfo"))
    placed_key = xades_find(root, "ds:KeyInfo")
    if len(key_infos) != 1 or placed_key is None or \
            references[key_index].get("URI") != f"#{placed_key.get('Id')}":
        raise _Invalid(Reason.SIGNATURE_WRAPPING, "the KeyInfo reference does not point at this "
                                                  "signature's KeyInfo")
    return _References(record=external[0], signed_properties=typed[0], key_info=key_index)


def _certificate(root: etree._Element, trust: TrustAnchor, facts: dict[str, object]) -> x509.Certificate:
    texts = xades_findall(root, "ds:KeyInfo/ds:X509Data/ds:X509Certificate")
    if len(texts) != 1 or not (texts[0].text or "").strip():
        raise _Invalid(Reason.SIGNATURE_STRUCTURE,
                       f"expected exactly one X509Certificate, found {len(texts)}")
    try:
        cert = x509.load_pem_x509_certificate(add_pem_header(texts[0].text))
    except ValueError as exc:
        raise _Invalid(Reason.SIGNATURE_MALFORMED, f"the certificate cannot be read: {exc}") from exc
    facts["serial"] = serial_hex(cert.serial_number)
    facts["name"] = _name_attr(cert, NameOID.COMMON_NAME)
    facts["user_id"] = _name_attr(cert, NameOID.USER_ID)
    try:
        if cert.issuer != trust.root.subject:
            raise ValueError("issuer name differs")
        cert.verify_directly_issued_by(trust.root)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise _Invalid(Reason.UNTRUSTED_CERTIFICATE,
                       f"certificate {facts['serial']} was not issued by the agency root "
                       f"({trust.root.subject.rfc4514_string()}): {exc or 'bad signature'}") from exc
    try:
        basic = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound as exc:
        raise _Invalid(Reason.CERTIFICATE_USAGE, f"certificate lacks {exc}") from exc
    if basic.ca or not usage.digital_signature or not usage.content_commitment:
        raise _Invalid(Reason.CERTIFICATE_USAGE, "certificate must be an end-entity certificate with "
                                                 "digitalSignature and nonRepudiation")
    if not facts["user_id"]:
        raise _Invalid(Reason.CERTIFICATE_USAGE, "certificate names no user (UID)")
    return cert


def _name_attr(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> str | None:
    attrs = cert.subject.get_attributes_for_oid(oid)
    if not attrs:
        return None
    value = attrs[0].value
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def _crypto(signature_xml: bytes, cert: x509.Certificate, record: CheckedRecord,
            refs: _References) -> XAdESVerifyResult:
    expected_uri = record.uri

    def resolve(uri: str) -> etree._Element:
        if uri != expected_uri:
            raise InvalidInput(f"unexpected reference {uri!r}")
        return record.root

    try:
        results = AgencyVerifier().verify(
            signature_xml, x509_cert=cert, uri_resolver=resolve,
            expect_signature_policy=POLICIES[record.kind],
            expect_config=verify_config(cert.not_valid_before_utc),  # validity is checked in _check_time
        )
    except InvalidDigest as exc:
        raise _digest_failure(str(exc), refs) from exc
    except SignxmlInvalidSignature as exc:
        raise _Invalid(Reason.SIGNATURE_VALUE_INVALID, str(exc)) from exc
    except InvalidCertificate as exc:
        raise _Invalid(Reason.UNTRUSTED_CERTIFICATE, str(exc)) from exc
    except etree.DocumentInvalid as exc:
        raise _Invalid(Reason.SIGNATURE_STRUCTURE, f"not a valid XAdES signature: {exc}") from exc
    except (InvalidInput, SignXMLException) as exc:
        message = str(exc)
        if "signature policy" in message or "signature digest algorithm" in message:
            raise _Invalid(Reason.POLICY_MISMATCH, message) from exc
        raise _Invalid(Reason.SIGNATURE_STRUCTURE, message) from exc
    found = [r for r in results if isinstance(r, XAdESVerifyResult)]
    if len(found) != 1:
        raise _Invalid(Reason.SIGNATURE_STRUCTURE, "no verified SignedProperties")
    return found[0]


def _digest_failure(message: str, refs: _References) -> _Invalid:
    if "certificate digest" in message:
        return _Invalid(Reason.SIGNING_CERTIFICATE_MISMATCH, message)
    match = _REFERENCE_INDEX.search(message)
    index = int(match.group(1)) if match else -1
    if index == refs.record:
        return _Invalid(Reason.RECORD_CHANGED, "the record's bytes differ from the bytes that were signed")
    if index == refs.signed_properties:
        return _Invalid(Reason.SIGNED_PROPERTIES_ALTERED, "the XAdES signed properties were changed")
    if index == refs.key_info:
        return _Invalid(Reason.KEY_INFO_ALTERED, "the signature's KeyInfo was changed")
    return _Invalid(Reason.SIGNATURE_STRUCTURE, message)


def _signed_properties(verified: XAdESVerifyResult, facts: dict[str, object], kind: str) -> datetime:
    """Read SigningTime, role and policy from the SignedProperties signxml verified."""
    props = verified.signed_properties
    if xades_find(props, "xades:SigningCertificateV2") is None:
        raise _Invalid(Reason.SIGNING_CERTIFICATE_MISMATCH, "SigningCertificateV2 is missing")
    policy_id = xades_find(props, "xades:SignaturePolicyIdentifier/xades:SignaturePolicyId/"
                                  "xades:SigPolicyId/xades:Identifier")
    policy = POLICIES[kind]
    if policy_id is None or policy_id.text != policy.Identifier:
        raise _Invalid(Reason.POLICY_MISMATCH, f"signature policy must be {policy.Identifier}")
    roles = xades_findall(props, "xades:SignerRole/xades:ClaimedRoles/xades:ClaimedRole")
    facts["role"] = roles[0].text if len(roles) == 1 else None
    time_node = xades_find(props, "xades:SigningTime")
    if time_node is None or not time_node.text:
        raise _Invalid(Reason.SIGNING_TIME_MISSING, "SigningTime is missing")
    try:
        signing_time = datetime.fromisoformat(time_node.text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise _Invalid(Reason.SIGNING_TIME_MISSING, f"SigningTime is not a date-time: {exc}") from exc
    if signing_time.tzinfo is None:
        raise _Invalid(Reason.SIGNING_TIME_MISSING, "SigningTime has no time zone")
    facts["signing_time"] = signing_time
    return signing_time


def _check_time(cert: x509.Certificate, signing_time: datetime, received_at: datetime,
                trust: TrustAnchor) -> None:
    if signing_time > received_at + MAX_CLOCK_SKEW or signing_time < received_at - MAX_SUBMISSION_DELAY:
        raise _Invalid(Reason.SIGNING_TIME_IMPLAUSIBLE,
                       f"SigningTime {signing_time.isoformat()} is too far from the time the signature "
                       f"was received ({received_at.isoformat()})")
    if signing_time < cert.not_valid_before_utc:
        raise _Invalid(Reason.CERTIFICATE_NOT_YET_VALID,
                       f"certificate valid from {cert.not_valid_before_utc.isoformat()}")
    if signing_time > cert.not_valid_after_utc:
        raise _Invalid(Reason.CERTIFICATE_EXPIRED,
                       f"certificate expired {cert.not_valid_after_utc.isoformat()}, "
                       f"signed {signing_time.isoformat()}")
    crl = trust.crl  # checked against the root by TrustAnchor.of
    if crl is None:
        raise _Invalid(Reason.REVOCATION_UNKNOWN, "no CRL signed by the agency root is available")
    entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
    # The later of the two times: a signature cannot be backdated past a revocation.
    if entry is not None and entry.revocation_date_utc <= max(signing_time, received_at):
        raise _Invalid(Reason.CERTIFICATE_REVOKED,
                       f"certificate revoked {entry.revocation_date_utc.isoformat()}, "
                       f"before the signature ({signing_time.isoformat()})")


def _check_member(cert: x509.Certificate, record: CheckedRecord, expected_user_id: str | None,
                  facts: dict[str, object]) -> None:
    user_id = str(facts["user_id"])
    if expected_user_id is not None and user_id != expected_user_id:
        raise _Invalid(Reason.SIGNER_MISMATCH,
                       f"signature is filed for {expected_user_id!r} but was made by {user_id!r}")
    if user_id not in record.members:
        raise _Invalid(Reason.NOT_A_MEMBER, f"{user_id!r} is not a member of this deliberation")
    _name, role = record.members[user_id]
    if facts.get("role") != role:
        raise _Invalid(Reason.ROLE_MISMATCH, f"signed as {facts.get('role')!r}, the record says {role!r}")

"""The agency's own PKI: a root CA, per-user signing certificates, revocation and CRLs.

电子签名法 Art. 13 asks that the signing key belong to and be controlled only by the signer.
So each user's key is generated once, packed with their certificate into a PKCS#12 encrypted
under a passphrase the user chooses (PBES2, AES-256, 600,000 PBKDF2 rounds), and the
passphrase is never stored. The CA key sits in the database the same way, under
``WEIJIAN_CA_PASSPHRASE`` (see ``signing/README.md``).

Trust is the agency root alone: no web PKI bundle is ever consulted. Certificates are issued
directly by the root (no intermediates), so a chain check is one signature check.
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import (
    CaAlreadyInitializedError,
    CaNotInitializedError,
    CaPassphraseError,
    NoCertificateError,
    PassphraseError,
    WeakPassphraseError,
)
from .models import CertificateAuthority, IssuedCertificate, RevocationList, utcnow

CA_PASSPHRASE_ENV = "WEIJIAN_CA_PASSPHRASE"  # noqa: S105 - the variable's name, not a secret
DEFAULT_CA_NAME = "卫生监督所电子签名根证书"
DEFAULT_ORGANIZATION = "卫生监督所"
KDF_ROUNDS = 600_000
"""PBKDF2-HMAC-SHA256 rounds for every PKCS#12 (OWASP 2023); ~0.1 s per unlock here."""
MIN_PASSPHRASE_LENGTH = 8
CA_VALIDITY = timedelta(days=20 * 365)
USER_VALIDITY = timedelta(days=2 * 365)
CRL_VALIDITY = timedelta(days=7)
PERSON = "person"
"""``IssuedCertificate.kind`` of a user's own signing certificate (``seals.SEAL``: a unit's seal)."""
BACKDATE = timedelta(minutes=5)
"""Certificates start a little in the past so a client clock slightly behind still works."""

REVOCATION_REASONS = {
    "unspecified": x509.ReasonFlags.unspecified,
    "key_compromise": x509.ReasonFlags.key_compromise,
    "affiliation_changed": x509.ReasonFlags.affiliation_changed,
    "superseded": x509.ReasonFlags.superseded,
    "cessation_of_operation": x509.ReasonFlags.cessation_of_operation,
}


@dataclass(frozen=True)
class TrustAnchor:
    """What verification trusts: the agency root and its newest CRL, parsed and checked once.

    ``crl`` is kept only if the root signed it; otherwise it is None and revocation status is
    unknown (every signature is then INVALID with REVOCATION_UNKNOWN).
    """

    root: x509.Certificate
    crl: x509.CertificateRevocationList | None

    @classmethod
    def of(cls, root: x509.Certificate, crl: x509.CertificateRevocationList | None) -> TrustAnchor:
        key = root.public_key()
        if crl is not None and (crl.issuer != root.subject
                                or not isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey)
                                or not crl.is_signature_valid(key)):
            crl = None
        return cls(root=root, crl=crl)


def serial_hex(serial: int) -> str:
    return format(serial, "x")


def _encode_passphrase(passphrase: str | bytes) -> bytes:
    """NFC + UTF-8, so the same passphrase typed on any keyboard or browser opens the file."""
    if isinstance(passphrase, bytes):
        return passphrase
    return unicodedata.normalize("NFC", passphrase).encode("utf-8")


def _check_strength(passphrase: str | bytes, what: str) -> bytes:
    """Encode and check length in characters (a Chinese passphrase is not shorter for it)."""
    length = len(passphrase) if isinstance(passphrase, bytes) else len(unicodedata.normalize("NFC", passphrase))
    if length < MIN_PASSPHRASE_LENGTH:
        raise WeakPassphraseError(f"{what} needs at least {MIN_PASSPHRASE_LENGTH} characters")
    return _encode_passphrase(passphrase)


def _pkcs12_encryption(passphrase: bytes) -> serialization.KeySerializationEncryption:
    return (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(KDF_ROUNDS)
        .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
        .hmac_hash(hashes.SHA256())
        .build(passphrase)
    )


def _ca_passphrase(ca_passphrase: str | bytes | None) -> bytes:
    if ca_passphrase is None:
        ca_passphrase = os.environ.get(CA_PASSPHRASE_ENV)
        if not ca_passphrase:
            raise CaPassphraseError(f"set {CA_PASSPHRASE_ENV} to the CA passphrase")
    return _encode_passphrase(ca_passphrase)


def _now(now: datetime | None) -> datetime:
    moment = now or utcnow()
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass an aware UTC time")
    return moment


def init_ca(session: Session, *, ca_passphrase: str | bytes | None = None,
            common_name: str = DEFAULT_CA_NAME, organization: str = DEFAULT_ORGANIZATION,
            now: datetime | None = None) -> CertificateAuthority:
    """Create the agency root CA (EC P-256) and publish an empty CRL.

    Refuses when a root exists: replacing it would orphan every signature made under it.
    """
    if session.scalar(select(CertificateAuthority).where(CertificateAuthority.active)) is not None:
        raise CaAlreadyInitializedError("the agency CA already exists")
    if ca_passphrase is None:
        ca_passphrase = _ca_passphrase(None)
    secret = _check_strength(ca_passphrase, "the CA passphrase")
    moment = _now(now)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(moment - BACKDATE).not_valid_after(moment + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False, key_agreement=False,
                                     key_cert_sign=True, crl_sign=True, encipher_only=False,
                                     decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    ca = CertificateAuthority(
        common_name=common_name,
        serial=serial_hex(cert.serial_number),
        certificate_pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
        key_pkcs12=pkcs12.serialize_key_and_certificates(b"weijian-ca", key, cert, None,
                                                         _pkcs12_encryption(secret)),
        fingerprint_sha256=cert.fingerprint(hashes.SHA256()).hex(),
        active=True,
        created_at=moment,
    )
    session.add(ca)
    session.flush()
    _publish_crl(session, ca, key, cert, moment)
    return ca


def active_ca(session: Session) -> CertificateAuthority:
    ca = session.scalar(select(CertificateAuthority).where(CertificateAuthority.active))
    if ca is None:
        raise CaNotInitializedError("no agency CA: run `pki init` first")
    return ca


def ca_certificate(session: Session) -> x509.Certificate:
    """The agency root certificate (what a third party needs to check our signatures)."""
    return x509.load_pem_x509_certificate(active_ca(session).certificate_pem.encode())


def _unlock_ca(ca: CertificateAuthority, ca_passphrase: str | bytes | None
               ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    try:
        key, cert, _ = pkcs12.load_key_and_certificates(ca.key_pkcs12, _ca_passphrase(ca_passphrase))
    except ValueError as exc:
        raise CaPassphraseError("the CA passphrase does not open the CA key") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or cert is None:
        raise CaPassphraseError("the CA key store is damaged")
    return key, cert


def issue_certificate(session: Session, user_id: str, display_name: str, passphrase: str | bytes, *,
                      ca_passphrase: str | bytes | None = None, validity: timedelta = USER_VALIDITY,
                      now: datetime | None = None) -> IssuedCertificate:
    """Issue ``user_id`` a signing certificate and PKCS#12 locked with the user's passphrase.

    A user's earlier current certificate is revoked as *superseded* (e.g. a forgotten
    passphrase): signatures made before now stay valid. ``validity``/``now`` exist for
    demo data and tests (an already-expired certificate is one of the hostile cases).
    """
    secret = _check_strength(passphrase, "the passphrase")
    if not user_id or any(ch.isspace() for ch in user_id) or len(user_id) > 100:
        raise ValueError("user_id must be 1-100 characters without spaces")
    ca = active_ca(session)
    ca_key, ca_cert = _unlock_ca(ca, ca_passphrase)
    moment = _now(now)
    superseded = current_certificates(session, user_id, now=moment)
    for old in superseded:
        old.revoked_at = moment
        old.revocation_reason = "superseded"

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        *ca_cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME),
        x509.NameAttribute(NameOID.USER_ID, user_id),
        x509.NameAttribute(NameOID.COMMON_NAME, display_name),
    ])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(ca_cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(moment - BACKDATE).not_valid_after(moment + validity)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    issued = IssuedCertificate(
        ca_id=ca.id,
        serial=serial_hex(cert.serial_number),
        user_id=user_id,
        display_name=display_name,
        certificate_pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
        pkcs12=pkcs12.serialize_key_and_certificates(user_id.encode(), key, cert, [ca_cert],
                                                     _pkcs12_encryption(secret)),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        issued_at=moment,
    )
    session.add(issued)
    session.flush()
    if superseded:
        _publish_crl(session, ca, ca_key, ca_cert, moment)
    return issued


def current_certificates(session: Session, user_id: str, *, now: datetime | None = None,
                         kind: str = PERSON) -> list[IssuedCertificate]:
    """The user's (``kind="seal"``: the unit's) unrevoked, unexpired certificates, newest first."""
    moment = _now(now)
    rows = session.scalars(
        select(IssuedCertificate)
        .where(IssuedCertificate.kind == kind, IssuedCertificate.user_id == user_id,
               IssuedCertificate.revoked_at.is_(None))
        .order_by(IssuedCertificate.issued_at.desc(), IssuedCertificate.id.desc())
    ).all()
    return [row for row in rows if row.not_before <= moment <= row.not_after]


def latest_certificate(session: Session, user_id: str) -> IssuedCertificate:
    """The user's newest certificate whatever its state (signing checks validity itself)."""
    row = session.scalar(
        select(IssuedCertificate).where(IssuedCertificate.kind == PERSON, IssuedCertificate.user_id == user_id)
        .order_by(IssuedCertificate.issued_at.desc(), IssuedCertificate.id.desc()).limit(1)
    )
    if row is None:
        raise NoCertificateError(f"user {user_id!r} has no signing certificate")
    return row


def revoke_certificate(session: Session, user_id: str, *, reason: str = "unspecified",
                       ca_passphrase: str | bytes | None = None, now: datetime | None = None,
                       kind: str = PERSON) -> list[IssuedCertificate]:
    """Revoke every unrevoked certificate of ``user_id`` (``kind="seal"``: of the unit) and publish a CRL.

    Signatures made before ``now`` stay valid; later ones are refused.
    """
    if reason not in REVOCATION_REASONS:
        raise ValueError(f"reason must be one of {sorted(REVOCATION_REASONS)}")
    ca = active_ca(session)
    ca_key, ca_cert = _unlock_ca(ca, ca_passphrase)
    moment = _now(now)
    rows = session.scalars(
        select(IssuedCertificate)
        .where(IssuedCertificate.kind == kind, IssuedCertificate.user_id == user_id,
               IssuedCertificate.revoked_at.is_(None))
    ).all()
    if not rows:
        raise NoCertificateError(f"user {user_id!r} has no unrevoked certificate")
    for row in rows:
        row.revoked_at = moment
        row.revocation_reason = reason
    session.flush()
    _publish_crl(session, ca, ca_key, ca_cert, moment)
    return list(rows)


def publish_crl(session: Session, *, ca_passphrase: str | bytes | None = None,
                now: datetime | None = None) -> RevocationList:
    """Publish a fresh CRL (e.g. from a weekly job, before the last one's next-update)."""
    ca = active_ca(session)
    ca_key, ca_cert = _unlock_ca(ca, ca_passphrase)
    return _publish_crl(session, ca, ca_key, ca_cert, _now(now))


def _publish_crl(session: Session, ca: CertificateAuthority, ca_key: ec.EllipticCurvePrivateKey,
                 ca_cert: x509.Certificate, moment: datetime) -> RevocationList:
    last = session.scalar(select(RevocationList.number).where(RevocationList.ca_id == ca.id)
                          .order_by(RevocationList.number.desc()).limit(1))
    number = (last or 0) + 1
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(moment).next_update(moment + CRL_VALIDITY)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
    )
    revoked = session.scalars(select(IssuedCertificate).where(
        IssuedCertificate.ca_id == ca.id, IssuedCertificate.revoked_at.is_not(None))).all()
    for row in revoked:
        if row.revoked_at is None:  # excluded by the query; keeps the type checker informed
            continue
        entry = (x509.RevokedCertificateBuilder().serial_number(int(row.serial, 16))
                 .revocation_date(row.revoked_at))
        flag = REVOCATION_REASONS.get(row.revocation_reason or "unspecified", x509.ReasonFlags.unspecified)
        entry = entry.add_extension(x509.CRLReason(flag), critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    crl = builder.sign(ca_key, hashes.SHA256())
    row_crl = RevocationList(ca_id=ca.id, number=number, this_update=moment,
                             next_update=moment + CRL_VALIDITY,
                             crl_der=crl.public_bytes(serialization.Encoding.DER))
    session.add(row_crl)
    session.flush()
    return row_crl


def latest_crl(session: Session) -> RevocationList | None:
    ca = active_ca(session)
    return session.scalar(select(RevocationList).where(RevocationList.ca_id == ca.id)
                          .order_by(RevocationList.number.desc()).limit(1))


def trust_anchor(session: Session) -> TrustAnchor:
    """Load the agency root and its newest CRL once, for verifying many signatures."""
    ca = active_ca(session)
    root = x509.load_pem_x509_certificate(ca.certificate_pem.encode())
    row = session.scalar(select(RevocationList).where(RevocationList.ca_id == ca.id)
                         .order_by(RevocationList.number.desc()).limit(1))
    crl = None if row is None else x509.load_der_x509_crl(row.crl_der)
    return TrustAnchor.of(root, crl)


def unlock_pkcs12(pkcs12_bytes: bytes, passphrase: str | bytes
                  ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """Open a user's PKCS#12; ``PassphraseError`` if the passphrase is wrong."""
    try:
        key, cert, _ = pkcs12.load_key_and_certificates(pkcs12_bytes, _encode_passphrase(passphrase))
    except ValueError as exc:
        raise PassphraseError("wrong passphrase for the signing key") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or cert is None:
        raise PassphraseError("the key store holds no EC signing key and certificate")
    return key, cert


def certificate_fingerprint(cert: x509.Certificate) -> str:
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()

"""Units' electronic seal certificates (电子印章证书): a key per unit, issued by the agency root.

An outward document (decision, notice, transfer letter) is sealed by the *unit*, not by a
person, and the seal is applied by a background job with nobody at the keyboard. So the seal
key cannot be locked with a person's passphrase: it is a PKCS#12 with the same encryption as
user keys, locked with ``WEIJIAN_SEAL_PASSPHRASE`` (configuration, like the CA passphrase; the
database alone, e.g. a backup, does not open it). The certificate names the unit: CN and O are
the unit's name from the directory, organizationIdentifier its unit id, OU ``电子印章``. It has
no UID attribute, so it can never pass as a person's key on a deliberation record.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from sqlalchemy.orm import Session

from .errors import NoSealCertificateError, SealPassphraseError
from .models import IssuedCertificate
from .pki import (
    BACKDATE,
    USER_VALIDITY,
    _check_strength,
    _encode_passphrase,
    _now,
    _pkcs12_encryption,
    _publish_crl,
    _unlock_ca,
    active_ca,
    current_certificates,
    latest_crl,
    serial_hex,
)

SEAL = "seal"
"""``IssuedCertificate.kind`` of a unit's seal certificate."""
SEAL_PASSPHRASE_ENV = "WEIJIAN_SEAL_PASSPHRASE"  # noqa: S105 - the variable's name, not a secret
SEAL_UNIT_NAME = "电子印章"
SEAL_VALIDITY = USER_VALIDITY


@dataclass(frozen=True)
class UnitSeal:
    """A unit's unlocked seal key with its certificate and the root that issued it."""

    unit_id: str
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    root: x509.Certificate


def seal_passphrase(value: str | bytes | None = None) -> bytes:
    """The seal passphrase given, else ``WEIJIAN_SEAL_PASSPHRASE``; never a built-in default."""
    if value is None:
        value = os.environ.get(SEAL_PASSPHRASE_ENV)
        if not value:
            raise SealPassphraseError(f"set {SEAL_PASSPHRASE_ENV} to the units' seal passphrase")
    return _encode_passphrase(value)


def issue_seal_certificate(session: Session, unit_id: str, unit_name: str, *,
                           passphrase: str | bytes | None = None, ca_passphrase: str | bytes | None = None,
                           validity: timedelta = SEAL_VALIDITY, now: datetime | None = None) -> IssuedCertificate:
    """Issue ``unit_id`` a seal certificate; its earlier current one is revoked as *superseded*.

    Documents sealed before stay valid (their signatures were made while it was current).
    """
    secret = _check_strength(seal_passphrase(passphrase), f"{SEAL_PASSPHRASE_ENV}")
    if not unit_id or any(ch.isspace() for ch in unit_id) or len(unit_id) > 100:
        raise ValueError("unit_id must be 1-100 characters without spaces")
    if not unit_name.strip():
        raise ValueError("the unit name is empty")
    ca = active_ca(session)
    ca_key, ca_cert = _unlock_ca(ca, ca_passphrase)
    moment = _now(now)
    superseded = current_certificates(session, unit_id, now=moment, kind=SEAL)
    for old in superseded:
        old.revoked_at = moment
        old.revocation_reason = "superseded"
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, unit_name),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, SEAL_UNIT_NAME),
        x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, unit_id),
        x509.NameAttribute(NameOID.COMMON_NAME, unit_name),
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
        ca_id=ca.id, kind=SEAL, serial=serial_hex(cert.serial_number), user_id=unit_id, display_name=unit_name,
        certificate_pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
        pkcs12=pkcs12.serialize_key_and_certificates(unit_id.encode(), key, cert, [ca_cert],
                                                     _pkcs12_encryption(secret)),
        not_before=cert.not_valid_before_utc, not_after=cert.not_valid_after_utc, issued_at=moment,
    )
    session.add(issued)
    session.flush()
    if superseded:
        _publish_crl(session, ca, ca_key, ca_cert, moment)
    return issued


def seal_certificate(session: Session, unit_id: str, *, now: datetime | None = None) -> IssuedCertificate:
    """The unit's current seal certificate; ``NoSealCertificateError`` if it has none."""
    rows = current_certificates(session, unit_id, now=now, kind=SEAL)
    if not rows:
        raise NoSealCertificateError(f"unit {unit_id!r} has no current seal certificate: "
                                     f"run `weijian pki seal {unit_id}`")
    return rows[0]


def unit_seal(session: Session, unit_id: str, *, passphrase: str | bytes | None = None,
              now: datetime | None = None) -> UnitSeal:
    """Unlock the unit's current seal key (~0.1 s: the PKCS#12's 600,000 PBKDF2 rounds)."""
    row = seal_certificate(session, unit_id, now=now)
    try:
        key, cert, _ = pkcs12.load_key_and_certificates(row.pkcs12, seal_passphrase(passphrase))
    except ValueError as exc:
        raise SealPassphraseError(f"{SEAL_PASSPHRASE_ENV} does not open the seal key of unit {unit_id!r}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or cert is None:
        raise SealPassphraseError(f"the seal key store of unit {unit_id!r} is damaged")
    root = x509.load_pem_x509_certificate(active_ca(session).certificate_pem.encode())
    return UnitSeal(unit_id=unit_id, key=key, certificate=cert, root=root)


def latest_crl_der(session: Session) -> bytes | None:
    """The newest CRL the agency published (DER), for checking a seal's revocation."""
    row = latest_crl(session)
    return None if row is None else row.crl_der

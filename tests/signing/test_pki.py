"""The agency PKI: root, per-user certificates in passphrase-locked PKCS#12, revocation, CRL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from signing import (
    CaAlreadyInitializedError,
    CaPassphraseError,
    NoCertificateError,
    PassphraseError,
    ServerKeySigner,
    WeakPassphraseError,
    ca_certificate,
    current_certificates,
    init_ca,
    issue_certificate,
    latest_certificate,
    revoke_certificate,
    trust_anchor,
)
from signing.models import IssuedCertificate, utcnow

from .conftest import CA_PASSPHRASE, World, passphrase_of


def _ec_key(cert: x509.Certificate) -> ec.EllipticCurvePublicKey:
    key = cert.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    return key


def test_root_is_a_p256_ca_and_user_certificates_are_for_signing_only(world: World) -> None:
    root = ca_certificate(world.session)
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    root_usage = root.extensions.get_extension_for_class(x509.KeyUsage).value
    assert root_usage.key_cert_sign
    assert root_usage.crl_sign

    row = latest_certificate(world.session, "wang")
    cert = x509.load_pem_x509_certificate(row.certificate_pem.encode())
    cert.verify_directly_issued_by(root)
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature
    assert usage.content_commitment
    assert not usage.key_cert_sign
    assert not usage.key_encipherment
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert cert.subject.get_attributes_for_oid(NameOID.USER_ID)[0].value == "wang"
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "王志强"


def test_only_the_users_passphrase_opens_the_pkcs12(world: World) -> None:
    row = latest_certificate(world.session, "li")
    with pytest.raises(PassphraseError):
        ServerKeySigner(row.pkcs12, "wrong passphrase")
    with pytest.raises(PassphraseError):
        ServerKeySigner.for_user(world.session, "li", passphrase_of("wang"))
    with pytest.raises(ValueError, match="Invalid password"):
        pkcs12.load_pkcs12(row.pkcs12, None)
    signer = ServerKeySigner(row.pkcs12, passphrase_of("li"))
    assert signer.certificate.serial_number == int(row.serial, 16)
    assert "口令" not in repr(signer)
    assert passphrase_of("li") not in repr(vars(signer))


def test_passphrase_is_not_stored_anywhere(world: World) -> None:
    secret = passphrase_of("li").encode()
    for row in world.session.scalars(select(IssuedCertificate)):
        assert secret not in row.pkcs12
        assert passphrase_of("li") not in row.certificate_pem


def test_weak_passphrases_and_wrong_ca_passphrase_are_refused(world: World) -> None:
    with pytest.raises(WeakPassphraseError):
        issue_certificate(world.session, "sun", "孙", "short", ca_passphrase=CA_PASSPHRASE)
    with pytest.raises(CaPassphraseError):
        issue_certificate(world.session, "sun", "孙", "long enough passphrase",
                          ca_passphrase="not the CA one")
    with pytest.raises(CaAlreadyInitializedError):
        init_ca(world.session, ca_passphrase=CA_PASSPHRASE)


def test_ca_passphrase_comes_from_the_environment_when_not_given(world: World,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEIJIAN_CA_PASSPHRASE", raising=False)
    with pytest.raises(CaPassphraseError, match="WEIJIAN_CA_PASSPHRASE"):
        issue_certificate(world.session, "sun", "孙", "long enough passphrase")
    monkeypatch.setenv("WEIJIAN_CA_PASSPHRASE", CA_PASSPHRASE)
    assert issue_certificate(world.session, "sun", "孙", "long enough passphrase").user_id == "sun"


def test_revocation_publishes_a_crl_signed_by_the_root(world: World) -> None:
    before = trust_anchor(world.session).crl
    assert before is not None
    assert len(list(before)) == 0
    [row] = revoke_certificate(world.session, "zhao", reason="key_compromise", ca_passphrase=CA_PASSPHRASE)
    anchor = trust_anchor(world.session)
    assert anchor.crl is not None
    assert anchor.crl.is_signature_valid(_ec_key(anchor.root))
    entry = anchor.crl.get_revoked_certificate_by_serial_number(int(row.serial, 16))
    assert entry is not None
    reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    assert reason == x509.ReasonFlags.key_compromise
    assert current_certificates(world.session, "zhao") == []
    with pytest.raises(NoCertificateError):
        revoke_certificate(world.session, "zhao", ca_passphrase=CA_PASSPHRASE)


def test_reissuing_supersedes_the_old_certificate(world: World) -> None:
    old = latest_certificate(world.session, "li")
    later = utcnow() + timedelta(seconds=2)
    new = issue_certificate(world.session, "li", "李娜", "a new passphrase", ca_passphrase=CA_PASSPHRASE,
                            now=later)
    assert old.revocation_reason == "superseded"
    assert [c.serial for c in current_certificates(world.session, "li", now=later)] == [new.serial]
    crl = trust_anchor(world.session).crl
    assert crl is not None
    assert crl.get_revoked_certificate_by_serial_number(int(old.serial, 16)) is not None

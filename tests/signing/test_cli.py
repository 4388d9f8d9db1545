"""``pki init / issue / revoke / crl / root`` through click, on a migrated database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy.orm import Session, sessionmaker

from signing import ServerKeySigner, latest_certificate, make_pki_cli, trust_anchor

CA_ENV = {"WEIJIAN_CA_PASSPHRASE": "cli-root-passphrase"}


@pytest.fixture
def pki(session_factory: sessionmaker[Session]) -> click.Group:
    @contextmanager
    def session_scope() -> Iterator[Session]:
        with session_factory() as session:
            yield session
            session.commit()

    return make_pki_cli(session_scope)


def _ec_key(cert: x509.Certificate) -> ec.EllipticCurvePublicKey:
    key = cert.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    return key


def test_init_issue_revoke_crl(pki: click.Group, session_factory: sessionmaker[Session],
                               tmp_path: Path) -> None:
    runner = CliRunner()
    assert pki.name == "pki"

    result = runner.invoke(pki, ["init"], env=CA_ENV)
    assert result.exit_code == 0, result.output
    assert "fingerprint" in result.output
    again = runner.invoke(pki, ["init"], env=CA_ENV)
    assert again.exit_code == 1
    assert "already exists" in again.output

    result = runner.invoke(pki, ["issue", "alice", "--name", "艾丽斯", "--passphrase-env", "ALICE_PASS"],
                           env={**CA_ENV, "ALICE_PASS": "alice passphrase 1"})
    assert result.exit_code == 0, result.output
    assert "alice passphrase 1" not in result.output

    result = runner.invoke(pki, ["issue", "bob"], input="bob passphrase 22\nbob passphrase 22\n", env=CA_ENV)
    assert result.exit_code == 0, result.output
    assert "bob passphrase 22" not in result.output

    with session_factory() as session:
        alice = latest_certificate(session, "alice")
        assert ServerKeySigner(alice.pkcs12, "alice passphrase 1").certificate.subject.rfc4514_string() \
            .startswith("CN=艾丽斯,UID=alice")
        ServerKeySigner.for_user(session, "bob", "bob passphrase 22")

    result = runner.invoke(pki, ["revoke", "alice", "--reason", "key_compromise"], env=CA_ENV)
    assert result.exit_code == 0, result.output
    assert alice.serial in result.output

    out = tmp_path / "agency.crl"
    result = runner.invoke(pki, ["crl", "--out", str(out)], env=CA_ENV)
    assert result.exit_code == 0, result.output
    crl = x509.load_pem_x509_crl(out.read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(int(alice.serial, 16)) is not None
    with session_factory() as session:
        anchor = trust_anchor(session)
        assert anchor.crl is not None
        assert crl.is_signature_valid(_ec_key(anchor.root))

    result = runner.invoke(pki, ["root"])
    assert result.exit_code == 0
    assert x509.load_pem_x509_certificate(result.output.encode()) == anchor.root


def test_wrong_ca_passphrase_and_missing_ca_are_clean_errors(pki: click.Group) -> None:
    runner = CliRunner()
    result = runner.invoke(pki, ["issue", "carol", "--passphrase-env", "P"],
                           env={**CA_ENV, "P": "carol passphrase"})
    assert result.exit_code == 1
    assert "pki init" in result.output

    assert runner.invoke(pki, ["init"], env=CA_ENV).exit_code == 0
    result = runner.invoke(pki, ["issue", "carol", "--passphrase-env", "P"],
                           env={"WEIJIAN_CA_PASSPHRASE": "", "P": "carol passphrase"}, input="not it\n")
    assert result.exit_code == 1
    assert "does not open" in result.output
    assert "carol passphrase" not in result.output

    result = runner.invoke(pki, ["issue", "carol", "--passphrase-env", "P"], env={**CA_ENV, "P": "short"})
    assert result.exit_code == 1
    assert "at least 8" in result.output

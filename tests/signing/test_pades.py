"""Units' seal certificates and PAdES seals on PDFs: issued by our root, checked by pyHanko and
by poppler's ``pdfsig`` (an independent verifier), and any change after sealing is caught."""

from __future__ import annotations

import re
import shutil
import subprocess
from io import BytesIO
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from sqlalchemy.orm import Session

import signing
from signing import SealStatus
from tests.signing.conftest import CA_PASSPHRASE, World

UNIT_ID = "310113"
UNIT_NAME = "上海市宝山区卫生健康委员会"
SEAL_PASSPHRASE = "unit-seal-passphrase-2026"


def _page(body: str = "行政处罚决定书：罚款人民币伍仟元整。") -> bytes:
    from weasyprint import HTML

    html = (f'<html lang="zh-CN"><body style="font-family: Noto Sans CJK SC"><p>{body}</p>'
            f'<img src="{signing.seal_data_uri(UNIT_NAME)}"></body></html>')
    return HTML(string=html).write_pdf()


def _seal(session: Session) -> signing.UnitSeal:
    signing.issue_seal_certificate(session, UNIT_ID, UNIT_NAME, passphrase=SEAL_PASSPHRASE,
                                   ca_passphrase=CA_PASSPHRASE)
    return signing.unit_seal(session, UNIT_ID, passphrase=SEAL_PASSPHRASE)


@pytest.fixture
def sealed(world: World) -> bytes:
    return signing.sign_pdf(_page(), _seal(world.session), box=signing.SealBox(0, (400, 600, 520, 720)))


def test_seal_certificate_names_the_unit_and_cannot_pass_as_a_person(world: World) -> None:
    row = signing.issue_seal_certificate(world.session, UNIT_ID, UNIT_NAME, passphrase=SEAL_PASSPHRASE,
                                         ca_passphrase=CA_PASSPHRASE)
    cert = x509.load_pem_x509_certificate(row.certificate_pem.encode())
    assert row.kind == signing.SEAL
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == UNIT_NAME
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)[0].value == UNIT_ID
    assert not cert.subject.get_attributes_for_oid(NameOID.USER_ID)  # XAdES verification demands a UID
    assert cert.issuer == signing.ca_certificate(world.session).subject
    assert signing.current_certificates(world.session, UNIT_ID) == []  # not a person's certificate
    assert signing.seal_certificate(world.session, UNIT_ID).serial == row.serial


def test_seal_key_is_locked_by_the_configured_passphrase(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    signing.issue_seal_certificate(world.session, UNIT_ID, UNIT_NAME, passphrase=SEAL_PASSPHRASE,
                                   ca_passphrase=CA_PASSPHRASE)
    with pytest.raises(signing.SealPassphraseError, match="does not open"):
        signing.unit_seal(world.session, UNIT_ID, passphrase="not-the-seal-passphrase")
    monkeypatch.delenv(signing.SEAL_PASSPHRASE_ENV, raising=False)
    with pytest.raises(signing.SealPassphraseError, match=signing.SEAL_PASSPHRASE_ENV):
        signing.unit_seal(world.session, UNIT_ID)
    monkeypatch.setenv(signing.SEAL_PASSPHRASE_ENV, SEAL_PASSPHRASE)
    assert signing.unit_seal(world.session, UNIT_ID).certificate.subject.rfc4514_string()
    with pytest.raises(signing.WeakPassphraseError):
        signing.issue_seal_certificate(world.session, "U2", "某区卫健委", passphrase="short",
                                       ca_passphrase=CA_PASSPHRASE)
    with pytest.raises(signing.NoSealCertificateError, match="pki seal U9"):
        signing.unit_seal(world.session, "U9")


def test_sealed_pdf_verifies_as_the_unit_chained_to_our_root(world: World, sealed: bytes) -> None:
    report = signing.verify_pdf(sealed, signing.ca_certificate(world.session),
                                crl_der=signing.latest_crl_der(world.session))
    assert report.status is SealStatus.VALID, report.detail
    assert report.signer_name == UNIT_NAME
    assert report.unit_id == UNIT_ID
    assert report.certificate_serial == signing.seal_certificate(world.session, UNIT_ID).serial
    assert report.signing_time is not None


def test_a_byte_changed_after_sealing_is_invalid(world: World, sealed: bytes) -> None:
    start = sealed.index(b"/MediaBox")  # page geometry, inside the signed byte range
    tampered = sealed[:start] + b"/MediaBoy" + sealed[start + len(b"/MediaBox"):]
    report = signing.verify_pdf(tampered, signing.ca_certificate(world.session))
    assert report.status is SealStatus.INVALID
    assert "changed after sealing" in report.detail


def test_content_appended_after_sealing_is_invalid(world: World, sealed: bytes) -> None:
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(BytesIO(sealed))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    page["/MediaBox"] = generic.ArrayObject([generic.NumberObject(v) for v in (0, 0, 300, 300)])
    writer.update_container(page)
    out = BytesIO()
    writer.write(out)
    report = signing.verify_pdf(out.getvalue(), signing.ca_certificate(world.session))
    assert report.status is SealStatus.INVALID
    assert "added after sealing" in report.detail


def test_another_agencys_root_does_not_trust_our_seal(world: World, sealed: bytes, tmp_path: Path) -> None:
    foreign_root = world.foreign_signer.certificate  # an end-entity of another CA, as a "root"
    report = signing.verify_pdf(sealed, foreign_root)
    assert report.status is SealStatus.INVALID
    assert "does not chain" in report.detail


def test_revoked_seal_is_invalid_per_our_crl(world: World, sealed: bytes) -> None:
    signing.revoke_certificate(world.session, UNIT_ID, kind=signing.SEAL, reason="key_compromise",
                               ca_passphrase=CA_PASSPHRASE)
    report = signing.verify_pdf(sealed, signing.ca_certificate(world.session),
                                crl_der=signing.latest_crl_der(world.session))
    assert report.status is SealStatus.INVALID
    assert "revoked" in report.detail


def test_unsigned_pdf_is_reported_unsigned(world: World) -> None:
    assert signing.verify_pdf(_page(), signing.ca_certificate(world.session)).status is SealStatus.UNSIGNED


def test_seal_image_is_round_red_with_star_and_escaped_name() -> None:
    svg = signing.seal_svg("卫生<监督>所")
    assert "<circle" in svg and "<polygon" in svg
    assert f'width="{signing.SEAL_DIAMETER_MM}mm"' in svg
    assert "&lt;" in svg and "<监督>" not in svg
    assert len(re.findall(r"<text ", svg)) == len("卫生<监督>所")
    with pytest.raises(ValueError, match="empty"):
        signing.seal_svg("  ")


@pytest.mark.skipif(shutil.which("pdfsig") is None, reason="pdfsig (Debian poppler-utils) is not installed")
def test_pdfsig_checks_the_seal_independently(world: World, sealed: bytes, tmp_path: Path) -> None:
    good = tmp_path / "sealed.pdf"
    good.write_bytes(sealed)
    out = subprocess.run(["pdfsig", str(good)], capture_output=True, text=True, check=False).stdout
    assert "Signature is Valid" in out, out
    assert UNIT_NAME in out
    assert "ETSI.CAdES.detached" in out
    start = sealed.index(b"/MediaBox")
    bad = tmp_path / "tampered.pdf"
    bad.write_bytes(sealed[:start] + b"/MediaBoy" + sealed[start + len(b"/MediaBox"):])
    out = subprocess.run(["pdfsig", str(bad)], capture_output=True, text=True, check=False).stdout
    assert "Signature is Valid" not in out, out

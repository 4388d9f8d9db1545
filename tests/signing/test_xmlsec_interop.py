"""An independent implementation agrees: xmlsec1 (libxmlsec1/OpenSSL) verifies our signatures.

The archive package (record + one file per signature, named as the references name them) is
written to a folder and each signature is checked with ``xmlsec1 --verify`` trusting only the
agency root: XMLDSig core validity (SignatureValue and all three reference digests) and the
certificate chain. Debian package ``xmlsec1`` (``make test`` installs it); without it the test
is skipped locally and fails under ``CI=true``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from signing import SigningRequest, ca_certificate, get_record, record_uri, signature_documents
from signing.models import utcnow

from .conftest import World

XMLSEC1 = shutil.which("xmlsec1")


@pytest.fixture
def xmlsec1() -> str:
    if XMLSEC1 is None:
        if os.environ.get("CI") == "true":
            pytest.fail("xmlsec1 is not installed (Debian package xmlsec1); CI=true requires it")
        pytest.skip("xmlsec1 is not installed (apt-get install xmlsec1)")
    return XMLSEC1


def _verify(xmlsec1: str, folder: Path, signature: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [xmlsec1, "--verify", "--trusted-pem", "root.pem",
         "--id-attr:Id", "http://uri.etsi.org/01903/v1.3.2#:SignedProperties", signature],
        cwd=folder, capture_output=True, text=True, timeout=30, check=False,
    )


def _export(world: World, folder: Path) -> list[str]:
    files = signature_documents(world.session, world.signed_record)
    for name, content in files.items():
        (folder / name).write_bytes(content)
    root_pem = ca_certificate(world.session).public_bytes(serialization.Encoding.PEM)
    (folder / "root.pem").write_bytes(root_pem)
    return sorted(name for name in files if name.startswith("signature-"))


def test_xmlsec1_verifies_every_member_signature(world: World, xmlsec1: str, tmp_path: Path) -> None:
    signatures = _export(world, tmp_path)
    assert len(signatures) == 3
    for name in signatures:
        result = _verify(xmlsec1, tmp_path, name)
        assert result.returncode == 0, result.stderr
        assert "OK" in result.stderr
        assert "SignedInfo References (ok/all): 3/3" in result.stderr


def test_xmlsec1_rejects_a_changed_record(world: World, xmlsec1: str, tmp_path: Path) -> None:
    signatures = _export(world, tmp_path)
    record = tmp_path / record_uri(world.signed_record)
    record.write_bytes(record.read_bytes().replace("伍仟元".encode(), "伍万元".encode(), 1))
    result = _verify(xmlsec1, tmp_path, signatures[0])
    assert result.returncode != 0
    assert "FAIL" in result.stderr or "failed" in result.stderr


def test_xmlsec1_rejects_a_certificate_from_another_ca(world: World, xmlsec1: str, tmp_path: Path) -> None:
    _export(world, tmp_path)
    record = get_record(world.session, world.signed_record)
    request = SigningRequest(record.record_xml, record_uri(record.id), "主持人", utcnow())
    forged = world.foreign_signer.sign(request)
    (tmp_path / "forged.xml").write_bytes(forged)
    result = _verify(xmlsec1, tmp_path, "forged.xml")
    assert result.returncode != 0
    assert "certificate" in result.stderr.lower()

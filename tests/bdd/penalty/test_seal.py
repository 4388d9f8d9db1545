"""电子印章: steps for seal.feature (signing details are unit-tested in tests/signing/test_pades.py)."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest
from pypdf import PdfReader
from pytest_bdd import given, parsers, scenarios, then, when

import signing
from processes.penalty import documents_of, load_blob
from processes.penalty.seal import seal_report
from tests.penalty.driver import UNIT, PenaltyWorld

scenarios("seal.feature")


@given("文书以PDF生成")
def pdfs(world: PenaltyWorld) -> None:
    world.pdf = True


def _document(world: PenaltyWorld, ctx: dict[str, Any], title: str) -> tuple[str, bytes]:
    with world.factory() as session:
        docs = [d for d in documents_of(session, ctx["case"]) if d.title == title]
        assert docs, f"no {title}"
        return docs[-1].sha256, load_blob(session, docs[-1].sha256)


@then(parsers.parse('"{title}"盖有本单位的圆形公章'))
def has_seal_image(world: PenaltyWorld, ctx: dict[str, Any], title: str) -> None:
    from io import BytesIO

    _sha, pdf = _document(world, ctx, title)
    reader = PdfReader(BytesIO(pdf))
    fields = reader.get_fields() or {}
    assert signing.SEAL_FIELD in fields  # the visible signature field over the seal
    widgets = [a.get_object() for page in reader.pages for a in page.get("/Annots") or []]
    rects = [w["/Rect"] for w in widgets if w.get("/FT") == "/Sig" or w.get("/T") == signing.SEAL_FIELD]
    assert rects, "the signature field is not placed on a page"
    width = float(rects[0][2]) - float(rects[0][0])
    assert abs(width - signing.SEAL_DIAMETER_MM / 25.4 * 72) < 2  # over the 42 mm seal image


@then(parsers.parse('"{title}"的电子签章有效，签章单位为"{unit_name}"'))
def seal_valid(world: PenaltyWorld, ctx: dict[str, Any], title: str, unit_name: str) -> None:
    sha, pdf = _document(world, ctx, title)
    with world.factory() as session:
        report = seal_report(session, sha, pdf)
        assert report.status is signing.SealStatus.VALID, report.detail
        assert report.signer_name == unit_name and report.unit_id == UNIT
        assert report.certificate_serial == signing.seal_certificate(session, UNIT).serial


@then(parsers.parse('"{title}"载明"{text}"'))
def states(world: PenaltyWorld, ctx: dict[str, Any], title: str, text: str) -> None:
    from io import BytesIO

    _sha, pdf = _document(world, ctx, title)
    content = "".join("".join((page.extract_text() or "").split()) for page in PdfReader(BytesIO(pdf)).pages)
    assert text in content, content


@then(parsers.parse('"{title}"没有电子签章'))
def not_sealed(world: PenaltyWorld, ctx: dict[str, Any], title: str) -> None:
    sha, pdf = _document(world, ctx, title)
    with world.factory() as session:
        assert seal_report(session, sha, pdf).status is signing.SealStatus.UNSIGNED


@when(parsers.parse('"{title}"在签章后被改动'))
def tamper(world: PenaltyWorld, ctx: dict[str, Any], title: str) -> None:
    _sha, pdf = _document(world, ctx, title)
    start = pdf.index(b"/MediaBox")
    ctx["tampered"] = pdf[:start] + b"/MediaBoy" + pdf[start + len(b"/MediaBox"):]


@then(parsers.parse('改动后的"{title}"电子签章无效'))
def tampered_invalid(world: PenaltyWorld, ctx: dict[str, Any], title: str, tmp_path: Any) -> None:
    with world.factory() as session:
        report = seal_report(session, "tampered-" + title, ctx["tampered"])
    assert report.status is signing.SealStatus.INVALID
    assert "changed after sealing" in report.detail
    if shutil.which("pdfsig") is None:
        pytest.skip("pdfsig (Debian poppler-utils) is not installed: only pyHanko checked the change")
    path = tmp_path / "tampered.pdf"
    path.write_bytes(ctx["tampered"])
    out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False).stdout
    assert "Signature is Valid" not in out, out

"""PAdES seals on PDFs (PAdES-B-B, pyHanko): the unit's key signs the whole rendered document.

Why PAdES and not a picture alone: the round red seal image is only what people look at; the
CMS signature in the PDF is what makes a later change detectable (电子签名法 Art. 13) and names
the unit through its certificate. No timestamp authority is reachable, so the level is B-B: the
signing time is the server's claim. Verification trusts only the agency root (no system or
web PKI bundle), never fetches anything, and checks revocation against the agency's own CRL
when one is given.

The signature field is visible and placed over the seal image (``SealBox``), with no appearance
stream of its own: the seal drawn by the document stays what the reader sees, and clicking it
opens the reader's signature panel.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from io import BytesIO
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from .pki import TrustAnchor
from .seals import UnitSeal

if TYPE_CHECKING:
    from pyhanko.sign.validation.status import PdfSignatureStatus

SEAL_FIELD = "WeijianSeal"
_QUIET = ("pyhanko", "pyhanko_certvalidator")


@dataclass(frozen=True)
class SealBox:
    """Where the seal image is: page index (0-based) and (x1, y1, x2, y2) in PDF points."""

    page: int
    box: tuple[float, float, float, float]


class SealStatus(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    UNSIGNED = "unsigned"


_LABELS_ZH = {SealStatus.VALID: "签章有效", SealStatus.INVALID: "签章无效", SealStatus.UNSIGNED: "未签章"}


@dataclass(frozen=True)
class PdfSealReport:
    """The outcome of checking a PDF's seal. A bad signature never raises: it is INVALID here."""

    status: SealStatus
    signer_name: str | None = None
    unit_id: str | None = None
    certificate_serial: str | None = None
    signing_time: datetime | None = None
    detail: str = ""

    @property
    def label_zh(self) -> str:
        return _LABELS_ZH[self.status]

    def to_dict(self) -> dict[str, object]:
        return {"status": self.status.value, "signer_name": self.signer_name, "unit_id": self.unit_id,
                "certificate_serial": self.certificate_serial,
                "signing_time": self.signing_time.isoformat() if self.signing_time else None,
                "detail": self.detail}


def _asn1_cert(cert: x509.Certificate):
    from asn1crypto import x509 as asn1_x509

    return asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))


def sign_pdf(pdf: bytes, seal: UnitSeal, *, box: SealBox | None = None, reason: str = "行政执法文书电子印章",
             location: str | None = None) -> bytes:
    """Return ``pdf`` with the unit's PAdES-B-B signature appended as an incremental update."""
    from asn1crypto import keys as asn1_keys
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.stamp.noop import NoOpStampStyle
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    key_der = seal.key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
    signer = signers.SimpleSigner(
        signing_cert=_asn1_cert(seal.certificate),
        signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
        cert_registry=SimpleCertificateStore.from_certs([_asn1_cert(seal.root)]),
    )
    writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    if box is not None:
        x1, y1, x2, y2 = (round(v) for v in box.box)
        fields.append_signature_field(writer, fields.SigFieldSpec(SEAL_FIELD, on_page=box.page, box=(x1, y1, x2, y2)))
    meta = signers.PdfSignatureMetadata(
        field_name=SEAL_FIELD, subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256",
        reason=reason, location=location, name=seal.certificate.subject.rfc4514_string(),
    )
    out = BytesIO()
    signers.PdfSigner(meta, signer=signer, stamp_style=NoOpStampStyle()).sign_pdf(writer, output=out)
    return out.getvalue()


def _revoked(cert: x509.Certificate, root: x509.Certificate, crl_der: bytes | None) -> bool:
    """Revoked per the agency's CRL (our certificates carry no distribution point to fetch).

    A CRL not signed by ``root`` is ignored, as ``TrustAnchor`` does for XAdES.
    """
    if crl_der is None:
        return False
    anchor = TrustAnchor.of(root, x509.load_der_x509_crl(crl_der))
    crl = anchor.crl
    return crl is not None and crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None


def _problems(status: PdfSignatureStatus) -> list[str]:
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    problems: list[str] = []
    if not status.intact:
        problems.append("document changed after sealing")
    elif not status.valid:
        problems.append("signature value does not verify")
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        problems.append("content was added after sealing")
    if status.revoked:
        problems.append("certificate revoked")
    elif not status.trusted:
        problems.append("certificate does not chain to the Weijian root")
    return problems


def verify_pdf(pdf: bytes, root: x509.Certificate, *, crl_der: bytes | None = None) -> PdfSealReport:
    """Check the PDF's seal signature against the agency ``root`` only.

    VALID needs: exactly one signature, intact (every signed byte unchanged), covering the
    whole file (nothing appended after signing), a certificate chaining to ``root`` and valid
    now (not revoked per ``crl_der`` if given). Otherwise INVALID with the reason in ``detail``.
    """
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        embedded = list(reader.embedded_signatures)
    except Exception as exc:
        return PdfSealReport(SealStatus.INVALID, detail=f"unreadable PDF: {exc}")
    if not embedded:
        return PdfSealReport(SealStatus.UNSIGNED, detail="no signature")
    if len(embedded) > 1:
        return PdfSealReport(SealStatus.INVALID, detail=f"{len(embedded)} signatures, expected one")
    context = ValidationContext(trust_roots=[_asn1_cert(root)], allow_fetching=False, revocation_mode="soft-fail")
    levels = {name: logging.getLogger(name).level for name in _QUIET}
    for name in _QUIET:  # pyHanko logs every failed check as a warning; the report says it
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        status = validate_pdf_signature(embedded[0], context)
    except (SignatureValidationError, ValueError, KeyError) as exc:
        return PdfSealReport(SealStatus.INVALID, detail=f"signature unreadable: {exc}")
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
    cert = status.signing_cert
    cert_py = x509.load_der_x509_certificate(cert.dump())
    names = cert_py.subject
    common = names.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    unit = names.get_attributes_for_oid(x509.NameOID.ORGANIZATION_IDENTIFIER)
    facts = {
        "signer_name": str(common[0].value) if common else None,
        "unit_id": str(unit[0].value) if unit else None,
        "certificate_serial": format(cert_py.serial_number, "x"),
        "signing_time": status.signer_reported_dt,
    }
    problems = _problems(status)
    if status.trusted and _revoked(cert_py, root, crl_der):
        problems.append("certificate revoked")
    if problems:
        return PdfSealReport(SealStatus.INVALID, detail="; ".join(problems), **facts)  # type: ignore[arg-type]
    return PdfSealReport(SealStatus.VALID, detail="intact, whole file, trusted", **facts)  # type: ignore[arg-type]

"""Sealing outward penalty documents: the unit's round seal on the page and its PAdES signature.

Which documents are sealed is one set, ``OUTWARD_KINDS``: what the agency sends to a party or
another authority (decisions, notices, letters) must carry the unit's seal; internal records
(reports, approval forms, the legal review opinion, the discussion record) do not. A new outward
document is sealed by adding its kind here (``tests/penalty/test_seal_kinds.py`` checks the set
against the documents' titles).

Sealing happens where documents are rendered (``documents.generate``, also inside Celery jobs):
WeasyPrint lays out the page with the seal image, we read where the image landed, and the
unit's key (``WEIJIAN_SEAL_PASSPHRASE``) signs the PDF with a signature field over it. A unit
without a seal certificate, or a missing passphrase, fails the job with a clear message rather
than issuing an unsealed decision.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from sqlalchemy.orm import Session

import signing

from .models import CaseDocument

OUTWARD_KINDS: frozenset[str] = frozenset({
    "prior_notice",            # 行政处罚事先告知书
    "decision",                # 行政处罚决定书
    "summary_decision",        # 当场行政处罚决定书
    "no_penalty_decision",     # 不予行政处罚决定书
    "transfer_letter_police",  # 涉嫌犯罪案件移送书
    "transfer_letter_agency",  # 案件移送函
    "urge_notice",             # 催告书
    "inspection_opinion",      # 卫生监督意见书 (processes/inspections)
})
SEAL_ELEMENT_ID = "weijian-seal"
"""The id of the seal ``<img>`` in the templates (``templates/_seal.html``): the field goes over it."""
_PX_TO_PT = 0.75  # CSS px (1/96 in) to PDF points (1/72 in)


@lru_cache(maxsize=64)
def seal_image(unit_name: str) -> str:
    return signing.seal_data_uri(unit_name)


def sealed_pdf(session: Session, unit_id: str, html: str) -> bytes:
    """Render ``html`` (with the seal image) to PDF and sign it with the unit's seal key."""
    from .documents import html_to_pdf_locating  # documents imports this module

    seal = signing.unit_seal(session, unit_id)  # fails before the slow rendering if no seal
    pdf, located = html_to_pdf_locating(html, SEAL_ELEMENT_ID)
    box = None
    if located is not None:
        page, (x, y, width, height), page_height = located
        box = signing.SealBox(page, (x * _PX_TO_PT, (page_height - y - height) * _PX_TO_PT,
                                     (x + width) * _PX_TO_PT, (page_height - y) * _PX_TO_PT))
    return signing.sign_pdf(pdf, seal, box=box)


_REPORTS: dict[tuple[str, bytes, bytes | None], signing.PdfSealReport] = {}
_REPORTS_MAX = 512


def seal_report(session: Session, pdf_sha256: str, pdf: bytes) -> signing.PdfSealReport:
    """Check a stored PDF's seal against the agency root and its newest CRL.

    Cached per (document, root, CRL): a stored document never changes under its SHA-256, and a
    new CRL or root makes a new key.
    """
    from cryptography.hazmat.primitives.serialization import Encoding

    try:
        root = signing.ca_certificate(session)
    except signing.CaNotInitializedError:
        return signing.PdfSealReport(signing.SealStatus.INVALID, detail="no Weijian root")
    crl = signing.latest_crl_der(session)
    key = (pdf_sha256, root.public_bytes(Encoding.DER), crl)
    report = _REPORTS.get(key)
    if report is None:
        report = signing.verify_pdf(pdf, root, crl_der=crl)
        if len(_REPORTS) >= _REPORTS_MAX:
            _REPORTS.clear()
        _REPORTS[key] = report
    return report


def document_seals(session: Session, documents: Iterable[CaseDocument]) -> dict[int, signing.PdfSealReport]:
    """The seal report of each stored outward PDF among ``documents`` (by document id), for the case page."""
    from .storage import load_blob

    reports: dict[int, signing.PdfSealReport] = {}
    for doc in documents:
        if doc.doc_type in OUTWARD_KINDS and doc.file_name.endswith(".pdf"):
            reports[doc.id] = seal_report(session, doc.sha256, load_blob(session, doc.sha256))
    return reports

"""Enforcement documents (卫生行政执法文书): HTML templates rendered to PDF, stored by SHA-256.

Templates live in ``templates/`` (Jinja2, autoescaped) and read the case register plus the
task data the BPMN hands the operator. PDFs go through WeasyPrint with the Noto CJK fonts; a
character no installed font can draw raises ``MissingGlyphsError`` instead of printing a tofu
box. ``pdf_rendering(False)`` stores the HTML instead (the benchmark measures the engine, not
WeasyPrint); ``WEIJIAN_PENALTY_PDF=0`` does the same for a process.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, cast

import jinja2
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.calendar import CHINA_TZ

from .forms import CONCLUSIONS, SERVICE_METHODS, SOURCES
from .forms_endings import CLOSING_REASONS
from .forms_hearing import PRIVATE_HEARING_GROUNDS
from .models import CaseDocument, CaseRecord, PenaltyCase
from .numbering import document_number
from .rules import Rules
from .seal import OUTWARD_KINDS, seal_image, sealed_pdf
from .storage import store_blob


@dataclass(frozen=True)
class DocType:
    title: str
    template: str
    number: str | None = None  # a ``Numbering`` field, for numbered documents


DOC_TYPES: dict[str, DocType] = {
    "filing_report": DocType("立案报告", "filing_report.html", "case_number"),
    "interview_record": DocType("询问笔录", "interview_record.html"),
    "site_record": DocType("现场笔录", "site_record.html"),
    "investigation_report": DocType("调查终结报告", "investigation_report.html"),
    "deliberation_record": DocType("合议记录", ""),
    "prior_notice": DocType("行政处罚事先告知书", "prior_notice.html", "prior_notice"),
    "statement_record": DocType("陈述申辩笔录", "statement_record.html"),
    "hearing_record": DocType("听证笔录", "hearing_record.html"),
    "decision": DocType("行政处罚决定书", "decision.html", "case_number"),
    "service_receipt": DocType("送达回证", "service_receipt.html"),
    "closing_report": DocType("结案报告", "closing_report.html"),
    "summary_decision": DocType("当场行政处罚决定书", "summary_decision.html", "case_number"),
    "no_penalty_decision": DocType("不予行政处罚决定书", "no_penalty_decision.html", "case_number"),
    "transfer_letter_police": DocType("涉嫌犯罪案件移送书", "transfer_letter.html"),
    "transfer_letter_agency": DocType("案件移送函", "transfer_letter.html"),
    "ending_report": DocType("撤销立案/终止调查审批表", "ending_report.html"),
    "legal_review_opinion": DocType("法制审核意见书", "legal_review_opinion.html"),
    "collective_discussion_record": DocType("集体讨论记录", "collective_discussion_record.html"),
    "urge_notice": DocType("催告书", "urge_notice.html"),
}
EXECUTION_LABELS = {"paid": "已缴清", "partially_paid": "部分缴纳", "unpaid": "未缴纳", "overdue": "逾期未缴纳",
                    "appeal_pending": "复议或诉讼中", "revoked": "决定已撤销", "enforcement_applied": "已申请强制执行",
                    "not_applicable": "无罚没款"}

_PDF: ContextVar[bool | None] = ContextVar("weijian_penalty_pdf", default=None)


@contextmanager
def pdf_rendering(enabled: bool) -> Iterator[None]:
    """Render PDFs (True) or store the HTML only (False) inside this block."""
    token = _PDF.set(enabled)
    try:
        yield
    finally:
        _PDF.reset(token)


def pdf_enabled() -> bool:
    chosen = _PDF.get()
    return chosen if chosen is not None else os.environ.get("WEIJIAN_PENALTY_PDF", "1") not in ("0", "false", "no")


def cn_date(value: object) -> str:
    if value in (None, ""):
        return ""
    day = date.fromisoformat(value) if isinstance(value, str) else value
    if isinstance(day, datetime):
        day = day.astimezone(CHINA_TZ).date()
    if not isinstance(day, date):
        return str(value)
    return f"{day.year}年{day.month}月{day.day}日"


def fen_yuan(value: object) -> str:
    return f"{(int(cast(int, value or 0))) / 100:,.2f}"


_ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).resolve().parent / "templates"),
                          autoescape=True, trim_blocks=True, lstrip_blocks=True)
_ENV.filters["cn_date"] = cn_date
_ENV.filters["fen_yuan"] = fen_yuan
_ENV.globals["private_hearing_grounds"] = PRIVATE_HEARING_GROUNDS


def render_html(case: PenaltyCase, doc_type: str, data: Mapping[str, Any], periods: Mapping[str, Any], *,
                number: str | None, today: date, evidence_titles: list[str] | None = None,
                sealed: bool = False) -> str:
    """The document's HTML; ``sealed`` draws the unit's seal image (only for a PDF that gets signed)."""
    spec = DOC_TYPES[doc_type]
    context = {
        "seal_image": seal_image(case.unit_name) if sealed else None,
        "case": case, "title": spec.title, "number": number, "data": data, "periods": periods, "today": today,
        "officer_names": [o["name"] for o in case.officers or []], "evidence_titles": evidence_titles or [],
        "sources": SOURCES, "service_methods": SERVICE_METHODS, "closing_reasons": CLOSING_REASONS,
        "execution_labels": EXECUTION_LABELS, "conclusions": CONCLUSIONS,
        "generated_at": datetime.now(UTC).astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M"),
    }
    return _ENV.get_template(spec.template).render(context)


class MissingGlyphsError(RuntimeError):
    """Text no installed font can draw (it would print as tofu boxes): install fonts-noto-cjk."""


class _NotdefCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.missing = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread and ".notdef glyph" in record.getMessage():
            self.missing += 1


def html_to_pdf(html: str) -> bytes:
    return html_to_pdf_locating(html, None)[0]


Located = tuple[int, tuple[float, float, float, float], float]
"""Page index, (x, y, width, height) of an element's border box and the page height, in CSS px."""


def html_to_pdf_locating(html: str, element_id: str | None) -> tuple[bytes, Located | None]:
    """Render to PDF and say where the element ``element_id`` landed (for the seal's signature field)."""
    from weasyprint import HTML  # imported when needed: slow to import, only PDFs need it

    collector = _NotdefCollector()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(collector)
    located: Located | None = None
    try:
        document = HTML(string=html).render()
        if element_id is not None:
            located = _locate(document, element_id)
        pdf = document.write_pdf()
    finally:
        logger.removeHandler(collector)
    if collector.missing:
        raise MissingGlyphsError(f"{collector.missing} character(s) have no glyph in any installed font")
    return cast(bytes, pdf), located


def _locate(document: Any, element_id: str) -> Located | None:
    for index, page in enumerate(document.pages):
        for box in page._page_box.descendants():  # WeasyPrint exposes layout only here
            element = getattr(box, "element", None)
            if element is not None and element.get("id") == element_id and hasattr(box, "border_width"):
                return index, (box.border_box_x(), box.border_box_y(), box.border_width(),
                               box.border_height()), float(page.height)
    return None


def store_document(session: Session, case: PenaltyCase, doc_type: str, content: bytes, media_type: str, *,
                   number: str | None, job_id: str | None) -> CaseDocument:
    digest = store_blob(session, content, media_type)
    extension = "pdf" if media_type == "application/pdf" else "html"
    title = DOC_TYPES[doc_type].title
    stem = f"{title}-{number}" if number else title
    document = CaseDocument(case_id=case.id, doc_type=doc_type, title=title, number=number, sha256=digest,
                            file_name=f"{stem}.{extension}", job_id=job_id)
    session.add(document)
    session.flush()
    return document


def generate(session: Session, case: PenaltyCase, rules: Rules, doc_type: str, data: Mapping[str, Any],
             periods: Mapping[str, Any], today: date, job_id: str | None = None) -> CaseDocument:
    """Render, store and register one document; the same job twice gives the same row."""
    if job_id:
        existing = session.scalar(select(CaseDocument).where(CaseDocument.job_id == job_id))
        if existing is not None:
            return existing
    if doc_type not in DOC_TYPES or not DOC_TYPES[doc_type].template:
        raise ValueError(f"unknown document type {doc_type!r}")
    spec = DOC_TYPES[doc_type]
    number = document_number(rules, case, spec.number) if spec.number else None
    titles = [r.title for r in session.scalars(select(CaseRecord).where(CaseRecord.case_id == case.id)
                                                .order_by(CaseRecord.id))]
    sealed = pdf_enabled() and doc_type in OUTWARD_KINDS
    html = render_html(case, doc_type, data, periods, number=number, today=today, evidence_titles=titles,
                       sealed=sealed)
    if sealed:
        return store_document(session, case, doc_type, sealed_pdf(session, case.unit_id, html), "application/pdf",
                              number=number, job_id=job_id)
    if pdf_enabled():
        return store_document(session, case, doc_type, html_to_pdf(html), "application/pdf", number=number,
                              job_id=job_id)
    return store_document(session, case, doc_type, html.encode("utf-8"), "text/html; charset=utf-8",
                          number=number, job_id=job_id)


def documents_of(session: Session, case_id: str) -> list[CaseDocument]:
    return list(session.scalars(select(CaseDocument).where(CaseDocument.case_id == case_id)
                                .order_by(CaseDocument.created_at, CaseDocument.id)))

"""The record for people: an HTML page and a PDF, both rendered from the canonical XML.

Rendering reads the stored record bytes (checked like any other input), never the case data,
so what people read is what was signed. HTML is built as an lxml tree, so every text is
escaped by construction. The PDF is the same HTML through WeasyPrint with a CJK font from
the system (Debian ``fonts-noto-cjk``) embedded as a subset; ``render_pdf`` refuses to return
a PDF whose text would fall back to a font without Chinese glyphs (tofu boxes).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, cast

from lxml import etree
from lxml.html import builder as h

from .draw_records import draw_html_body
from .kinds import DRAW
from .records import load_record, parse_record, record_kind, sha256_hex
from .report import RecordVerification

BEIJING = timezone(timedelta(hours=8), "CST")
"""China Standard Time (no daylight saving), how signing times are shown to people."""
CJK_FONTS = ("Noto Sans CJK SC", "Noto Serif CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei",
             "WenQuanYi Micro Hei")
"""Fonts with the full GB 2312 / GB 18030 repertoire, in order of preference."""

_CSS = """
@page { size: A4; margin: 18mm 16mm; }
body { font-family: %(fonts)s; font-size: 11pt; line-height: 1.6; color: #111; }
h1 { font-size: 18pt; text-align: center; margin: 0 0 4mm; letter-spacing: 0.3em; }
h2 { font-size: 12.5pt; margin: 5mm 0 2mm; border-bottom: 1px solid #999; }
table { border-collapse: collapse; width: 100%%; }
tr { break-inside: avoid; }
th, td { border: 1px solid #999; padding: 1.5mm 2mm; vertical-align: top; text-align: left; }
th { background: #f0f0f0; white-space: nowrap; }
.text { white-space: pre-wrap; }
ul.params { margin: 0; padding-left: 1.2em; }
.hash { font-size: 8pt; word-break: break-all; }
.valid { color: #0a6b2d; font-weight: bold; }
.invalid { color: #b00020; font-weight: bold; }
footer { margin-top: 6mm; font-size: 8.5pt; color: #555; word-break: break-all; }
"""


def _css() -> str:
    fonts = ", ".join(f'"{name}"' for name in CJK_FONTS) + ", sans-serif"
    return _CSS % {"fonts": fonts}


def _field_table(rows: list[tuple[str, str]]) -> Any:
    return h.TABLE(*[h.TR(h.TH(label), h.TD(value, h.CLASS("text"))) for label, value in rows])


def render_html_tree(record_xml: bytes, verification: RecordVerification | None = None,
                     labels: Mapping[str, str] | None = None) -> Any:
    """The record as an lxml HTML tree (for callers that embed it in a page); ``labels`` name a
    draw record's parameters (``draw_records.parameter_list``), the caller knowing what they mean."""
    root = load_record(record_xml)
    if record_kind(root) is DRAW:
        title, body = draw_html_body(root, labels)
        record_id = root.get("recordId", "")
    else:
        title, body = _deliberation_body(record_xml)
        record_id = parse_record(record_xml).record_id
    if verification is not None:
        body.extend(_verification_section(verification))
    body.append(h.FOOTER(f"记录编号 {record_id} · 规范化 XML SHA-256 {sha256_hex(record_xml)}"))
    return h.HTML(
        h.HEAD(h.META(charset="utf-8"), h.TITLE(title), h.STYLE(_css())),
        h.BODY(*body),
        lang="zh-CN",
    )


def _deliberation_body(record_xml: bytes) -> tuple[str, list[Any]]:
    data = parse_record(record_xml).data
    entity = data.entity_name + (f"（统一社会信用代码：{data.entity_credit_code}）"
                                 if data.entity_credit_code else "")
    body: list[Any] = [
        h.H1("合议记录"),
        _field_table([("案件编号", data.case_number), ("当事人", entity),
                      ("合议日期", data.deliberation_date.strftime("%Y年%m月%d日"))]),
        h.H2("一、查明的事实"), h.P(data.facts_found, h.CLASS("text")),
        h.H2("二、证据"),
        h.TABLE(h.TR(h.TH("序号"), h.TH("证据名称"), h.TH("文件"), h.TH("SHA-256")),
                *[h.TR(h.TD(str(i)), h.TD(e.title), h.TD(e.file_name), h.TD(e.sha256, h.CLASS("hash")))
                  for i, e in enumerate(data.evidence, start=1)]),
        h.H2("三、法律依据"), h.P(data.legal_basis, h.CLASS("text")),
        h.H2("四、拟处罚意见"), h.P(data.proposed_penalty, h.CLASS("text")),
        h.H2("五、合议成员及意见"),
        h.TABLE(h.TR(h.TH("姓名"), h.TH("角色"), h.TH("意见")),
                *[h.TR(h.TD(m.name), h.TD(m.role), h.TD(m.opinion, h.CLASS("text"))) for m in data.members]),
        h.H2("六、合议结论"), h.P(data.conclusion, h.CLASS("text")),
    ]
    return f"合议记录 {data.case_number}", body


def _verification_section(verification: RecordVerification) -> list[Any]:
    rows = [h.TR(h.TH("签名人"), h.TH("角色"), h.TH("签名时间（北京时间）"), h.TH("证书序列号"),
                 h.TH("结果"))]
    for report in verification.signatures:
        verdict = "有效" if report.valid else f"无效：{report.reason.label_zh if report.reason else ''}"
        rows.append(h.TR(
            h.TD(report.signer_name or report.signer_user_id or "—"), h.TD(report.role or "—"),
            h.TD(_beijing(report.signing_time)),
            h.TD(report.certificate_serial or "—", h.CLASS("hash")),
            h.TD(verdict, h.CLASS("valid" if report.valid else "invalid")),
        ))
    section: list[Any] = [h.H2("电子签名验证"), h.TABLE(*rows)]
    if verification.unsigned_members:
        section.append(h.P("尚未签名：" + "、".join(verification.unsigned_members)))
    return section


def _beijing(moment: datetime | None) -> str:
    return "—" if moment is None else moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def render_html(record_xml: bytes, verification: RecordVerification | None = None,
                labels: Mapping[str, str] | None = None) -> str:
    """A standalone, readable HTML page of the record (and the signature report, if given).

    Raises ``RecordInvalidError`` for stored bytes that are not a valid record (e.g. tampered
    with a DTD): such a record is not shown, ``verify_record(...).record_problem`` says why.
    """
    tree = render_html_tree(record_xml, verification, labels)
    return "<!DOCTYPE html>\n" + cast(str, etree.tostring(tree, method="html", encoding="unicode"))


class MissingGlyphsError(RuntimeError):
    """Some text had no glyph in any installed font and would print as tofu boxes.

    Install a CJK font (Debian: ``apt-get install fonts-noto-cjk``).
    """


class _NotdefCollector(logging.Handler):
    """Collects WeasyPrint's ".notdef glyph rendered" warnings raised by this thread."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.missing: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread and ".notdef glyph" in record.getMessage():
            codepoint = record.args[1] if isinstance(record.args, tuple) and len(record.args) > 1 else None
            self.missing.append(f"U+{codepoint:04X}" if isinstance(codepoint, int) else "?")


def render_pdf(record_xml: bytes, verification: RecordVerification | None = None,
               labels: Mapping[str, str] | None = None) -> bytes:
    """The record as an A4 PDF with an embedded CJK font subset.

    Raises ``MissingGlyphsError`` rather than return a PDF with tofu boxes: WeasyPrint logs a
    warning for every character no installed font can draw, and that is what is checked.
    """
    from weasyprint import HTML  # here, not at the top: ~1.5 s to import and only PDFs need it

    collector = _NotdefCollector()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(collector)
    try:
        pdf = HTML(string=render_html(record_xml, verification, labels)).write_pdf()
    finally:
        logger.removeHandler(collector)
    if collector.missing:
        raise MissingGlyphsError("no installed font can draw " + ", ".join(sorted(set(collector.missing)))
                                 + " (for Chinese text install fonts-noto-cjk)")
    return cast(bytes, pdf)

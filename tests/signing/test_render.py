"""The record for people: HTML that escapes everything, a PDF with real Chinese glyphs."""

from __future__ import annotations

import dataclasses
import io
import re
from typing import Any

import pytest
from pypdf import PdfReader

from signing import MissingGlyphsError, build_record_xml, get_record, render_html, render_pdf, verify_record

from .conftest import World, deliberation

RID = "0b0c2f8e-8d0e-4a8e-9a51-2f6c9e0d7b11"


def test_html_shows_the_record_and_escapes_its_text() -> None:
    xml = build_record_xml(deliberation(facts="<script>alert('x')</script> 当事人拒不整改"), RID)
    page = render_html(xml)
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    for text in ("合议记录", "宝卫医罚〔2026〕12号", "宝山区康宁诊所", "王志强", "法制审核员", "3f" * 32):
        assert text in page


def test_html_includes_the_signature_report(world: World) -> None:
    record = get_record(world.session, world.other_record)
    page = render_html(record.record_xml, verify_record(world.session, world.other_record))
    assert "电子签名验证" in page
    assert "有效" in page
    assert "尚未签名：li、zhao" in page


def test_pdf_embeds_a_cjk_font_and_its_text_is_chinese(world: World) -> None:
    record = get_record(world.session, world.signed_record)
    pdf = render_pdf(record.record_xml, verify_record(world.session, world.signed_record))

    reader = PdfReader(io.BytesIO(pdf))
    text = re.sub(r"\s", "", "".join(page.extract_text() for page in reader.pages))
    for expected in ("合议记录", "宝卫医罚〔2026〕12号", "警告，并处罚款人民币伍仟元整", "王志强", "有效"):
        assert expected in text, expected
    fonts = set()
    for page in reader.pages:
        resources: Any = page["/Resources"]
        for font in resources["/Font"].values():
            descriptor = font.get_object()
            fonts.add(str(descriptor["/BaseFont"]))
            for descendant in descriptor.get("/DescendantFonts", []):
                embedded = set(descendant.get_object()["/FontDescriptor"]) & {"/FontFile2", "/FontFile3"}
                assert embedded, "the font must be embedded, not referenced"
    assert fonts
    assert all("CJK" in name for name in fonts), fonts


def test_pdf_refuses_tofu() -> None:
    xml = build_record_xml(dataclasses.replace(deliberation(), conclusion="结论\U000f0000"), RID)
    with pytest.raises(MissingGlyphsError, match="U\\+F0000"):
        render_pdf(xml)


def test_draw_parameters_read_as_a_labelled_list_not_as_json() -> None:
    """The caller names the keys and coded values; unnamed ones show as they are, nothing as JSON."""
    from lxml import etree

    from signing.draw_records import parameter_list

    params = ('{"categories":{"medical":{},"water":{"ratio":"0.1"}},"frequency_cap":2,"odd_key":true,'
              '"units":["u1","u2"]}')
    labels = {"categories": "抽查类别", "medical": "医疗卫生", "ratio": "抽取比例", "frequency_cap": "每年上限",
              "u1": "甲县", "{}": "按默认比例"}
    text = etree.tostring(parameter_list(params, labels), method="html", encoding="unicode")
    for shown in ("抽查类别：", "医疗卫生：按默认比例", "抽取比例：0.1", "每年上限：2", "odd_key：是", "甲县、u2"):
        assert shown in re.sub(r"<[^>]+>", "", text), shown
    assert not re.search(r"[{}\"]", re.sub(r"<[^>]+>", "", text))
    assert "not json {" in etree.tostring(parameter_list("not json {", labels), encoding="unicode")

"""The canonical record: built from case data, schema-valid, byte-stable, safe to read back."""

from __future__ import annotations

import dataclasses

import pytest
from lxml import etree

from signing import Member, RecordInvalidError, build_record_xml, parse_record
from signing.records import NS, SCHEMA_PATH, load_record
from signing.xmlsafe import UnsafeXmlError, parse_xml

from .conftest import deliberation

RID = "0b0c2f8e-8d0e-4a8e-9a51-2f6c9e0d7b11"


def test_record_is_canonical_schema_valid_and_round_trips() -> None:
    data = deliberation()
    xml = build_record_xml(data, RID)

    root = etree.fromstring(xml)
    assert etree.tostring(root, method="c14n") == xml
    schema = etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))
    assert schema.validate(root), schema.error_log
    assert root.tag == f"{{{NS}}}DeliberationRecord"
    assert "宝卫医罚〔2026〕12号".encode() in xml

    parsed = parse_record(xml)
    assert parsed.record_id == RID
    assert parsed.data.case_number == data.case_number
    assert [m.user_id for m in parsed.data.members] == ["wang", "li", "zhao"]
    assert parsed.data.evidence[0].sha256 == "3f" * 32
    assert parsed.data.deliberation_date == data.deliberation_date


def test_same_data_gives_the_same_bytes_whatever_the_unicode_form_and_line_ends() -> None:
    composed = deliberation(facts="当事人\r\n称：Café")
    decomposed = deliberation(facts="当事人\n称：Cafe\u0301")
    assert build_record_xml(composed, RID) == build_record_xml(decomposed, RID)


def test_fewer_members_than_the_minimum_is_refused_and_the_minimum_is_configurable() -> None:
    two = dataclasses.replace(deliberation(), members=deliberation().members[:2])
    with pytest.raises(RecordInvalidError, match="at least 3 members"):
        build_record_xml(two, RID)
    assert build_record_xml(two, RID, min_members=2)


@pytest.mark.parametrize(("change", "kind"), [
    ({"evidence": (dataclasses.replace(deliberation().evidence[0], sha256="not-a-hash"),)}, "schema"),
    ({"entity_credit_code": "123"}, "schema"),
    ({"conclusion": "   "}, "schema"),
    ({"facts_found": "控制字符\x07"}, "text"),
])
def test_invalid_content_is_refused_by_the_schema(change: dict[str, object], kind: str) -> None:
    with pytest.raises(RecordInvalidError) as caught:
        build_record_xml(dataclasses.replace(deliberation(), **change), RID)  # type: ignore[arg-type]
    assert caught.value.kind == kind


def test_duplicate_member_is_refused() -> None:
    data = deliberation()
    twice = dataclasses.replace(data, members=(*data.members, Member("wang", "王志强", "成员", "同意")))
    with pytest.raises(RecordInvalidError, match="Duplicate key"):
        build_record_xml(twice, RID)


def test_text_that_looks_like_markup_is_just_text() -> None:
    xml = build_record_xml(deliberation(facts="<b>&amp;</b> ]]> <!DOCTYPE x>"), RID)
    assert parse_record(xml).data.facts_found == "<b>&amp;</b> ]]> <!DOCTYPE x>"


def test_stored_bytes_that_are_not_canonical_are_refused() -> None:
    xml = build_record_xml(deliberation(), RID)
    with pytest.raises(RecordInvalidError) as caught:
        load_record(xml.replace(b"<Conclusion>", b"<!-- note --><Conclusion>"))
    assert caught.value.kind == "not_canonical"
    with pytest.raises(RecordInvalidError) as caught:
        load_record(b'<?xml version="1.0"?>\n' + xml)
    assert caught.value.kind == "not_canonical"


@pytest.mark.parametrize("payload", [
    b'<!DOCTYPE r [<!ENTITY x "boom">]><r>&x;</r>',
    b'<!DOCTYPE r SYSTEM "file:///etc/passwd"><r/>',
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
    b"<lolz>&lol2;</lolz>",
    '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>'.encode("utf-16"),
])
def test_hardened_parser_refuses_any_dtd(payload: bytes) -> None:
    with pytest.raises(UnsafeXmlError) as caught:
        parse_xml(payload)
    assert caught.value.kind == "dtd"


def test_hardened_parser_refuses_oversized_and_broken_input() -> None:
    with pytest.raises(UnsafeXmlError) as caught:
        parse_xml(b"<r>" + b"x" * (1024 * 1024) + b"</r>")
    assert caught.value.kind == "size"
    with pytest.raises(UnsafeXmlError) as caught:
        parse_xml(b"<r><unclosed></r>")
    assert caught.value.kind == "syntax"

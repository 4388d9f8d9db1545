"""The one hardened lxml parser for every XML the engine reads (BPMN, DMN).

No entity expansion, no DTD loading, no network, no huge trees, a size limit, and any
DOCTYPE declaration refused outright (billion laughs and XXE both need one).

Encodings: Chinese modelling tools write GBK/GB2312 (declared in the XML declaration) or
UTF-16 (with a byte-order mark). ``to_utf8`` turns such a file into UTF-8 with its declaration
saying so before anything reads it: the checks below then see the real text, and what the
engine stores (``ProcessDefinition.sources``, UTF-8 text) reads back as the same document.
A UTF-8 file (with or without a BOM) is returned unchanged, so its content hash is too.
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Mapping

from lxml import etree

from .errors import UnsafeXml


def _env_bytes(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else default

# ``WEIJIAN_XML_MAX_BYTES`` (engine.settings) sets it for the process; read once, at import.
DEFAULT_MAX_BYTES = _env_bytes("WEIJIAN_XML_MAX_BYTES", 5 * 1024 * 1024)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        dtd_validation=False,
        load_dtd=False,
        huge_tree=False,
        remove_comments=False,
        remove_pis=True,
    )


def parse_xml(data: bytes, filename: str, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """Parse ``data`` or raise ``UnsafeXml`` naming the file and the problem."""
    if len(data) > max_bytes:
        raise UnsafeXml(filename, None, f"file is {len(data)} bytes, over the {max_bytes}-byte limit")
    data = to_utf8(data, filename)
    head = data[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in data.lower():
        raise UnsafeXml(filename, None, "DOCTYPE/ENTITY declarations are not allowed")
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise UnsafeXml(filename, None, f"not well-formed XML: {exc}") from exc
    if getattr(root.getroottree().docinfo, "doctype", ""):
        raise UnsafeXml(filename, None, "DOCTYPE declarations are not allowed")
    return root


_DECLARED = re.compile(r"""^(\s*<\?xml\b[^>]*?\bencoding\s*=\s*["'])([A-Za-z0-9._:-]+)(["'])""")
# (prefix, codec) by the XML specification's autodetection, longest prefixes first
_SIGNATURES = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
               (codecs.BOM_UTF16_BE, "utf-16"), (b"<\x00?\x00", "utf-16-le"), (b"\x00<\x00?", "utf-16-be"))
# GB2312 declared, GBK written: tools say one and mean the other; GB18030 reads both.
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "cp936": "gb18030", "euc-cn": "gb18030"}


def _codec(name: str, filename: str) -> str:
    try:
        found = codecs.lookup(name).name
    except LookupError:
        raise UnsafeXml(filename, None, f"unknown character encoding {name!r} in the XML declaration") from None
    return _SUPERSETS.get(name.lower(), _SUPERSETS.get(found, found))


def _declare_utf8(text: str) -> bytes:
    return _DECLARED.sub(lambda m: f"{m.group(1)}UTF-8{m.group(3)}", text, count=1).encode("utf-8")


def to_utf8(data: bytes, filename: str) -> bytes:
    """``data`` as UTF-8 bytes whose XML declaration (if any) says UTF-8; UTF-8 input unchanged.

    Raises ``UnsafeXml`` when the bytes are not in the encoding the file declares."""
    if data.startswith(codecs.BOM_UTF8):
        return data
    codec = next((c for prefix, c in _SIGNATURES if data.startswith(prefix)), None)
    if codec is None:
        found = _DECLARED.match(data[:200].decode("ascii", errors="replace"))
        if found is None:
            return data  # no declaration: UTF-8 by XML's rule
        codec = _codec(found.group(2), filename)
        if codec == "utf-8":
            return data
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        raise UnsafeXml(filename, None, f"the file is not valid {codec.upper()} text (byte {exc.start}); save it "
                        "as UTF-8 or declare its real encoding") from None
    return _declare_utf8(text.lstrip("\ufeff"))


def utf8_files(files: Mapping[str, bytes], max_bytes: int = DEFAULT_MAX_BYTES) -> dict[str, bytes]:
    """Every file of a bundle as UTF-8 (``to_utf8``); files over ``max_bytes`` are left for
    ``parse_xml`` to refuse."""
    return {name: data if len(data) > max_bytes else to_utf8(data, name) for name, data in files.items()}

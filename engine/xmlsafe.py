"""The one hardened lxml parser for every XML the engine reads (BPMN, DMN).

No entity expansion, no DTD loading, no network, no huge trees, a size limit, and any
DOCTYPE declaration refused outright (billion laughs and XXE both need one).
"""

from __future__ import annotations

from lxml import etree

from .errors import UnsafeXml

DEFAULT_MAX_BYTES = 5 * 1024 * 1024


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

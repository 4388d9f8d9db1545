"""The one hardened lxml parser for every XML the signing package reads.

Records and signatures arrive from storage that an attacker may have written to, and from
clients (a future USB-key signer), so nothing here trusts its input: no entity expansion, no
DTD loading, no network, no huge trees, a size limit, and any DOCTYPE refused outright
(billion laughs and XXE both need one). Comments and processing instructions are kept, so a
parse is faithful and a later canonical-form check can notice anything added.

signxml is handed the same parser (see ``signing.xades``) so its internal re-parsing obeys
the same rules. The engine has its own copy of this module; signing imports no project package.
"""

from __future__ import annotations

from lxml import etree

MAX_XML_BYTES = 1024 * 1024
"""A deliberation record is a few kilobytes; a signature under ten. One MiB is generous."""


class UnsafeXmlError(ValueError):
    """The input was refused; ``kind`` says why in one word (``dtd``, ``size``, ``syntax``)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def hardened_parser() -> etree.XMLParser:
    """A fresh parser with the hardened settings (lxml parsers must not be shared by threads)."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        dtd_validation=False,
        load_dtd=False,
        huge_tree=False,
        remove_comments=False,
        remove_pis=False,
        remove_blank_text=False,
    )


def parse_xml(data: bytes, *, max_bytes: int = MAX_XML_BYTES) -> etree._Element:
    """Parse ``data`` or raise ``UnsafeXmlError``; never expands or fetches anything."""
    if not isinstance(data, bytes):
        raise UnsafeXmlError("syntax", "XML must be given as bytes")
    if len(data) > max_bytes:
        raise UnsafeXmlError("size", f"XML is {len(data)} bytes, over the {max_bytes}-byte limit")
    lowered = data.lower()
    if b"<!doctype" in lowered or b"<!entity" in lowered:
        raise UnsafeXmlError("dtd", "DOCTYPE/ENTITY declarations are not allowed")
    try:
        root = etree.fromstring(data, parser=hardened_parser())
    except etree.XMLSyntaxError as exc:
        raise UnsafeXmlError("syntax", f"not well-formed XML: {exc}") from exc
    check_tree(root)
    return root


def check_tree(root: etree._Element) -> None:
    """Refuse a tree that carries a DTD or entity nodes (e.g. one encoded in UTF-16)."""
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None or docinfo.system_url \
            or docinfo.public_id:
        raise UnsafeXmlError("dtd", "DOCTYPE declarations are not allowed")
    for _entity in root.iter(etree.Entity):
        raise UnsafeXmlError("dtd", "entity references are not allowed")


def load_schema(path: str) -> etree.XMLSchema:
    """Compile an XSD shipped inside this package, read with the hardened parser."""
    with open(path, "rb") as fh:
        return etree.XMLSchema(parse_xml(fh.read()))

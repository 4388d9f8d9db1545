"""The canonical deliberation record (合议记录): built, validated and read back as XML.

Every member signs the same bytes, so the bytes must be reproducible and unambiguous: text is
NFC-normalised with ``\\n`` line ends, the tree is indented for people reading the archive, and
the result is serialised as C14N 1.0, which is what both signxml and xmlsec1 digest. The
schema (``schemas/deliberation-1.xsd``) is checked on the way out and on every read, because
a record read back from storage is untrusted input.
"""

from __future__ import annotations

import hashlib
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, cast

from lxml import etree

from .errors import RecordInvalidError
from .kinds import DELIBERATION, KINDS, RecordKind, kind_of_tag
from .xmlsafe import UnsafeXmlError, load_schema, parse_xml

NS = "urn:weijian:deliberation:1"
SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "deliberation-1.xsd"
DEFAULT_MIN_MEMBERS = 3
"""合议 needs at least three members in common practice; callers may pass their own minimum."""

_local = threading.local()


def _schema(kind: RecordKind = DELIBERATION) -> etree.XMLSchema:
    """The compiled XSD of a record kind, one per thread (lxml validators keep per-call state)."""
    schemas = getattr(_local, "schemas", None)
    if schemas is None:
        schemas = _local.schemas = {}
    schema = schemas.get(kind.name)
    if schema is None:
        schema = schemas[kind.name] = load_schema(str(kind.schema_path))
    return cast(etree.XMLSchema, schema)


@dataclass(frozen=True)
class Evidence:
    """One item of evidence, identified by the SHA-256 of its file (hex, lower case)."""

    title: str
    file_name: str
    sha256: str


@dataclass(frozen=True)
class Member:
    """A deliberation member: who they are, their role (主持人/承办人/成员…) and their opinion."""

    user_id: str
    name: str
    role: str
    opinion: str


@dataclass(frozen=True)
class DeliberationData:
    """Everything a deliberation record states, in the order the record states it."""

    case_ref: str
    case_number: str
    entity_name: str
    facts_found: str
    legal_basis: str
    proposed_penalty: str
    members: Sequence[Member]
    conclusion: str
    deliberation_date: date
    evidence: Sequence[Evidence] = field(default_factory=tuple)
    entity_credit_code: str | None = None


@dataclass(frozen=True)
class ParsedRecord:
    """A record read back from its canonical bytes."""

    record_id: str
    data: DeliberationData


def record_uri(record_id: str, kind: str = DELIBERATION.name) -> str:
    """The name the signatures use to reference a record (as a file in an archive package).

    A relative name, as in an ASiC container: the record and its signatures can be exported
    side by side and checked by any XMLDSig implementation (the xmlsec1 test does this).
    ``deliberation-<id>.xml`` or ``draw-<id>.xml``.
    """
    return f"{KINDS[kind].uri_prefix}-{record_id}.xml"


def record_kind(root: etree._Element) -> RecordKind:
    """The kind a parsed record names by its root element (``RecordInvalidError`` if none)."""
    kind = kind_of_tag(root.tag) if isinstance(root.tag, str) else None
    if kind is None:
        raise RecordInvalidError("schema", f"not a record Weijian signs: root element {root.tag!r}")
    return kind


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    return text.strip()


def canonicalize(root: etree._Element) -> bytes:
    """C14N 1.0 of ``root``: the exact bytes that are stored and signed."""
    return etree.tostring(root, method="c14n", exclusive=False, with_comments=False)


def build_record_xml(data: DeliberationData, record_id: str, *,
                     min_members: int = DEFAULT_MIN_MEMBERS) -> bytes:
    """Build the canonical record bytes, or raise ``RecordInvalidError`` saying what is wrong."""
    if len(data.members) < min_members:
        raise RecordInvalidError("members", f"a deliberation needs at least {min_members} members, "
                                            f"got {len(data.members)}")

    def sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
        try:
            element = etree.SubElement(parent, f"{{{NS}}}{tag}", attrs)
            if text is not None:
                element.text = _clean(text)
        except ValueError as exc:  # lxml refuses control characters and NUL
            raise RecordInvalidError("text", f"{tag}: {exc}") from exc
        return element

    nsmap = cast(dict[str, str], {None: NS})  # default namespace; lxml-stubs only allow str keys
    root = etree.Element(f"{{{NS}}}DeliberationRecord", {"version": "1", "recordId": record_id}, nsmap=nsmap)
    case = sub(root, "Case")
    sub(case, "CaseRef", data.case_ref)
    sub(case, "CaseNumber", data.case_number)
    entity = sub(root, "Entity")
    sub(entity, "Name", data.entity_name)
    if data.entity_credit_code:
        sub(entity, "CreditCode", data.entity_credit_code.upper())
    sub(root, "FactsFound", data.facts_found)
    evidence_list = sub(root, "EvidenceList")
    for seq, item in enumerate(data.evidence, start=1):
        evidence = sub(evidence_list, "Evidence", seq=str(seq))
        sub(evidence, "Title", item.title)
        sub(evidence, "FileName", item.file_name)
        sub(evidence, "SHA256", item.sha256.lower())
    sub(root, "LegalBasis", data.legal_basis)
    sub(root, "ProposedPenalty", data.proposed_penalty)
    members = sub(root, "Members")
    for seq, person in enumerate(data.members, start=1):
        member = sub(members, "Member", seq=str(seq), userId=person.user_id)
        sub(member, "Name", person.name)
        sub(member, "Role", person.role)
        sub(member, "Opinion", person.opinion)
    sub(root, "Conclusion", data.conclusion)
    sub(root, "Date", data.deliberation_date.isoformat())
    etree.indent(root, space="  ")
    record = canonicalize(root)
    load_record(record)
    return record


def load_record(record_xml: bytes) -> etree._Element:
    """Parse and check stored record bytes: safe XML, schema-valid, and already canonical.

    The canonical check matters: signatures digest the canonical form, so bytes that are not
    canonical (a comment, a changed quote style) would differ from what ``record_sha256`` and a
    third party's hash of the file say while still verifying.
    """
    try:
        root = parse_xml(record_xml)
    except UnsafeXmlError as exc:
        raise RecordInvalidError("dtd" if exc.kind == "dtd" else "syntax", str(exc)) from exc
    kind = record_kind(root)
    schema = _schema(kind)
    if not schema.validate(root):
        error = cast(Any, schema.error_log).last_error  # lxml-stubs lack last_error
        raise RecordInvalidError("schema", f"record does not match {kind.schema_path.name}: "
                                           f"line {error.line}: {error.message}")
    if canonicalize(root) != record_xml:
        raise RecordInvalidError("not_canonical", "record bytes are not in canonical (C14N) form")
    return root


def parse_record(record_xml: bytes) -> ParsedRecord:
    """Read a stored record back into ``DeliberationData`` (checked as in ``load_record``)."""
    root = load_record(record_xml)
    if record_kind(root) is not DELIBERATION:
        raise RecordInvalidError("schema", "not a deliberation record")

    def text(parent: etree._Element, path: str) -> str:
        found = parent.find(path, {"d": NS})
        return "" if found is None or found.text is None else found.text

    credit = root.find("d:Entity/d:CreditCode", {"d": NS})
    data = DeliberationData(
        case_ref=text(root, "d:Case/d:CaseRef"),
        case_number=text(root, "d:Case/d:CaseNumber"),
        entity_name=text(root, "d:Entity/d:Name"),
        entity_credit_code=None if credit is None else credit.text,
        facts_found=text(root, "d:FactsFound"),
        evidence=tuple(
            Evidence(title=text(e, "d:Title"), file_name=text(e, "d:FileName"), sha256=text(e, "d:SHA256"))
            for e in root.iterfind("d:EvidenceList/d:Evidence", {"d": NS})
        ),
        legal_basis=text(root, "d:LegalBasis"),
        proposed_penalty=text(root, "d:ProposedPenalty"),
        members=tuple(
            Member(user_id=m.get("userId", ""), name=text(m, "d:Name"), role=text(m, "d:Role"),
                   opinion=text(m, "d:Opinion"))
            for m in root.iterfind("d:Members/d:Member", {"d": NS})
        ),
        conclusion=text(root, "d:Conclusion"),
        deliberation_date=date.fromisoformat(text(root, "d:Date")),
    )
    return ParsedRecord(record_id=root.get("recordId", ""), data=data)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()

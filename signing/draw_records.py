"""The canonical draw record (随机抽取记录) of a double-random inspection, and its page.

The planner and the witness sign what was drawn and how: the plan, the algorithm and its
parameters, the seed's commitment and the revealed seed, the snapshot hashes, the drawn
entities with their inspectors, and — for a re-draw — the draw it replaces and why
(国办发〔2015〕58号 asks for a full, traceable record of every draw). The content comes in as
data (``DrawRecordData``): ``signing`` knows nothing of the inspections package. The bytes are
built like a deliberation record's (NFC text, indented, C14N 1.0, schema-checked on the way out
and on every read), stored in the same table and signed and verified by the same functions.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from lxml import etree
from lxml.html import builder as h
from sqlalchemy.orm import Session

from .errors import RecordInvalidError
from .kinds import DRAW
from .models import DeliberationRecord, RecordMember, utcnow
from .records import _clean, canonicalize, load_record, sha256_hex

NS = DRAW.ns
SUBJECT_PREFIX = "draw:"
"""``signing_record.case_ref`` of a draw record: ``draw:<draw id>`` (the table's subject reference)."""


@dataclass(frozen=True)
class DrawSigner:
    user_id: str
    name: str
    role: str


@dataclass(frozen=True)
class DrawnEntity:
    credit_code: str
    name: str
    category: str
    inspectors: Sequence[tuple[str, str]] = field(default_factory=tuple)  # (user id, name)


@dataclass(frozen=True)
class DrawRecordData:
    """Everything a draw record states, in the order it states it."""

    draw_id: str
    plan_code: str
    plan_title: str
    unit_name: str
    period: str
    seq: int
    algorithm: str
    parameters_json: str
    seed_source: str
    seed_hash: str
    seed: str
    entities_hash: str
    snapshot_hash: str
    commitment_hash: str
    result_hash: str
    drawn_at: datetime
    entities: Sequence[DrawnEntity]
    signers: Sequence[DrawSigner]
    previous_draw_id: str | None = None
    redraw_reason: str | None = None


def build_draw_record_xml(data: DrawRecordData, record_id: str) -> bytes:
    """The canonical bytes of a draw record, or ``RecordInvalidError`` saying what is wrong."""
    if not data.signers:
        raise RecordInvalidError("members", "a draw record needs at least one signer")

    def sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
        try:
            element = etree.SubElement(parent, f"{{{NS}}}{tag}", attrs)
            if text is not None:
                element.text = _clean(text)
        except ValueError as exc:  # lxml refuses control characters and NUL
            raise RecordInvalidError("text", f"{tag}: {exc}") from exc
        return element

    nsmap = cast(dict[str, str], {None: NS})
    root = etree.Element(f"{{{NS}}}DrawRecord", {"version": "1", "recordId": record_id}, nsmap=nsmap)
    plan = sub(root, "Plan")
    sub(plan, "Code", data.plan_code)
    sub(plan, "Title", data.plan_title)
    sub(plan, "Unit", data.unit_name)
    draw = sub(root, "Draw")
    sub(draw, "DrawId", data.draw_id)
    if data.period:
        sub(draw, "Period", data.period)
    sub(draw, "Sequence", str(data.seq))
    sub(draw, "Algorithm", data.algorithm)
    sub(draw, "Parameters", data.parameters_json)
    sub(draw, "SeedSource", data.seed_source)
    sub(draw, "SeedCommitment", data.seed_hash)
    sub(draw, "Seed", data.seed)
    sub(draw, "EntitiesHash", data.entities_hash)
    sub(draw, "SnapshotHash", data.snapshot_hash)
    sub(draw, "CommitmentHash", data.commitment_hash)
    sub(draw, "ResultHash", data.result_hash)
    sub(draw, "DrawnAt", data.drawn_at.isoformat(timespec="seconds"))
    if data.previous_draw_id:
        redraw = sub(root, "Redraw")
        sub(redraw, "PreviousDrawId", data.previous_draw_id)
        sub(redraw, "Reason", data.redraw_reason or "")
    entities = sub(root, "Entities")
    for seq, item in enumerate(data.entities, start=1):
        entity = sub(entities, "Entity", seq=str(seq))
        sub(entity, "CreditCode", item.credit_code)
        sub(entity, "Name", item.name)
        sub(entity, "Category", item.category)
        for user_id, name in item.inspectors:
            sub(entity, "Inspector", name, userId=user_id)
    signers = sub(root, "Signers")
    for seq, person in enumerate(data.signers, start=1):
        signer = sub(signers, "Signer", seq=str(seq), userId=person.user_id)
        sub(signer, "Name", person.name)
        sub(signer, "Role", person.role)
    etree.indent(root, space="  ")
    record = canonicalize(root)
    load_record(record)
    return record


def create_draw_record(session: Session, data: DrawRecordData, *, record_id: str | None = None,
                       now: datetime | None = None) -> DeliberationRecord:
    """Build and store a draw's record (immutable); its signers become the record's members."""
    rid = record_id or str(uuid.uuid4())
    xml = build_draw_record_xml(data, rid)
    record = DeliberationRecord(id=rid, case_ref=f"{SUBJECT_PREFIX}{data.draw_id}", case_number=data.plan_code,
                                record_xml=xml, record_sha256=sha256_hex(xml), created_at=now or utcnow())
    session.add(record)
    for position, signer in enumerate(data.signers, start=1):
        session.add(RecordMember(record_id=rid, user_id=signer.user_id, name=signer.name, role=signer.role,
                                 position=position))
    session.flush()
    return record


MAX_PARAMETER_DEPTH = 4
"""Nesting shown as lists; anything deeper reads as its canonical text (plans nest two levels)."""


def parameter_list(parameters_json: str, labels: Mapping[str, str] | None = None) -> Any:
    """The signed parameters as a list a person reads: each key by its label, nested groups as
    nested lists, lists joined with 、. ``labels`` (from the caller: signing knows no plan) names
    keys and coded values (a category, a unit); ``labels["{}"]`` is how an empty group reads.
    Unknown keys and values show as they are; the signed bytes are untouched."""
    names = labels or {}
    try:
        data = json.loads(parameters_json)
    except ValueError:
        return h.P(parameters_json, h.CLASS("text"))  # not JSON: shown verbatim, as signed

    def word(value: Any) -> str:
        if isinstance(value, bool):
            return "是" if value else "否"
        return names.get(str(value), str(value)) if value is not None else "—"

    def node(value: Any, depth: int) -> Any:
        if isinstance(value, dict) and value and depth < MAX_PARAMETER_DEPTH:
            return h.UL(*[h.LI(names.get(str(k), str(k)), "：", node(v, depth + 1)) for k, v in value.items()],
                        h.CLASS("params"))
        if isinstance(value, dict):
            return names.get("{}", "—") if not value else json.dumps(value, ensure_ascii=False)
        if isinstance(value, list):
            return "、".join(word(v) if not isinstance(v, (dict, list)) else json.dumps(v, ensure_ascii=False)
                            for v in value) or "—"
        return word(value)

    shown = node(data, 0)
    return shown if not isinstance(shown, str) else h.P(shown, h.CLASS("text"))


def draw_html_body(root: etree._Element, labels: Mapping[str, str] | None = None) -> tuple[str, list[Any]]:
    """The title and the body elements of a checked draw record's page (read from the XML only);
    ``labels`` name the parameters (see ``parameter_list``)."""
    ns = {"d": NS}

    def text(parent: etree._Element, path: str) -> str:
        return parent.findtext(path, default="", namespaces=ns) or ""

    def table(rows: list[tuple[str, str]]) -> Any:
        return h.TABLE(*[h.TR(h.TH(label), h.TD(value, h.CLASS("text"))) for label, value in rows])

    draw = root.find("d:Draw", ns)
    assert draw is not None  # the schema requires it
    title = f"随机抽取记录 {text(root, 'd:Plan/d:Code')}"
    body: list[Any] = [
        h.H1("随机抽取记录"),
        table([("计划编号", text(root, "d:Plan/d:Code")), ("计划名称", text(root, "d:Plan/d:Title")),
               ("实施单位", text(root, "d:Plan/d:Unit")), ("期次", text(draw, "d:Period") or "—"),
               ("第几次抽取", text(draw, "d:Sequence")), ("抽取时间", text(draw, "d:DrawnAt"))]),
        h.H2("一、算法与参数"),
        h.TABLE(h.TR(h.TH("算法版本"), h.TD(text(draw, "d:Algorithm"), h.CLASS("text"))),
                h.TR(h.TH("参数"), h.TD(parameter_list(text(draw, "d:Parameters"), labels)))),
        h.H2("二、随机种子与快照"),
        h.TABLE(*[h.TR(h.TH(label), h.TD(text(draw, path), h.CLASS("hash"))) for label, path in (
            ("种子来源", "d:SeedSource"), ("种子承诺（SHA-256）", "d:SeedCommitment"), ("公开的种子", "d:Seed"),
            ("检查对象快照哈希", "d:EntitiesHash"), ("快照总哈希", "d:SnapshotHash"),
            ("承诺哈希", "d:CommitmentHash"), ("结果哈希", "d:ResultHash"))]),
    ]
    redraw = root.find("d:Redraw", ns)
    if redraw is not None:
        body += [h.H2("重新抽取"), table([("被替代的抽取", text(redraw, "d:PreviousDrawId")),
                                          ("理由", text(redraw, "d:Reason"))])]
    rows = [h.TR(h.TH("序号"), h.TH("统一社会信用代码"), h.TH("名称"), h.TH("类别"), h.TH("检查人员"))]
    for entity in root.iterfind("d:Entities/d:Entity", ns):
        inspectors = "、".join(i.text or "" for i in entity.iterfind("d:Inspector", ns)) or "未匹配"
        rows.append(h.TR(h.TD(entity.get("seq", "")), h.TD(text(entity, "d:CreditCode")),
                         h.TD(text(entity, "d:Name")), h.TD(text(entity, "d:Category")), h.TD(inspectors)))
    body += [h.H2("三、抽中的检查对象及检查人员"), h.TABLE(*rows), h.H2("四、签名人"),
             h.TABLE(h.TR(h.TH("姓名"), h.TH("角色")),
                     *[h.TR(h.TD(text(s, "d:Name")), h.TD(text(s, "d:Role")))
                       for s in root.iterfind("d:Signers/d:Signer", ns)])]
    return title, body

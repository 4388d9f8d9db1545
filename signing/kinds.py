"""The kinds of record Weijian signs: deliberation records (合议记录) and draw records (随机抽取记录).

Why kinds and not a second signing stack: the XAdES layout, the checks, the storage and the
verification report are the same for every record; what differs is the record's schema and
namespace, the archive file name the signature references, the signature policy, and where in
the record the signers are listed. The kind is read from the record's own namespace, so a stored
record names its kind by itself and a signature digests it (nothing outside the bytes decides).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class RecordKind:
    name: str
    ns: str
    root: str
    schema_path: Path
    uri_prefix: str
    policy_path: Path
    policy_identifier: str
    policy_description: str
    data_description: str
    signers_path: str
    """Path (prefix ``d``) of the elements that list who signs, each with ``userId``, ``Name`` and ``Role``."""
    title: str


DELIBERATION = RecordKind(
    name="deliberation", ns="urn:weijian:deliberation:1", root="DeliberationRecord",
    schema_path=HERE / "schemas" / "deliberation-1.xsd", uri_prefix="deliberation",
    policy_path=HERE / "policy" / "deliberation-signature-policy-v1.txt",
    policy_identifier="urn:weijian:signature-policy:deliberation:v1",
    policy_description="卫生监督机构合议记录电子签名策略 第1版",
    data_description="卫生行政处罚案件合议记录", signers_path="d:Members/d:Member", title="合议记录")

DRAW = RecordKind(
    name="draw", ns="urn:weijian:draw:1", root="DrawRecord",
    schema_path=HERE / "schemas" / "draw-1.xsd", uri_prefix="draw",
    policy_path=HERE / "policy" / "draw-signature-policy-v1.txt",
    policy_identifier="urn:weijian:signature-policy:draw:v1",
    policy_description="卫生监督机构双随机抽取记录电子签名策略 第1版",
    data_description="双随机抽查随机抽取记录", signers_path="d:Signers/d:Signer", title="随机抽取记录")

KINDS = {k.name: k for k in (DELIBERATION, DRAW)}
BY_TAG = {f"{{{k.ns}}}{k.root}": k for k in KINDS.values()}


def kind_of_tag(tag: str) -> RecordKind | None:
    """The kind whose root element is ``tag`` (``{namespace}LocalName``), or None."""
    return BY_TAG.get(tag)

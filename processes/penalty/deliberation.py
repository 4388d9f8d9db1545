"""合议: count the members' votes, and turn a majority into the record every member signs.

The outcome follows the recorded majority: the option (no penalty, or one exact penalty) that
more than half of the members voted for. Without such a majority there is no record; the
BPMN sends the members back for another round. The record is built by ``signing.create_record``
from the case register, the investigation report and the opinions, so what is signed names the
evidence by hash.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import signing

from .law import Penalty
from .models import CaseDocument, CaseRecord, PenaltyCase

Vote = tuple[str, tuple[str, ...], str, str]


@dataclass(frozen=True)
class Tally:
    majority: bool
    outcome: str | None
    penalty: Penalty | None
    votes_for: int
    members: int
    counts: dict[str, int]

    @property
    def conclusion(self) -> str:
        if not self.majority or self.outcome is None:
            return "未形成多数意见"
        what = "不予行政处罚" if self.outcome == "no_penalty" else (self.penalty or Penalty(())).describe()
        return f"合议人员{self.members}人，{self.votes_for}人同意：{what}。按多数意见作出合议结论。"


def _vote(opinion: Mapping[str, Any]) -> tuple[Vote, Penalty | None]:
    if opinion.get("outcome") != "penalty":
        return ("no_penalty", (), "", ""), None
    penalty = Penalty.of(opinion.get("penalty") or {})
    return ("penalty", penalty.kinds, str(penalty.fine), str(penalty.confiscation)), penalty


def _label(vote: Vote, penalty: Penalty | None) -> str:
    return "不予行政处罚" if vote[0] == "no_penalty" else (penalty or Penalty(())).describe()


def tally(members: Sequence[Mapping[str, Any]], opinions: Sequence[Mapping[str, Any]]) -> Tally:
    """Count one vote per member (their latest opinion); a majority is more than half of all members."""
    member_ids = [m["user_id"] for m in members]
    latest = {o["user_id"]: o for o in opinions if o.get("user_id") in member_ids}
    counted: Counter[Vote] = Counter()
    penalties: dict[Vote, Penalty | None] = {}
    for opinion in latest.values():
        vote, penalty = _vote(opinion)
        counted[vote] += 1
        penalties[vote] = penalty
    counts = {_label(v, penalties[v]): n for v, n in counted.most_common()}
    if not counted:
        return Tally(False, None, None, 0, len(member_ids), counts)
    vote, n = counted.most_common(1)[0]
    if n * 2 <= len(member_ids):
        return Tally(False, None, None, n, len(member_ids), counts)
    return Tally(True, vote[0], penalties[vote], n, len(member_ids), counts)


def _evidence(session: Session, case: PenaltyCase) -> list[signing.Evidence]:
    items: list[signing.Evidence] = []
    for record in session.scalars(select(CaseRecord).where(CaseRecord.case_id == case.id).order_by(CaseRecord.id)):
        for f in (record.content or {}).get("files", []):
            items.append(signing.Evidence(f["title"], f["file_name"], f["sha256"]))
    for document in session.scalars(select(CaseDocument).where(
            CaseDocument.case_id == case.id, CaseDocument.doc_type.in_(("interview_record", "site_record")))
            .order_by(CaseDocument.id)):
        items.append(signing.Evidence(document.title, document.file_name, document.sha256))
    return items


def build_record(session: Session, case: PenaltyCase, members: Sequence[Mapping[str, Any]],
                 opinions: Sequence[Mapping[str, Any]], report: Mapping[str, Any], result: Tally,
                 on: date, min_members: int) -> str:
    """Store the canonical deliberation record (``signing``) and return its id."""
    by_user = {o["user_id"]: o for o in opinions}

    def opinion_text(user_id: str) -> str:
        o = by_user.get(user_id, {})
        vote, penalty = _vote(o)
        return f"表决：{_label(vote, penalty)}。{o.get('opinion', '').strip()}"

    proposal = Penalty.of(report.get("penalty") or {})
    data = signing.DeliberationData(
        case_ref=case.id,
        case_number=case.case_number or "（未编号）",
        entity_name=case.entity_name or "（未填写）",
        entity_credit_code=case.credit_code or None,
        facts_found=str(report.get("facts") or "（未填写）"),
        legal_basis=str(report.get("legal_basis") or "（未填写）"),
        proposed_penalty=proposal.describe() if report.get("outcome") == "penalty" else "不予行政处罚",
        members=tuple(signing.Member(m["user_id"], m["name"], m["role"], opinion_text(m["user_id"]))
                      for m in members),
        conclusion=result.conclusion,
        deliberation_date=on,
        evidence=tuple(_evidence(session, case)),
    )
    record = signing.create_record(session, data, min_members=min_members)
    return record.id

"""Corrections (更正) and withdrawals (撤回) of a disclosed inspection result, and their public log.

Why a log and not an edit in place: a disclosed result has been read by the public, so a change
must itself be public (when, why, what changed) and the result keeps a visible "已更正"/"已撤回"
mark. The staff member who made the change is kept for the agency (``PublicChange.actor``) and
never reaches the public functions here. Only a head may change a public item; a reason is always
required; bad input raises ``DirectoryError`` with a Chinese sentence and writes nothing.

What can be corrected: the inspection date as published (a clerical error). The result itself is
the outcome of the process (review, opinion, penalty lead) and is not rewritten here: a wrong
result is withdrawn with its reason.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import Actor
from engine.clock import china_today
from processes.directory.services import DirectoryError

from .models import Inspection, PublicChange

RESULT = "inspection_result"
ACTION_NAMES = {"corrected": "已更正", "withdrawn": "已撤回"}
MAX_REASON = 2000


def _changeable(session: Session, actor: Actor, inspection_id: str) -> Inspection:
    if not (actor.is_admin or "head" in actor.roles):
        raise DirectoryError("只有负责人可以更正或者撤回已公示的内容", "inspection")
    row = session.get(Inspection, inspection_id)
    if row is None or row.disclosed_on is None:
        raise DirectoryError("该检查结果尚未公示，无需更正或者撤回", "inspection")
    if withdrawn(session, row.id) is not None:
        raise DirectoryError("该检查结果已撤回，不能再更正或者撤回", "inspection")
    return row


def _reason(reason: str) -> str:
    clean = (reason or "").strip()
    if not clean:
        raise DirectoryError("请写明更正或者撤回的理由", "reason")
    if len(clean) > MAX_REASON:
        raise DirectoryError(f"理由不能超过{MAX_REASON}个字", "reason")
    return clean


def withdrawn(session: Session, inspection_id: str) -> PublicChange | None:
    return session.scalar(select(PublicChange).where(PublicChange.item_kind == RESULT,
                                                     PublicChange.item_id == inspection_id,
                                                     PublicChange.action == "withdrawn"))


def correct_result(session: Session, actor: Actor, inspection_id: str, *, checked_on: date, reason: str,
                   now: datetime | None = None) -> PublicChange:
    """Correct the published inspection date of a disclosed result (a head, with a reason)."""
    row = _changeable(session, actor, inspection_id)
    clean = _reason(reason)
    today = china_today(now)
    if checked_on > today:
        raise DirectoryError("检查日期不能晚于今天", "checked_on")
    if row.result_on is not None and checked_on > row.result_on:
        raise DirectoryError("检查日期不能晚于结果登记日期", "checked_on")
    if checked_on == row.checked_on:
        raise DirectoryError("更正后的检查日期与原日期相同", "checked_on")
    before = row.checked_on.isoformat() if row.checked_on else ""
    row.checked_on = checked_on
    change = PublicChange(item_kind=RESULT, item_id=row.id, credit_code=row.credit_code, action="corrected",
                          changed_on=today, reason=clean, actor=actor.user_id,
                          changes=[{"field": "检查日期", "before": before, "after": checked_on.isoformat()}])
    session.add(change)
    session.flush()
    return change


def withdraw_result(session: Session, actor: Actor, inspection_id: str, *, reason: str,
                    now: datetime | None = None) -> PublicChange:
    """Withdraw a disclosed result (a head, with a reason): the public keeps the mark, not the result."""
    row = _changeable(session, actor, inspection_id)
    change = PublicChange(item_kind=RESULT, item_id=row.id, credit_code=row.credit_code, action="withdrawn",
                          changed_on=china_today(now), reason=_reason(reason), actor=actor.user_id,
                          changes=[{"field": "检查结果", "before": "已公示", "after": "撤回"}])
    session.add(change)
    session.flush()
    return change


def public_view(change: PublicChange) -> dict[str, Any]:
    """What the public reads of a change: kind, date, reason and what changed (never who)."""
    return {"action": ACTION_NAMES.get(change.action, change.action), "withdrawn": change.action == "withdrawn",
            "on": change.changed_on, "reason": change.reason,
            "changes": [{"field": c.get("field", ""), "before": c.get("before", ""), "after": c.get("after", "")}
                        for c in change.changes or []]}


def changes_by_item(session: Session, item_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Each result's public changes, oldest first."""
    out: dict[str, list[dict[str, Any]]] = {}
    if item_ids:
        for change in session.scalars(select(PublicChange).where(
                PublicChange.item_kind == RESULT, PublicChange.item_id.in_(item_ids)).order_by(PublicChange.id)):
            out.setdefault(change.item_id, []).append(public_view(change))
    return out


REVOKED_REASON = "该行政处罚决定已被依法撤销（行政复议或者行政诉讼）"
"""The public reason of a withdrawn decision: the appeal record's note is internal, the ground is not."""


def public_log(session: Session, *, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    """The public log, newest first: corrections and withdrawals of results, and penalty decisions
    withdrawn because they were revoked (行政处罚法 Art. 48(2): withdrawn and the reason made public).

    Both sources are read up to ``offset + limit`` rows (the page number is capped by the caller)
    and merged by date."""
    window = offset + limit
    rows = list(session.execute(select(PublicChange, Inspection.entity_name).join(
        Inspection, Inspection.id == PublicChange.item_id).where(PublicChange.item_kind == RESULT)
        .order_by(PublicChange.id.desc()).limit(window)))
    entries = [{**public_view(change), "item": "检查结果", "entity_name": name, "credit_code": change.credit_code}
               for change, name in rows]
    entries.extend(revoked_decisions(session, limit=window))
    entries.sort(key=lambda e: e["on"] or date.min, reverse=True)
    return entries[offset:offset + limit]


def revoked_decisions(session: Session, *, limit: int = 50) -> list[dict[str, Any]]:
    """Disclosed penalty decisions withdrawn because they were revoked: the number, the party as
    published (an individual as 张某, no credit code), the day of the revocation and the ground.
    A decision never disclosed (its step pending or 不予公开) was never public: nothing to withdraw."""
    from processes.penalty.models import ExecutionEvent, PenaltyCase

    from .decision_models import DecisionDisclosure
    from .disclosure import mask_person

    revoked_on = (select(ExecutionEvent.occurred_on).where(ExecutionEvent.case_id == PenaltyCase.id,
                                                           ExecutionEvent.kind == "appeal_revoked")
                  .order_by(ExecutionEvent.id.desc()).limit(1).scalar_subquery())
    out = []
    for case, on in session.execute(select(PenaltyCase, revoked_on).join(
            DecisionDisclosure, (DecisionDisclosure.case_id == PenaltyCase.id)
            & DecisionDisclosure.disclosed_on.is_not(None)).where(
            PenaltyCase.execution_status == "revoked", PenaltyCase.decided_on.is_not(None),
            PenaltyCase.case_number.is_not(None)).order_by(PenaltyCase.decided_on.desc()).limit(limit)):
        person = case.party_type == "person"
        out.append({"action": ACTION_NAMES["withdrawn"], "withdrawn": True, "on": on, "reason": REVOKED_REASON,
                    "changes": [], "item": "行政处罚决定", "number": case.case_number,
                    "entity_name": mask_person(case.entity_name) if person else (case.entity_name or ""),
                    "credit_code": "" if person else (case.credit_code or "")})
    return out

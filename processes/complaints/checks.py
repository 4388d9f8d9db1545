"""The legal checks of each complaint form that need the complaint, and what a submission
writes to the register. One function per form key: ``(Submission) -> extra process data``.

A violated rule raises ``ValidationError`` keyed by field (Chinese, citing the rule) before
the engine is touched, so nothing of a refused submission is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import Actor
from engine.calendar import WorkCalendar
from engine.models import HumanTask

from .models import Complaint, ComplaintEvent
from .records import by_tracking_no, log, unit_info
from .rules import Rules


@dataclass
class Submission:
    session: Session
    complaint: Complaint
    actor: Actor
    task: HumanTask
    form: dict[str, Any]
    rules: Rules
    calendar: WorkCalendar
    today: date
    now: datetime
    extra: dict[str, Any] = field(default_factory=dict)


Check = Callable[[Submission], None]
HANDLERS: dict[str, Check] = {}


def handles(key: str) -> Callable[[Check], Check]:
    def decorate(func: Check) -> Check:
        HANDLERS[key] = func
        return func

    return decorate


def _below(session: Session, unit_id: str, ancestor: str) -> bool:
    from processes.directory.models import Unit

    unit = session.get(Unit, unit_id)
    return unit is not None and unit.id != ancestor and f"/{ancestor}/" in unit.path and unit.active


def _add_handlers(complaint: Complaint, ids: list[str]) -> None:
    complaint.handlers = list(dict.fromkeys([*(complaint.handlers or []), *ids]))


@handles("complaints.classify")
def classify(sub: Submission) -> None:
    c, form = sub.complaint, sub.form
    if form.get("merge_into"):
        target = by_tracking_no(sub.session, form["merge_into"])
        if target is None or target.id == c.id or target.merged_into_id is not None:
            raise ValidationError({"merge_into": ["没有可以合并的登记编号"]})
        if target.target_key != c.target_key:
            raise ValidationError({"merge_into": ["只能合并同一对象的事项"]})
    c.kind, c.petition_kind = form["kind"], form.get("petition_kind")
    c.clerk_id = c.clerk_id or sub.actor.user_id
    sub.extra["kind"] = form["kind"]


@handles("complaints.route")
def route(sub: Submission) -> None:
    form = sub.form
    if form["competence"] == "subordinate":
        if not _below(sub.session, form["target_unit_id"], sub.task.unit_id or ""):
            raise ValidationError({"target_unit_id": ["只能转办给本单位的下级单位"]})
        sub.extra["forward_to"] = form["target_unit_id"]


@handles("complaints.objection_decision")
def objection_decision(sub: Submission) -> None:
    log(sub.session, sub.complaint, "objection_decided", public=False, actor=sub.actor.user_id,
        data={"decision": sub.form["decision"]}, now=sub.now)


@handles("complaints.designate")
def designate(sub: Submission) -> None:
    unit_id, own = sub.form["unit_id"], sub.task.unit_id or ""
    if unit_id != own and not _below(sub.session, unit_id, own):
        raise ValidationError({"unit_id": ["请指定本单位或者下级单位"]})
    sub.extra.update({"forward_to": unit_id, "designated": True})


@handles("complaints.receive")
def receive(sub: Submission) -> None:
    data = _process_data(sub)
    if not sub.form["accepted"] and data.get("designated"):
        raise ValidationError({"accepted": ["上级机关已指定管辖，不得再提出异议"]})
    log(sub.session, sub.complaint, "forward_received" if sub.form["accepted"] else "forward_objected",
        public=False, actor=sub.actor.user_id, data={"reason": sub.form.get("reason", "")}, now=sub.now)


@handles("complaints.acceptance")
def acceptance(sub: Submission) -> None:
    form = sub.form
    sub.complaint.clerk_id = sub.actor.user_id  # the accepting clerk may see the complainant
    if form["accepted"]:
        _add_handlers(sub.complaint, form.get("handlers") or [])
        cohandlers = []
        for line in (form.get("cohandlers") or "").splitlines():
            parts = line.strip().rsplit(maxsplit=1)
            if not parts:
                continue
            if len(parts) == 2 and parts[1].isdigit() and 0 < int(parts[1]) <= 200:
                cohandlers.append({"name": parts[0], "workdays": int(parts[1])})
            else:
                cohandlers.append({"name": line.strip()[:200], "workdays": None})
        form["cohandlers"] = cohandlers


@handles("complaints.verification")
def verification(sub: Submission) -> None:
    form = sub.form
    minimum = sub.rules.number("verification", "min_officers")
    if len(form["officers"]) < minimum:
        raise ValidationError({"officers": [f"核查须由{minimum}名以上执法人员进行（行政处罚法第四十二条）"]})
    if form["request_extension"]:
        _extensions_left(sub, "request_extension")
    _add_handlers(sub.complaint, [*form["officers"], sub.actor.user_id])


@handles("complaints.petition_opinion")
def petition_opinion(sub: Submission) -> None:
    if sub.form["request_extension"]:
        _extensions_left(sub, "request_extension", limit=1)
    _add_handlers(sub.complaint, [sub.actor.user_id])


def _extensions_left(sub: Submission, field_name: str, limit: int | None = None) -> None:
    allowed = limit if limit is not None else sub.rules.number("verification", "max_extensions")
    used = sub.session.scalar(select(func.count()).select_from(ComplaintEvent).where(
        ComplaintEvent.complaint_id == sub.complaint.id, ComplaintEvent.kind == "extended")) or 0
    if used >= allowed:
        raise ValidationError({field_name: [f"办理期限已经延长{used}次，不能再延长"]})


@handles("complaints.review_request")
def review_request(sub: Submission) -> None:
    level = sub.complaint.review_level + 1
    if level > 2:
        raise ValidationError({"reason": ["已经复核终结，不再受理"]})
    days = sub.rules.number("review", "answer_days" if level == 1 else "recheck_answer_days")
    sub.form.update({"level": level, "answer_due": sub.calendar.add_days(sub.today, days).due.isoformat()})
    sub.complaint.status = "rechecking"
    log(sub.session, sub.complaint, "review_requested", values={"level": "复查" if level == 1 else "复核"},
        actor=sub.actor.user_id, now=sub.now)


@handles("complaints.review")
def review(sub: Submission) -> None:
    sub.complaint.status = "accepted" if not sub.form["passed"] else "reviewing"
    log(sub.session, sub.complaint, "review_passed" if sub.form["passed"] else "review_returned", public=False,
        actor=sub.actor.user_id, data={"reason": sub.form.get("reason", "")}, now=sub.now)


def _process_data(sub: Submission) -> dict[str, Any]:
    from engine import instance_data

    return instance_data(sub.session, sub.task.instance_id, sub.actor)


def no_check(sub: Submission) -> None:
    """Forms whose schema says everything (consent, mediation, cohandling, reports, approvals)."""


def handler(form_key: str) -> Check:
    return HANDLERS.get(form_key, no_check)


__all__ = ["HANDLERS", "Submission", "handler", "unit_info"]

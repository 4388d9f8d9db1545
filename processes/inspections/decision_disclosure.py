"""The disclosure step of each penalty decision (公示行政处罚决定, issue #12), copied from the
inspection results' step (``disclose``): a decision reaches the public site only once a head of
the case's unit confirmed what will be public, within ``[disclosure] decision_workdays`` working
days of the decision; the task's overdue notice (notifications scan) is the 督办.

Why a process of its own (``inspection_decision_disclosure``) started from an entity event: the
penalty process decides, the inspections package publishes. ``penalty_decided`` is sent for every
decided case (``processes.penalty.operators._tell_decided``), possibly several times; the step is
started once per case (the row's primary key is the case id). A real task gets the inbox, the due
date, the notices and ``/oversight`` like every other task.

The head either discloses (after confirming the content holds no personal data beyond what is
listed) or decides 不予公开 with one of the reasons ``rules.toml`` lists (行政处罚法 Art. 48
discloses decisions "with social impact"; [unconfirmed]) and a note. A decision revoked later is
withdrawn from the public site at once (``disclosure``: the case's execution status); the day is
recorded here when the revocation reaches this package (``withdrawn_on``). Nothing commits here.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from marshmallow import ValidationError, validates_schema
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import SYSTEM, Actor, UnknownProcess, audit, cancel, complete_task, start
from engine.clock import china_today
from engine.clock import now as engine_now
from engine.definitions import newest_version
from engine.models import HumanTask, ProcessInstance
from engine.scripting import load_calendar
from forms.fields import Select, TextArea
from forms.registry import FormSchema, register_form
from processes.registry import EntityEvent

from .decision_models import DISCLOSED, NOT_DISCLOSED, PENDING, DecisionDisclosure
from .rule_store import effective_rules
from .rules import load_rules

log = logging.getLogger(__name__)

PROCESS = "inspection_decision_disclosure"
FORM = "inspections.disclose_decision"
TASK = "disclose_decision"
CHOICES = [("disclose", "公开"), ("withhold", "不予公开")]
YES_NO = [(True, "是"), (False, "否")]
FIELD_LABELS = {"number": "决定书文号", "decided_on": "决定日期", "party": "当事人", "credit_code": "统一社会信用代码",
                "category": "类别", "legal_basis": "依据", "penalty": "处罚内容", "authority": "作出机关"}


@register_form(FORM, title="公示行政处罚决定")
class DiscloseDecisionForm(FormSchema):
    """The head's choice: disclose exactly the listed content, or not disclose with a reason.

    The reasons are ``rules.toml``'s list as the file states it when the form is registered; the
    submission is checked again against the rules in force (``submit``)."""

    choice = Select("是否公开", CHOICES, required=True)
    content_checked = Select("公开内容已核对（除所列内容外不含个人信息）", YES_NO, required=False)
    withhold_reason = Select("不予公开的理由", [(r, r) for r in load_rules().decision_withhold_reasons],
                             required=False)
    note = TextArea("说明", required=False, max_length=2000)

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("choice") == "disclose" and data.get("content_checked") is not True:
            raise ValidationError({"content_checked": ["请先核对公开内容，确认除所列内容外不含个人信息"]})
        if data.get("choice") == "withhold":
            if not data.get("withhold_reason"):
                raise ValidationError({"withhold_reason": ["决定不予公开的，请选择不予公开的理由"]})
            if not (data.get("note") or "").strip():
                raise ValidationError({"note": ["决定不予公开的，请写明具体情况"]})


def _case(session: Session, case_id: str) -> Any:
    from processes.penalty.models import PenaltyCase

    return session.get(PenaltyCase, case_id)


def content_line(public: dict[str, Any]) -> str:
    """The public content as one line for the task's instructions (what the head confirms)."""
    parts = []
    for key, label in FIELD_LABELS.items():
        value = public.get(key)
        if key == "credit_code" and not value:
            continue
        parts.append(f"{label}：{value.isoformat() if isinstance(value, date) else (value or '—')}")
    return "；".join(parts)


def start_step(session: Session, case: Any, *, now: datetime | None = None) -> DecisionDisclosure | None:
    """Start the case's disclosure step once (``None``: not decided, no number, revoked, or the
    process is not deployed here, as in a penalty-only test database)."""
    from .disclosure import public_decision

    existing = session.get(DecisionDisclosure, case.id)
    if existing is not None or case.decided_on is None or not case.case_number or case.execution_status == "revoked":
        return existing
    try:
        newest_version(session, PROCESS)
    except UnknownProcess:
        log.warning("%s is not deployed: decision %s has no disclosure step", PROCESS, case.case_number)
        return None
    due = load_calendar(session).add_workdays(case.decided_on, effective_rules(session).decision_workdays).due
    public = public_decision(case)
    data = {"case_id": case.id, "case_number": case.case_number, "decided_on": case.decided_on.isoformat(),
            "decision_due": due.isoformat(), "public": {**public, "decided_on": case.decided_on.isoformat()}}
    person = case.party_type == "person"
    instance = start(session, PROCESS, SYSTEM, data, business_key=f"公示-{case.case_number}", unit_id=case.unit_id,
                     entity_id=None if person else (case.credit_code or case.entity_id),
                     entity_name=case.entity_name, now=now)
    row = DecisionDisclosure(case_id=case.id, instance_id=instance.id, unit_id=case.unit_id, status=PENDING,
                             due_on=due, created_at=now or engine_now())
    session.add(row)
    session.flush()
    for task in session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                        HumanTask.status == "ready")):
        task.instructions = f"{task.instructions or ''}\n将公开的内容：{content_line(public)}".strip()
    session.flush()
    return row


def on_decided(session: Session, event: EntityEvent) -> None:
    """``penalty_decided`` (sent for every decided case, maybe more than once): start the step,
    or record the withdrawal of a revoked decision (and close a step nobody needs any more)."""
    if event.kind != "penalty_decided" or not event.source_ref.startswith("penalty:"):
        return
    case = _case(session, event.source_ref.removeprefix("penalty:"))
    if case is None:
        return
    row = session.get(DecisionDisclosure, case.id)
    if row is None:
        start_step(session, case)
    elif case.execution_status == "revoked" and row.withdrawn_on is None:
        withdraw(session, case, row)


def withdraw(session: Session, case: Any, row: DecisionDisclosure, *, now: datetime | None = None) -> None:
    """A revoked decision: the public site hides it already (its status); record the day, and
    cancel a pending step (a revoked decision is not disclosed)."""
    row.withdrawn_on = china_today(now)
    if row.status == PENDING and row.instance_id:
        instance = session.get(ProcessInstance, row.instance_id)
        if instance is not None and instance.status in ("running", "stalled", "suspended"):
            cancel(session, row.instance_id, SYSTEM, "行政处罚决定已被依法撤销，无需公示", now=now)
        row.status = NOT_DISCLOSED
        row.reason = "行政处罚决定已被依法撤销"
    audit.append(session, SYSTEM.user_id, "penalty_decision_withdrawn", now=now,
                 data={"case_id": case.id, "number": case.case_number, "withdrawn_on": row.withdrawn_on.isoformat()})
    session.flush()


def of_instance(session: Session, instance_id: str) -> DecisionDisclosure | None:
    return session.scalar(select(DecisionDisclosure).where(DecisionDisclosure.instance_id == instance_id))


def submit(session: Session, actor: Actor, task: HumanTask, data: dict[str, Any], *,
           now: datetime | None = None) -> ProcessInstance:
    """The task form's door: checks, completes the task, records the outcome and audits it.
    Refusals raise ``ValidationError`` (Chinese, per field); nothing is written then."""
    form = DiscloseDecisionForm().load(dict(data))
    row = of_instance(session, task.instance_id)
    case = _case(session, row.case_id) if row is not None else None
    if row is None or case is None:
        raise ValidationError({"_schema": ["该任务不属于行政处罚决定的公示"]})
    if case.execution_status == "revoked":
        raise ValidationError({"choice": ["该行政处罚决定已被撤销，不能公开"]})
    today = china_today(now)
    withhold = form["choice"] == "withhold"
    if withhold and form["withhold_reason"] not in effective_rules(session).decision_withhold_reasons:
        raise ValidationError({"withhold_reason": ["不是规则中列明的不予公开理由"]})
    payload = {**form, "decided_by": actor.user_id, "decided_at": today.isoformat()}
    instance = complete_task(session, task.id, actor, {"decision_disclosure": payload}, now=now)
    row.disclosed_by, row.note = actor.user_id, (form.get("note") or "").strip() or None
    if withhold:
        row.status, row.reason = NOT_DISCLOSED, form["withhold_reason"]
    else:
        row.status, row.disclosed_on = DISCLOSED, today
    facts = {"case_id": case.id, "number": case.case_number, "reason": row.reason or ""}
    if withhold:
        audit.append(session, actor.user_id, "penalty_decision_not_disclosed", instance=instance, task_id=task.id,
                     task_name=task.task_name, now=now, data=facts)
    else:
        audit.append(session, actor.user_id, "penalty_decision_disclosed", instance=instance, task_id=task.id,
                     task_name=task.task_name, now=now, data=facts)
    session.flush()
    return instance


def pending(session: Session, unit_ids: list[str] | None, *, today: date | None = None,
            limit: int = 100) -> list[dict[str, Any]]:
    """Decisions waiting for their disclosure, oldest due first, each marked overdue (督办) once
    its due day has passed: what a head sees of the step (``unit_ids`` None: every unit)."""
    from processes.penalty.models import PenaltyCase

    today = today or china_today()
    query = (select(DecisionDisclosure, PenaltyCase.case_number, PenaltyCase.decided_on)
             .join(PenaltyCase, PenaltyCase.id == DecisionDisclosure.case_id)
             .where(DecisionDisclosure.status == PENDING).order_by(DecisionDisclosure.due_on).limit(limit))
    if unit_ids is not None:
        query = query.where(DecisionDisclosure.unit_id.in_(unit_ids))
    return [{"case_id": row.case_id, "instance_id": row.instance_id, "number": number, "decided_on": decided,
             "due_on": row.due_on, "overdue": row.due_on is not None and today > row.due_on}
            for row, number, decided in session.execute(query)]


def disclose_pending(session: Session, actor: Actor, *, now: datetime | None = None) -> list[str]:
    """Disclose every pending decision of the actor's units as the actor (the demo's head, so the
    demo's public site shows its decision); one line per decision disclosed."""
    made = []
    for entry in pending(session, None if actor.is_admin else sorted(actor.unit_ids)):
        task = session.scalar(select(HumanTask).where(HumanTask.instance_id == entry["instance_id"],
                                                      HumanTask.status == "ready", HumanTask.form_key == FORM))
        if task is not None:
            submit(session, actor, task, {"choice": "disclose", "content_checked": True}, now=now)
            made.append(f"公示行政处罚决定 {entry['number']}")
    return made

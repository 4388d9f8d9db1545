"""What pages, the API, the scheduler and the operators call: run a plan's draw, start the drawn
inspections, submit a task form, re-draw with a reason.

Why one ``submit_task`` door: the schema cannot know the drawn pair, the item's checklist or the
plan's correction limit; the checks that need them run here, then ``engine.complete_task`` with
facts only the server may state (who approved, who declared, who witnessed), then the register
(``Inspection``). Nothing commits here; the caller owns the transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import SYSTEM, Actor, audit, cancel, complete_task, start
from engine.clock import china_today
from engine.clock import now as clock_now
from engine.errors import NotFound, PermissionDenied, TaskNotReady
from engine.models import HumanTask, ProcessInstance
from processes.directory.files import may_reference
from processes.directory.models import Entity, User

from . import draw as draws
from . import draw_signing, draw_witness
from .forms import DATA_KEYS, FORMS
from .models import Draw, InspectionItem, Plan
from .models import Inspection as InspectionRow
from .rule_store import effective_rules

TASK_PROCESS = "inspection_task"


def inspection_of_instance(session: Session, instance_id: str) -> InspectionRow | None:
    return session.scalar(select(InspectionRow).where(InspectionRow.instance_id == instance_id))


def _people(session: Session, user_ids: list[str]) -> list[dict[str, str]]:
    names = dict(session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids))).all())
    return [{"user_id": u, "name": names.get(u, u)} for u in user_ids]


def _items(session: Session, plan: Plan, category: str) -> list[dict[str, Any]]:
    rows = session.scalars(select(InspectionItem).where(InspectionItem.id.in_(plan.item_ids or []),
                                                        InspectionItem.category == category)
                           .order_by(InspectionItem.code))
    return [{"code": i.code, "version": i.version, "name": i.name, "legal_basis": i.legal_basis,
             "checklist": list(i.checklist)} for i in rows]


def start_inspections(session: Session, draw: Draw, *, now: datetime | None = None) -> list[InspectionRow]:
    """One inspection per drawn entity, its task assigned directly to the drawn pair; an entity
    nobody could be matched to is registered ``unstaffed`` for the planner (no process). Every
    finished draw passes here (plan process, scheduler, re-draw), so this also starts the draw
    record's signing step (``draw_signing.start_signing``)."""
    plan = session.get(Plan, draw.plan_id)
    assert plan is not None
    assert draw.result is not None
    result = draw.result
    names = dict(session.execute(select(Entity.credit_code, Entity.name).where(
        Entity.credit_code.in_([e["credit_code"] for e in result["entities"]]))).all())
    rows = []
    for n, entity in enumerate(result["entities"], start=1):
        code = entity["credit_code"]
        pair = result["assignments"].get(code)
        row = InspectionRow(id=str(uuid.uuid4()), draw_id=draw.id, plan_id=plan.id, credit_code=code,
                            entity_name=names.get(code, code), category=entity["category"], inspectors=pair or [],
                            status="assigned" if pair else "unstaffed", findings={})
        session.add(row)
        session.flush()
        if pair:
            people = _people(session, pair)
            data = {"inspection_id": row.id, "plan_code": plan.code, "window_end": plan.window_end.isoformat(),
                    "entity": {"credit_code": code, "name": row.entity_name, "category": row.category},
                    "items": _items(session, plan, row.category), "inspectors": people, "declarers": people,
                    "lead": pair[0], "correction_max_days": _correction_max_days(session, plan)}
            instance = start(session, TASK_PROCESS, SYSTEM, data, business_key=f"双随机-{plan.code}-{draw.seq}-{n}",
                             unit_id=plan.unit_id, entity_id=code, entity_name=row.entity_name, now=now)
            row.instance_id = instance.id
        rows.append(row)
    draw_signing.start_signing(session, draw, now=now)  # the signers' 签署抽取记录 tasks; inspections do not wait
    return rows


def draw_plan(session: Session, actor: Actor, plan: Plan, *, period: str = "", now: datetime | None = None,
              public_value: str | None = None) -> Draw:
    """Commit, draw and start the inspections (the scheduler's unit of work; one transaction)."""
    draw = draws.commit_draw(session, actor, plan, period=period, now=now)
    if draw.seed_source == "witnessed" and public_value is None:
        return draw  # waits for the witness
    draws.perform_draw(session, actor, draw, public_value=public_value, now=now)
    start_inspections(session, draw, now=now)
    return draw


def redraw(session: Session, actor: Actor, draw_id: str, reason: str, *, now: datetime | None = None) -> Draw:
    """A reasoned re-draw: the old draw stays (``superseded``, with the reason), its open
    inspections are cancelled, a new draw (seq + 1, fresh snapshot and seed) replaces it. A
    witnessed plan's new draw waits for its witness (``draw_witness``), like the first one."""
    if not (actor.is_admin or "head" in actor.roles):
        raise PermissionDenied("only a head or an administrator may order a re-draw")
    old = session.get(Draw, draw_id, with_for_update=True)
    if old is None:
        raise NotFound(f"no draw {draw_id}")
    if not (reason or "").strip():
        raise ValidationError({"reason": ["重新抽取须说明理由"]})
    if old.status == "superseded":
        raise ValidationError({"draw": ["该次抽取已被重新抽取取代"]})
    plan = session.get(Plan, old.plan_id)
    assert plan is not None
    waiting = old.status == "committed"
    old.status = "superseded"
    draw_signing.cancel_signing(session, actor, old, f"重新抽取：{reason.strip()}", now=now)
    plan_task_waits = False  # the first draw's witness task (in the plan's own process) still open
    if waiting and old.seed_source == "witnessed":  # a re-draw still waiting for its witness
        cancelled = draw_witness.cancel_witness(session, actor, old, f"重新抽取：{reason.strip()}", now=now)
        plan_task_waits = not cancelled and draw_witness.plan_witness_task_open(session, plan)
    for row in session.scalars(select(InspectionRow).where(InspectionRow.draw_id == old.id)):
        if row.instance_id and row.status not in ("done", "cancelled"):
            instance = session.get(ProcessInstance, row.instance_id)
            if instance is not None and instance.status == "running":
                cancel(session, row.instance_id, actor, f"重新抽取：{reason.strip()}", now=now)
        row.status = "cancelled"
    session.flush()
    new = draws.commit_draw(session, actor, plan, period=old.period, now=now, supersedes=old, reason=reason.strip())
    audit.append(session, actor.user_id, "inspection_redraw", now=now,
                 data={"old": old.id, "new": new.id, "reason": reason.strip()})
    if new.seed_source == "witnessed" and plan_task_waits:
        pass  # the plan's open witness task now serves the new draw (operators.perform_draw follows it)
    elif new.seed_source == "witnessed":
        # like the first draw: the witness enters a public value produced after this commitment;
        # the witness's task then draws and starts the inspections and the signing step
        draw_witness.start_witness(session, new, now=now)
    else:
        draws.perform_draw(session, actor, new, now=now)
        start_inspections(session, new, now=now)
    return new


# -- task forms ------------------------------------------------------------------------------------

def _ready_task(session: Session, task_id: str) -> HumanTask:
    task = session.get(HumanTask, str(task_id), populate_existing=True)
    if task is None:
        raise NotFound(f"no task {task_id}")
    if task.status != "ready":
        raise TaskNotReady(f"task {task.title} is already {task.status}", task_id=task.id)
    return task


def _correction_max_days(session: Session, plan: Plan) -> int:
    """The plan's copy of ``[correction] max_days``; a plan made before it was copied uses the rules in force."""
    kept = plan.params.get("correction_max_days")
    return int(kept) if kept is not None else effective_rules(session).correction_max_days


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _check_onsite(session: Session, task: HumanTask, actor: Actor, form: dict[str, Any],
                  now: datetime | None) -> None:
    row = inspection_of_instance(session, task.instance_id)
    if row is None:
        raise ValidationError({"_schema": ["该任务不属于双随机抽查检查"]})
    for item in form.get("evidence") or []:  # only a file this inspector uploaded (or the case already has)
        if not may_reference(session, item["sha256"], actor.user_id, task.instance_id):
            raise ValidationError({"evidence": ["文件未上传或已丢失，请重新上传"]})
    plan = session.get(Plan, row.plan_id)
    assert plan is not None
    checked = _as_date(form["checked_on"])
    if checked > china_today(now):
        raise ValidationError({"checked_on": ["检查日期不能晚于今天"]})
    checklist = {line for item in _items(session, plan, row.category) for line in item["checklist"]}
    unknown = [line for line in (form.get("nonconforming") or "").splitlines()
               if line.strip() and line.strip() not in checklist]
    if unknown:
        line = unknown[0].strip()
        raise ValidationError({"nonconforming": [f"不是本事项的检查内容：{line}"]})
    if form["outcome"] == "correction":
        due, limit = _as_date(form["correction_due"]), _correction_max_days(session, plan)
        if due <= checked:
            raise ValidationError({"correction_due": ["整改期限应晚于检查日期"]})
        if due > checked + timedelta(days=limit):
            raise ValidationError({"correction_due": [f"整改期限不能超过检查之日起{limit}日"]})


def _check_confirmer(session: Session, task: HumanTask, actor: Actor) -> InspectionRow:
    """Only the pair's other inspector confirms: a drawn inspector of this inspection (after a
    replacement, the replacement), never the lead who wrote the record, never anyone else."""
    row = inspection_of_instance(session, task.instance_id)
    if row is None:
        raise ValidationError({"_schema": ["该任务不属于双随机抽查检查"]})
    inspectors = list(row.inspectors or [])
    if actor.user_id not in inspectors[1:] or actor.user_id != task.assignee:
        raise ValidationError({"_schema": ["只有本次检查的另一名检查人员可以确认现场检查记录"]})
    return row


def _server_facts(key: str, actor: Actor, form: Mapping[str, Any], now: datetime | None) -> dict[str, Any]:
    """What only the server may state: who approved, declared, witnessed, disclosed or confirmed, and when."""
    if key == "inspections.approve_plan":
        return {"approved_by": actor.user_id}
    if key == "inspections.declare":
        return {"user_id": actor.user_id}
    if key == "inspections.witness_seed":
        return {"witnessed_by": actor.user_id}
    if key == "inspections.disclose":
        return {"disclosed_by": actor.user_id, "disclosed_on": china_today(now).isoformat()}
    if key == "inspections.confirm_onsite":
        return {"by": actor.user_id, "at": (now or clock_now()).astimezone(UTC).isoformat(),
                "reason": (form.get("reason") or "").strip()}
    return {}


def _audit_confirmation(session: Session, actor: Actor, task: HumanTask, instance: ProcessInstance,
                        row: InspectionRow | None, payload: dict[str, Any], now: datetime | None) -> None:
    """The second officer's confirmation or dispute, in the case's own chain (its history shows it)."""
    said = {"inspection_id": row.id if row else None, "reason": payload["reason"]}
    if payload["confirmed"]:
        audit.append(session, actor.user_id, "inspection_onsite_confirmed", instance=instance, task_id=task.id,
                     task_name=task.task_name, data=said, now=now)
    else:
        audit.append(session, actor.user_id, "inspection_onsite_disputed", instance=instance, task_id=task.id,
                     task_name=task.task_name, data=said, now=now)


def submit_task(session: Session, task_id: str, actor: Actor, fields: Mapping[str, Any], *,
                now: datetime | None = None) -> ProcessInstance:
    """Validate an inspection form, complete the task, update the register."""
    task = _ready_task(session, task_id)
    key = task.form_key or ""
    if key == draw_signing.SIGN_FORM:  # the passphrase never reaches task data
        return draw_signing.submit(session, task, actor, dict(fields), now=now)
    schema = FORMS.get(key)
    if schema is None:
        raise NotFound(f"task {task.title} has no inspection form ({key!r})")
    form = schema().load(dict(fields))
    if key == "inspections.onsite":
        _check_onsite(session, task, actor, form, now)
    elif key == "inspections.confirm_onsite":
        _check_confirmer(session, task, actor)
    payload = {**form, **_server_facts(key, actor, form, now)}
    instance = complete_task(session, task.id, actor, {DATA_KEYS[key]: payload}, now=now)
    row = inspection_of_instance(session, task.instance_id)
    if row is not None:
        _project(row, key, payload)
    if key == "inspections.confirm_onsite":
        _audit_confirmation(session, actor, task, instance, row, payload, now)
    if key == "inspections.approve_plan" and not form["approved"]:
        plan = session.scalar(select(Plan).where(Plan.instance_id == task.instance_id))
        if plan is not None:
            plan.status = "returned"
    elif key == "inspections.revise_plan":
        plan = session.scalar(select(Plan).where(Plan.instance_id == task.instance_id))
        if plan is not None:
            plan.status = "submitted"
    session.flush()
    return instance


def _project(row: InspectionRow, key: str, payload: dict[str, Any]) -> None:
    if key == "inspections.onsite":
        row.status, row.outcome = "confirming", payload["outcome"]
        row.checked_on = _as_date(payload["checked_on"])
        findings = {k: v for k, v in row.findings.items() if k != "onsite_confirmation"}
        row.findings = {**findings, "onsite": payload}
    elif key == "inspections.confirm_onsite":
        # the confirmation stands for the record it confirmed: a dispute clears it, and so does a new
        # record (the lead's corrected ``onsite`` below), which the co-inspector confirms again
        row.status = "reviewing" if payload["confirmed"] else "disputed"
        findings = {k: v for k, v in row.findings.items() if k != "onsite_confirmation"}
        entry = {k: payload[k] for k in ("by", "at", "confirmed", "reason")}
        if payload["confirmed"]:
            findings["onsite_confirmation"] = entry
        findings["onsite_confirmations"] = [*row.findings.get("onsite_confirmations", []), entry]
        row.findings = findings
    elif key == "inspections.review":
        row.status = "returned" if not payload["approved"] else row.status
        row.findings = {**row.findings, "review": payload}
    elif key == "inspections.reinspect":
        row.reinspection = "corrected" if payload["corrected"] else "not_corrected"
        row.findings = {**row.findings, "reinspection": payload}
    elif key == "inspections.declare":
        row.status = "declaring"
    elif key == "inspections.disclose":
        row.disclosed_on, row.disclosed_by = _as_date(payload["disclosed_on"]), payload["disclosed_by"]


def submit_hook(session: Session, actor: Actor, task: HumanTask, data: dict[str, Any]
                ) -> tuple[ProcessInstance | None, dict[str, list[str]]]:
    """``ProcessPackage.submit``: refusals as Chinese messages per field, nothing kept."""
    from forms.registry import _flatten

    try:
        return submit_task(session, task.id, actor, data), {}
    except ValidationError as exc:
        return None, _flatten(exc.messages)

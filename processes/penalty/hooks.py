"""The penalty package's hooks for ``processes.registry`` (see ``PACKAGE`` in ``__init__``).

Why a module of its own: the hooks adapt the package's services to the registry's plain
signatures (errors as ``{field: [message]}`` instead of ``ValidationError``; a deploy that
puts the administrators' DMN tables in place of the files'), and importing the heavier modules
(demo data, signing) only when a hook runs keeps ``discover()`` light.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from marshmallow import ValidationError
from sqlalchemy.orm import Session

from engine import Actor
from engine.models import HumanTask, ProcessDefinition, ProcessInstance
from forms.registry import _flatten
from processes.registry import StartRequest

Errors = dict[str, list[str]]


def start(session: Session, actor: Actor, request: StartRequest) -> ProcessInstance:
    """A lead (ordinary) or an on-the-spot decision (summary), with its case record and the rules
    in force, exactly as the penalty pages start one; the entity is the first form's default."""
    from .service import PROCESS_KEYS, start_case

    procedure = next((p for p, key in PROCESS_KEYS.items() if key == request.process_key), None)
    if procedure is None:  # the deliberation is called by a case, never started alone
        from engine import NotFound

        raise NotFound(f"process {request.process_key!r} runs inside a penalty case and is not started alone")
    prefill = {"entity_id": request.entity_id, "entity_name": request.entity_name,
               "credit_code": request.entity_id} if request.entity_id else {}
    try:
        case = start_case(session, actor, unit_id=request.unit_id, unit_name=request.unit_name,
                          unit_short_name=request.unit_short_name or request.unit_name[:2],
                          procedure=procedure, prefill=prefill)
    except ValidationError as exc:
        from engine import InvalidData

        raise InvalidData("；".join(m for ms in _flatten(exc.messages).values() for m in ms)) from exc
    instance = session.get(ProcessInstance, case.instance_id)
    assert instance is not None
    return instance


def submit(session: Session, actor: Actor, task: HumanTask, data: dict[str, Any]
           ) -> tuple[ProcessInstance | None, Errors]:
    """``submit_task``: schema, the legal checks that need the case, engine, register (one call).

    A refusal comes back as Chinese messages per field; the caller rolls back (nothing of the
    refused submission may be kept)."""
    from .service import submit_task

    try:
        return submit_task(session, task.id, actor, data), {}
    except ValidationError as exc:
        from forms import get_form

        return None, _flatten(exc.messages, get_form(task.form_key))  # rows and fields named by their labels


def deploy(session: Session, actor: Actor, folder: Path) -> list[ProcessDefinition]:
    """Deploy the bundle with the DMN tables administrators edited (kept in the database), so a
    deploy of the files never silently brings the files' thresholds back."""
    from .dmn_overrides import deploy_processes

    return deploy_processes(session, folder, actor)


def load_demo(session: Session) -> list[str]:
    from .demo import load

    return load(session)


def demo_notes() -> list[str]:
    from .demo import describe

    return describe()


def holder_refusal(session: Session, instance_id: str, user_id: str) -> str | None:
    """A person who declared a conflict or was decided recused acts in no role of the case
    (Art. 43): no task of it may be reassigned, handed or routed to them as a substitute."""
    from sqlalchemy import select

    from .models import PenaltyCase

    blocked = session.scalar(select(PenaltyCase.blocked_officers).where(PenaltyCase.instance_id == instance_id))
    if user_id in (blocked or []):
        return "该人员已声明或者被决定回避本案，不能办理本案任务（《行政处罚法》第四十三条）。"
    return None


def form_defaults(session: Session, instance_id: str, task_name: str) -> dict[str, Any]:
    """What a penalty task's form shows filled in (issue: nothing carried forward, so officers
    retyped the party and the decision re-asked facts, basis and penalty): the lead's party from
    the directory entity picked when the case started, and the case's facts, legal basis and the
    penalty notified to the party (or approved) on the forms that state them again. The officer
    may change any of it; the legal checks then judge what is submitted."""
    from sqlalchemy import select

    from processes.directory.models import Entity

    from .models import PenaltyCase

    case = session.scalar(select(PenaltyCase).where(PenaltyCase.instance_id == instance_id))
    if case is None:
        return {}
    if task_name == "register_lead":
        known = {"source": case.source} if case.source else {}
        if case.discovered_on is not None:  # a lead a complaint or an inspection opened (service.known_discovery)
            known["discovered_on"] = case.discovered_on.isoformat()
        entity = session.get(Entity, case.entity_id) if case.entity_id else None
        if entity is None:
            return known
        return {**known, "entity_id": entity.credit_code, "entity_name": entity.name, "party_type": "organisation",
                "credit_code": entity.credit_code, "legal_representative": entity.legal_representative or "",
                "registered_address": entity.address or "", "actual_address": entity.address or "",
                "region_code": entity.region_code or "",
                "licence_numbers": "、".join(entity.licence_numbers or [])}
    penalty = case.approved_penalty or case.notified_penalty or case.proposed_penalty or {}
    amounts = {"penalty_kinds": list(penalty.get("kinds") or []),
               "fine": _amount(penalty.get("fine")), "confiscation": _amount(penalty.get("confiscation"))}
    if task_name == "draft_decision":
        return {"facts": case.violation or "", "legal_basis": case.legal_basis or "", **amounts}
    if task_name == "review_statement":
        return amounts
    return {}


def _amount(value: Any) -> str:
    return "" if not value else (f"{value:.2f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value))

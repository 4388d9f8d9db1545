"""The inspections package's hooks for ``processes.registry`` (see ``PACKAGE`` in ``__init__``).

Why a module of its own: the registry wants plain signatures; importing the demo data and the
scheduler's work only when a hook runs keeps ``discover()`` light.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from engine import Actor
from engine.models import HumanTask, ProcessInstance
from processes.registry import EntityEvent

Errors = dict[str, list[str]]


def submit(session: Session, actor: Actor, task: HumanTask, data: dict[str, Any]
           ) -> tuple[ProcessInstance | None, Errors]:
    from .service import submit_hook

    if task.form_key == "inspections.disclose_decision":  # the penalty decision's disclosure step
        return submit_decision(session, actor, task, data)
    return submit_hook(session, actor, task, data)


def submit_decision(session: Session, actor: Actor, task: HumanTask, data: dict[str, Any]
                    ) -> tuple[ProcessInstance | None, Errors]:
    """公示行政处罚决定: refusals as Chinese messages per field, nothing kept."""
    from marshmallow import ValidationError

    from forms.registry import _flatten

    from .decision_disclosure import submit as submit_disclosure

    try:
        return submit_disclosure(session, actor, task, data), {}
    except ValidationError as exc:
        return None, _flatten(exc.messages)


def on_entity_event(session: Session, event: EntityEvent) -> None:
    """An entity event from another package: the risk ledger's entry, and for a penalty decision
    its disclosure step (started once per case; the withdrawal of a revoked one)."""
    from .decision_disclosure import on_decided
    from .risk_events import on_entity_event as risk_entry

    risk_entry(session, event)
    on_decided(session, event)


def load_demo(session: Session) -> list[str]:
    from .demo import load

    return load(session)


def scheduled(session_factory: Any, now: datetime | None = None) -> list[str]:
    """Run every due period of every recurring plan (each in its own transaction)."""
    from .scheduling import run_due

    return run_due(session_factory, now=now)

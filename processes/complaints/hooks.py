"""The complaints package's hooks for ``processes.registry`` (see ``PACKAGE`` in ``__init__``):
the submit hook returns refusals as ``{field: [message]}`` instead of raising, and the demo
hook is imported only when it runs."""

from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import Actor
from engine.models import HumanTask, ProcessInstance
from forms.registry import _flatten

Errors = dict[str, list[str]]


def submit(session: Session, actor: Actor, task: HumanTask, data: dict[str, Any]
           ) -> tuple[ProcessInstance | None, Errors]:
    from .service import submit_task

    try:
        return submit_task(session, task.id, actor, data), {}
    except ValidationError as exc:
        return None, _flatten(exc.messages)


def load_demo(session: Session) -> list[str]:
    from .demo import load

    return load(session)


def entity_complaints(session: Session, since: date, until: date) -> dict[str, int]:
    """Complaints, reports and petitions about each directory entity received in [since, until]
    (by ``received_on``), leaving out those classified as not the agency's matter: what the
    inspection draw weights an entity by (国办发〔2015〕58号: more intensity for many complaints)."""
    from .models import Complaint

    rows = session.execute(select(Complaint.entity_id, func.count()).where(
        Complaint.entity_id.is_not(None), Complaint.received_on >= since, Complaint.received_on <= until,
        func.coalesce(Complaint.kind, "") != "out_of_scope").group_by(Complaint.entity_id))
    return {str(code): int(n) for code, n in rows}

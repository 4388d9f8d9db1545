"""The complaints package's hooks for ``processes.registry`` (see ``PACKAGE`` in ``__init__``):
the submit hook returns refusals as ``{field: [message]}`` instead of raising, and the demo
hook is imported only when it runs."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError
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

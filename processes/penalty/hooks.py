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

Errors = dict[str, list[str]]


def submit(session: Session, actor: Actor, task: HumanTask, data: dict[str, Any]
           ) -> tuple[ProcessInstance | None, Errors]:
    """``submit_task``: schema, the legal checks that need the case, engine, register (one call).

    A refusal comes back as Chinese messages per field; the caller rolls back (nothing of the
    refused submission may be kept)."""
    from .service import submit_task

    try:
        return submit_task(session, task.id, actor, data), {}
    except ValidationError as exc:
        return None, _flatten(exc.messages)


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

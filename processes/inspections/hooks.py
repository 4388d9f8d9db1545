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

Errors = dict[str, list[str]]


def submit(session: Session, actor: Actor, task: HumanTask, data: dict[str, Any]
           ) -> tuple[ProcessInstance | None, Errors]:
    from .service import submit_hook

    return submit_hook(session, actor, task, data)


def load_demo(session: Session) -> list[str]:
    from .demo import load

    return load(session)


def scheduled(session_factory: Any, now: datetime | None = None) -> list[str]:
    """Run every due period of every recurring plan (each in its own transaction)."""
    from .scheduling import run_due

    return run_due(session_factory, now=now)

"""Who really receives a task that becomes someone's: the assignment routers.

Why a hook: an officer on leave names a substitute for a period (the directory keeps those
periods; the engine knows no directory). When a new ready task's assignee expression, or a
head's reassignment, names that officer, the registered router may send the task to the
substitute instead, with the absent officer kept as the task's ``owner`` (the inbox shows
"代 X 办理" from the row itself, so the lookup happens once, here, and never when an inbox is
read). A router may also refuse (the substitute is not eligible for this very task): the
task then stays with its assignee and the refusal is audited so heads can see it.

Routers run inside the command, read only the database, and never write: the command records
what they decided on the case's audit chain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class RouteRequest:
    """A task about to be held by ``assignee`` (a new ready task, or a reassignment)."""

    task_id: str
    instance_id: str
    task_name: str
    title: str
    candidate_role: str | None
    unit_id: str | None
    assignee: str
    reassignable: bool = True  # False: bound to its member (a signature, opinion, declaration)
    process_key: str | None = None


@dataclass(frozen=True)
class Route:
    """A router's answer: ``assignee`` receives it on behalf of ``owner``; or, with
    ``refused`` set, it stays with the requested assignee and ``refused`` says why (zh-CN)."""

    assignee: str
    owner: str | None = None
    refused: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


Router = Callable[[Session, RouteRequest, datetime], "Route | None"]
_ROUTERS: list[Router] = []


def register_router(router: Router) -> Router:
    """Register a router (idempotent); the first one with an answer decides."""
    if router not in _ROUTERS:
        _ROUTERS.append(router)
    return router


def route(session: Session, request: RouteRequest, now: datetime) -> Route | None:
    for router in _ROUTERS:
        answer = router(session, request, now)
        if answer is not None:
            return answer
    return None

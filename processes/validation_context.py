"""What a bundle is validated against (``engine.validation.Context``): the forms, roles and
operators this server registers, and the processes deployed (their calls, the messages they
catch). Without Flask, so the pages, the API and ``bench.admin`` build the same one."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import registered_operators
from engine.models import ProcessDefinition
from engine.validation import Context, catchers_of
from forms.registry import registered_forms
from processes.directory.models import ROLES


def latest_definitions(session: Session) -> list[ProcessDefinition]:
    """The newest version of every deployed process, by key."""
    newest = (select(ProcessDefinition.process_key, func.max(ProcessDefinition.version).label("v"))
              .group_by(ProcessDefinition.process_key).subquery())
    return list(session.scalars(select(ProcessDefinition).join(
        newest, (ProcessDefinition.process_key == newest.c.process_key) & (ProcessDefinition.version == newest.c.v))
        .order_by(ProcessDefinition.process_key)))


def validation_context(session: Session, leaving_out: str | None = None) -> Context:
    """The context for checking a bundle; ``leaving_out`` is the process whose new version it holds."""
    calls: dict[str, frozenset[str]] = {}
    catchers: set[str] = set()
    for definition in latest_definitions(session):
        if definition.process_key == leaving_out:
            continue
        calls[definition.process_key] = frozenset(definition.summary.get("called", []))
        catchers |= catchers_of(definition.sources)
    return Context(forms=frozenset(f.key for f in registered_forms()), roles=frozenset(ROLES),
                   operators=frozenset(o.name for o in registered_operators()), processes=frozenset(calls),
                   calls=calls, catchers=frozenset(catchers))

"""Helpers shared by engine tests: fixture BPMN bundles and a few actors."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from engine import Actor, deploy
from engine.actor import SYSTEM
from engine.models import ProcessDefinition

FIXTURES = Path(__file__).parent / "fixtures"

OFFICER = Actor.of("officer1", ["officer"], ["U1"])
OFFICER2 = Actor.of("officer2", ["officer"], ["U1"])
HEAD = Actor.of("head1", ["head", "officer"], ["U1"])
OUTSIDER = Actor.of("officer9", ["officer"], ["U9"])
CLERK = Actor.of("clerk1", ["complaint_clerk"], ["U1"])
ADMIN = Actor.of("admin", ["admin"], ["U1"], is_admin=True)


def bundle(name: str) -> dict[str, bytes]:
    folder = FIXTURES / name
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.suffix in (".bpmn", ".dmn")}


def deploy_fixture(session: Session, name: str) -> list[ProcessDefinition]:
    definitions = deploy(session, bundle(name), SYSTEM)
    session.commit()
    return definitions

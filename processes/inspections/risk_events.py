"""Risk-ledger entries opened by what happens in other processes (国办发〔2015〕58号: more
inspection intensity for entities with many complaints or a bad record).

A complaint whose verification found a violation, or a penalty decided against an entity, opens
an entry at the level ``rules.toml`` gives for that kind (``[risk]``); the entity's level, which
weights the next draw, follows. Once per source (the complaint or the case): the event may be
sent again (a retried job, a recomputed execution state) without a second entry.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import SYSTEM
from processes.directory.models import Entity
from processes.registry import EntityEvent

from . import directories
from .models import RiskEntry
from .rule_store import effective_rules

SOURCES = {"complaint_violation": "complaint", "penalty_decided": "penalty"}


def on_entity_event(session: Session, event: EntityEvent) -> None:
    source = SOURCES.get(event.kind)
    level = effective_rules(session).risk_levels.get(event.kind)
    if source is None or level is None or not event.credit_code or session.get(Entity, event.credit_code) is None:
        return  # not a kind the ledger records, an individual (no code) or an entity outside the directory
    already = session.scalar(select(RiskEntry.id).where(RiskEntry.source == source,
                                                        RiskEntry.source_ref == event.source_ref).limit(1))
    if already is None:
        directories.open_risk(session, SYSTEM, event.credit_code, source=source, level=level, reason=event.reason,
                              on=event.on, source_ref=event.source_ref)

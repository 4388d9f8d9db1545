"""Append-only audit trail in SHA-256 hash chains, and its verification.

One chain per process instance (its head lives on the instance row, whose version already
serializes every command on that instance) and one ``system`` chain for everything else
(deployments, incidents, calendar edits), whose head row in ``audit_chain`` is versioned.
Each event's hash covers the previous hash and every field, so editing, deleting or
reordering a stored event breaks the chain at that point, and a truncated chain no longer
matches the head kept beside it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from .db import utcnow
from .models import AuditChain, AuditEvent, ProcessInstance

GENESIS = "0" * 64
SYSTEM_CHAIN = "system"


_ORJSON_AS_JSON = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_NON_STR_KEYS


def _normalize(data: Any) -> Any:
    """What the JSON column will give back, so the hash is computed on the stored form.

    orjson with dates and dataclasses passed to ``str`` as the json module did; what orjson
    cannot encode (an integer beyond 64 bits) takes the json module's way.
    """
    try:
        return orjson.loads(orjson.dumps(data, default=str, option=_ORJSON_AS_JSON))
    except TypeError:
        return json.loads(json.dumps(data, default=str, ensure_ascii=False))


def compute_hash(prev_hash: str, chain_key: str, seq: int, instance_id: str | None, actor: str, action: str,
                 task_id: str | None, task_name: str | None, data: Any, created_at: datetime) -> str:
    body = json.dumps(
        [prev_hash, chain_key, seq, instance_id, actor, action, task_id, task_name, data,
         created_at.isoformat(timespec="microseconds")],
        sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def instance_chain(instance_id: str) -> str:
    return f"instance:{instance_id}"


def instance_event(instance: ProcessInstance, actor: str, action: str, *, task_id: str | None = None,
                   task_name: str | None = None, data: Any = None, now: datetime | None = None) -> dict[str, Any]:
    """The next event of the instance's chain as a row (column -> value); advances the chain head.

    The instance row's version check serializes appends, so the caller writes the row with the
    instance update of the same command (``engine.hotwrite``) or through the ORM (``append``).
    """
    created_at = (now or utcnow()).astimezone(UTC)  # hashed exactly as the column gives it back
    payload = _normalize(data if data is not None else {})
    chain_key, seq, prev = instance_chain(instance.id), instance.audit_seq + 1, instance.audit_head or GENESIS
    digest = compute_hash(prev, chain_key, seq, instance.id, actor, action, task_id, task_name, payload, created_at)
    instance.audit_seq, instance.audit_head = seq, digest
    return {"chain_key": chain_key, "seq": seq, "instance_id": instance.id, "actor": actor, "action": action,
            "task_id": task_id, "task_name": task_name, "data": payload, "created_at": created_at,
            "prev_hash": prev, "hash": digest}


def append(session: Session, actor: str, action: str, *, instance: ProcessInstance | None = None,
           task_id: str | None = None, task_name: str | None = None, data: Any = None,
           now: datetime | None = None) -> AuditEvent:
    """Append one event to the instance's chain (or the system chain). Caller commits."""
    if instance is not None:
        event = AuditEvent(**instance_event(instance, actor, action, task_id=task_id, task_name=task_name,
                                            data=data, now=now))
        session.add(event)
        return event
    # Hashed exactly as the column gives it back: UTC (a +08:00 time would hash differently).
    created_at = (now or utcnow()).astimezone(UTC)
    payload = _normalize(data if data is not None else {})
    head = session.get(AuditChain, SYSTEM_CHAIN, with_for_update=True) or _new_system_chain(session)
    seq, prev = head.seq + 1, head.head_hash
    digest = compute_hash(prev, SYSTEM_CHAIN, seq, None, actor, action, task_id, task_name, payload, created_at)
    event = AuditEvent(chain_key=SYSTEM_CHAIN, seq=seq, instance_id=None, actor=actor, action=action,
                       task_id=task_id, task_name=task_name, data=payload, created_at=created_at,
                       prev_hash=prev, hash=digest)
    session.add(event)
    head.seq, head.head_hash = seq, digest
    return event


def _new_system_chain(session: Session) -> AuditChain:
    head = AuditChain(chain_key=SYSTEM_CHAIN, seq=0, head_hash=GENESIS)
    session.add(head)
    return head


@dataclass(frozen=True)
class BrokenLink:
    chain_key: str
    seq: int
    event_id: int | None
    reason: str

    def __str__(self) -> str:
        return f"chain {self.chain_key}, event #{self.seq} (id {self.event_id}): {self.reason}"


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    chains: int
    events: int
    first_broken: BrokenLink | None


def _heads(session: Session) -> Iterator[tuple[str, int, str]]:
    for chain in session.scalars(select(AuditChain)):
        yield chain.chain_key, chain.seq, chain.head_hash
    for inst_id, seq, head in session.execute(
            select(ProcessInstance.id, ProcessInstance.audit_seq, ProcessInstance.audit_head)):
        yield instance_chain(inst_id), seq, head


def verify(session: Session) -> VerifyResult:
    """Recompute every chain; report the first broken link (by chain, then sequence)."""
    heads = {key: (seq, head) for key, seq, head in _heads(session)}
    events = 0
    chains_seen: set[str] = set()
    current: str | None = None
    expected_prev = GENESIS
    expected_seq = 1
    broken: BrokenLink | None = None
    query = select(AuditEvent).order_by(AuditEvent.chain_key, AuditEvent.seq).execution_options(yield_per=2000)
    for ev in session.scalars(query):
        events += 1
        if ev.chain_key != current:
            if current is not None and broken is None:
                broken = _check_head(current, expected_seq - 1, expected_prev, heads)
            current, expected_prev, expected_seq = ev.chain_key, GENESIS, 1
            chains_seen.add(ev.chain_key)
        if broken is not None:
            continue
        if ev.seq != expected_seq:
            broken = BrokenLink(ev.chain_key, expected_seq, None, f"event #{expected_seq} is missing")
        elif ev.prev_hash != expected_prev:
            broken = BrokenLink(ev.chain_key, ev.seq, ev.id, "previous-hash link does not match")
        else:
            recomputed = compute_hash(ev.prev_hash, ev.chain_key, ev.seq, ev.instance_id, ev.actor, ev.action,
                                      ev.task_id, ev.task_name, ev.data, ev.created_at)
            if recomputed != ev.hash:
                broken = BrokenLink(ev.chain_key, ev.seq, ev.id, "content was changed after it was written")
        expected_prev, expected_seq = ev.hash, ev.seq + 1
    if current is not None and broken is None:
        broken = _check_head(current, expected_seq - 1, expected_prev, heads)
    if broken is None:
        for key, (seq, _head) in sorted(heads.items()):
            if seq > 0 and key not in chains_seen:
                broken = BrokenLink(key, 1, None, f"all {seq} events of this chain were deleted")
                break
    return VerifyResult(broken is None, len(chains_seen), events, broken)


def _check_head(chain_key: str, last_seq: int, last_hash: str,
                heads: dict[str, tuple[int, str]]) -> BrokenLink | None:
    seq, head = heads.get(chain_key, (last_seq, last_hash))
    if seq != last_seq:
        return BrokenLink(chain_key, last_seq + 1, None,
                          f"chain ends at #{last_seq} but its head says #{seq}: events were deleted")
    if head != last_hash:
        return BrokenLink(chain_key, last_seq, None, "last event does not match the chain head")
    return None


def history(session: Session, instance_id: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.chain_key == instance_chain(instance_id))
                                .order_by(AuditEvent.seq)))

"""Moving many instances at once: a batch a worker runs a chunk at a time, with progress.

The administrator's request is stored first (``MigrationBatch``: target version, instances,
mapping, reason) and committed; a worker job then moves the instances in chunks, each instance
in a savepoint of its own, so one that cannot move is recorded with its reason and the others
go on. The batch is idempotent: an instance already on the target version, or with a result,
is skipped, so a worker killed mid-batch resumes where it stopped.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, clock
from .actor import Actor
from .errors import EngineError, InvalidData, NotFound
from .migration import migrate
from .models import MigrationBatch, ProcessDefinition, ProcessInstance

MAX_BATCH = 100_000
CHUNK = 50


def start_batch(session: Session, actor: Actor, definition_id: int, instance_ids: Iterable[str], reason: str,
                mapping: dict[str, str] | None = None) -> MigrationBatch:
    """Record a batch (the caller commits, then hands ``batch.id`` to ``run_batch`` via a worker)."""
    target = session.get(ProcessDefinition, definition_id)
    if target is None:
        raise NotFound(f"process definition {definition_id} does not exist")
    ids = list(dict.fromkeys(str(i) for i in instance_ids))
    if not ids:
        raise InvalidData("choose at least one instance to migrate")
    if len(ids) > MAX_BATCH:
        raise InvalidData(f"at most {MAX_BATCH} instances per batch")
    if not (reason or "").strip():
        raise InvalidData("a reason is required to migrate instances")
    found = set(session.scalars(select(ProcessInstance.id).where(ProcessInstance.id.in_(ids),
                                                                 ProcessInstance.process_key == target.process_key)))
    missing = [i for i in ids if i not in found]
    if missing:
        raise InvalidData(f"{len(missing)} instance(s) are not instances of '{target.process_key}': "
                          + ", ".join(missing[:5]))
    batch = MigrationBatch(id=str(uuid.uuid4()), process_key=target.process_key, target_definition_id=target.id,
                           mapping=dict(mapping or {}), instance_ids=ids, results={}, status="pending",
                           reason=reason.strip(), created_by=actor.user_id, created_at=clock.now())
    session.add(batch)
    audit.append(session, actor.user_id, "migration_started", data={
        "batch": batch.id, "process_key": target.process_key, "to_version": target.version,
        "instances": len(ids), "mapping": batch.mapping, "reason": batch.reason})
    session.flush()
    return batch


def run_batch(factory: Callable[[], Session], batch_id: str, chunk: int = CHUNK,
              on_chunk: Callable[[list[str]], None] | None = None) -> MigrationBatch | None:
    """Move every instance of the batch that has no result yet; commit after each chunk.

    ``on_chunk`` receives the outbox job ids the moved instances created (the caller dispatches).
    """
    while True:
        with factory() as session:
            batch = session.get(MigrationBatch, batch_id, with_for_update=True)
            if batch is None:
                return None
            actor = Actor(batch.created_by, frozenset({"admin"}), frozenset(), is_admin=True)
            todo = [i for i in batch.instance_ids if i not in batch.results][:chunk]
            if not todo:
                if batch.status != "done":
                    batch.status, batch.finished_at = "done", clock.now()
                    moved = sum(1 for r in batch.results.values() if r.get("ok"))
                    audit.append(session, batch.created_by, "migration_finished", data={
                        "batch": batch.id, "moved": moved, "left": len(batch.results) - moved})
                    session.commit()
                session.expunge(batch)
                return batch
            batch.status = "running"
            results = dict(batch.results)
            for instance_id in todo:
                results[instance_id] = _move_one(session, actor, batch, instance_id)
            batch.results = results
            session.commit()
            from .runtime import NEW_JOBS_KEY

            jobs = session.info.pop(NEW_JOBS_KEY, [])
        if on_chunk is not None and jobs:
            on_chunk(jobs)


def _move_one(session: Session, actor: Actor, batch: MigrationBatch, instance_id: str) -> dict[str, object]:
    row = session.get(ProcessInstance, instance_id)
    if row is not None and row.definition_id == batch.target_definition_id:
        return {"ok": True, "note": "already on the target version"}
    savepoint = session.begin_nested()
    try:
        migrate(session, actor, instance_id, batch.target_definition_id, batch.reason, batch.mapping)
        savepoint.commit()
        return {"ok": True}
    except EngineError as exc:
        savepoint.rollback()
        return {"ok": False, "reason": exc.message}


def progress(batch: MigrationBatch) -> dict[str, object]:
    moved = sum(1 for r in batch.results.values() if r.get("ok"))
    return {"id": batch.id, "status": batch.status, "total": len(batch.instance_ids), "done": len(batch.results),
            "moved": moved, "left": len(batch.results) - moved, "reason": batch.reason,
            "results": batch.results, "target_definition_id": batch.target_definition_id}

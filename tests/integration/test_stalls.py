"""A case that nothing can move is an incident the administrator sees, never silent.

The stall is produced the way it once happened: the multi-instance merge handler missing from
the spec (a spec parsed in a process that never created the instances). The detector marks the
instance ``stalled`` with an audit event; a scan finds rows stored before the detector existed;
``repair_stalled`` merges what was never merged and the case moves on.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import (
    PermissionDenied,
    TaskNotReady,
    audit_history,
    clear_caches,
    complete_task,
    repair_stalled,
    scan_stalled,
    stalled_instances,
    start,
    verify_audit,
)
from engine.definitions import connect_loop_merges, spec_by_id
from engine.models import HumanTask, ProcessInstance
from tests.engine_helpers import ADMIN, OFFICER, Actor, deploy_fixture


def _stall(session: Session) -> ProcessInstance:
    deploy_fixture(session, "multi")
    instance = start(session, "multi_case", OFFICER, {"members": ["officer1", "officer2"]}, unit_id="U1")
    session.commit()
    spec = spec_by_id(session, instance.definition_id).spec
    declare = spec.task_specs["declare"]
    child = spec.task_specs[declare.task_spec]
    child.completed_event.disconnect(declare.merge_child)
    for task in session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)).all():
        complete_task(session, task.id, Actor.of(task.assignee or "", ["officer"], ["U1"]), {"declaration": "无"})
        session.commit()
    connect_loop_merges(spec)  # the corrected spec, as a restarted process parses it now
    return instance


def test_a_case_left_with_nothing_to_move_it_is_marked_stalled(db_session: Session) -> None:
    instance = _stall(db_session)
    db_session.refresh(instance)
    assert instance.status == "stalled"
    assert [i.id for i in stalled_instances(db_session)] == [instance.id]
    events = [e for e in audit_history(db_session, instance.id) if e.action == "instance_stalled"]
    assert len(events) == 1 and "declare:STARTED" in events[0].data["live"]
    clear_caches()
    repaired = repair_stalled(db_session, instance.id, ADMIN)
    db_session.commit()
    assert repaired.status == "running"
    ready = db_session.scalars(select(HumanTask.task_name).where(HumanTask.instance_id == instance.id,
                                                                 HumanTask.status == "ready")).all()
    assert ready == ["sign"]  # the parallel step finished; the case moved on
    assert verify_audit(db_session).ok


def test_a_scan_finds_cases_stored_before_the_detector(db_session: Session) -> None:
    instance = _stall(db_session)
    db_session.refresh(instance)
    instance.status = "running"  # as a row written before stalls were detected
    db_session.commit()
    with pytest.raises(PermissionDenied):
        scan_stalled(db_session, OFFICER)
    assert scan_stalled(db_session, ADMIN) == [instance.id]
    db_session.commit()
    db_session.refresh(instance)
    assert instance.status == "stalled"
    assert scan_stalled(db_session, ADMIN) == []  # marked once


def test_repair_is_for_administrators_and_stalled_cases_only(db_session: Session) -> None:
    deploy_fixture(db_session, "multi")
    instance = start(db_session, "multi_case", OFFICER, {"members": ["officer1"]}, unit_id="U1")
    db_session.commit()
    with pytest.raises(TaskNotReady, match="not stalled"):
        repair_stalled(db_session, instance.id, ADMIN)
    db_session.rollback()
    with pytest.raises(PermissionDenied):
        repair_stalled(db_session, instance.id, OFFICER)

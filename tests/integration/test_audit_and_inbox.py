"""Audit hash chain (verify, tampering found) and the inbox (scope, units, keyset paging, claims)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from engine import (
    ConflictError,
    InboxFilters,
    InvalidData,
    PermissionDenied,
    assign,
    audit_history,
    claim,
    complete_task,
    inbox,
    start,
    unclaim,
    verify_audit,
)
from engine.models import AuditEvent, HumanTask, ProcessInstance
from tests.engine_helpers import HEAD, OFFICER, OFFICER2, OUTSIDER, deploy_fixture


@pytest.fixture
def cases(db_session: Session) -> list[ProcessInstance]:
    deploy_fixture(db_session, "lead")
    made = []
    base = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    for i in range(7):
        made.append(start(db_session, "case_lead", OFFICER, {"n": i}, business_key=f"L-{i}",
                          now=base + timedelta(days=i)))
    start(db_session, "case_lead", OUTSIDER, {"n": 99}, business_key="L-other-unit")
    db_session.commit()
    return made


def test_audit_chain_verifies_and_a_direct_edit_is_named(db_session: Session, cases: list[ProcessInstance]) -> None:
    [task] = db_session.scalars(select(HumanTask).where(HumanTask.instance_id == cases[0].id))
    complete_task(db_session, task.id, OFFICER, {"amount": 20000, "facts": "超范围执业"})
    db_session.commit()
    result = verify_audit(db_session)
    assert result.ok and result.first_broken is None and result.events >= 10
    target = audit_history(db_session, cases[0].id)[1]
    assert target.action == "task_completed"
    db_session.execute(update(AuditEvent).where(AuditEvent.id == target.id)
                       .values(data={"data": {"amount": 200, "facts": "超范围执业"}, "form_key": "lead.register"}))
    db_session.commit()
    broken = verify_audit(db_session)
    assert not broken.ok and broken.first_broken is not None
    assert broken.first_broken.event_id == target.id and "changed" in broken.first_broken.reason


def test_deleting_the_last_event_is_found(db_session: Session, cases: list[ProcessInstance]) -> None:
    last = audit_history(db_session, cases[3].id)[-1]
    db_session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": last.id})
    db_session.commit()
    result = verify_audit(db_session)
    assert not result.ok and "deleted" in result.first_broken.reason  # type: ignore[union-attr]


def test_cli_audit_verify_exit_code(db_url: str, monkeypatch: pytest.MonkeyPatch, db_session: Session,
                                    cases: list[ProcessInstance]) -> None:
    from web.cli import main

    monkeypatch.setenv("DATABASE_URL", db_url)
    ok = CliRunner().invoke(main, ["audit", "verify"])
    assert ok.exit_code == 0 and "intact" in ok.output
    db_session.execute(text("UPDATE audit_event SET actor = 'mallory' WHERE seq = 1 AND instance_id = :i"),
                       {"i": cases[2].id})
    db_session.commit()
    bad = CliRunner().invoke(main, ["audit", "verify"])
    assert bad.exit_code == 1 and cases[2].id in bad.output


def test_inbox_shows_claimable_in_my_units_sorted_by_due_and_pages(db_session: Session,
                                                                  cases: list[ProcessInstance]) -> None:
    seen: list[HumanTask] = []
    cursor = None
    while True:
        page = inbox(db_session, OFFICER2, InboxFilters(scope="claimable"), cursor=cursor, limit=3)
        seen.extend(page.tasks)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(t.business_key for t in seen) == [f"L-{i}" for i in range(7)]  # type: ignore[type-var]
    assert [(t.due_sort, t.id) for t in seen] == sorted((t.due_sort, t.id) for t in seen)
    # Started Mon 2 March .. Sun 8 March 2026; due 5 working days later (start day not counted).
    assert seen[0].due_at.date().isoformat() == "2026-03-09"  # type: ignore[union-attr]
    assert inbox(db_session, OUTSIDER).tasks[0].business_key == "L-other-unit"
    assert len(inbox(db_session, OUTSIDER).tasks) == 1
    assert inbox(db_session, HEAD, InboxFilters(process_key="nothing")).tasks == []
    with pytest.raises(InvalidData):
        inbox(db_session, OFFICER, cursor="not-a-cursor")
    with pytest.raises(InvalidData):
        inbox(db_session, OFFICER, InboxFilters(scope="everything"))


def test_claim_unclaim_and_head_reassign_with_reason(db_session: Session, cases: list[ProcessInstance]) -> None:
    task = inbox(db_session, OFFICER).tasks[0]
    claim(db_session, task.id, OFFICER)
    db_session.commit()
    assert [t.id for t in inbox(db_session, OFFICER, InboxFilters(scope="assigned")).tasks] == [task.id]
    assert task.id not in [t.id for t in inbox(db_session, OFFICER2).tasks]
    with pytest.raises(ConflictError):
        claim(db_session, task.id, OFFICER2)
    with pytest.raises(PermissionDenied):
        complete_task(db_session, task.id, OFFICER2, {"amount": 1})
    with pytest.raises(PermissionDenied):
        assign(db_session, task.id, OFFICER, "officer2", "换人")
    with pytest.raises(InvalidData):
        assign(db_session, task.id, HEAD, "officer2", "")
    db_session.rollback()
    assign(db_session, task.id, HEAD, "officer2", "原承办人出差")
    db_session.commit()
    assert db_session.get(HumanTask, task.id).assignee == "officer2"  # type: ignore[union-attr]
    event = audit_history(db_session, task.instance_id)[-1]
    assert (event.action, event.actor, event.data["reason"]) == ("task_assigned", "head1", "原承办人出差")
    unclaim(db_session, task.id, OFFICER2)
    db_session.commit()
    assert db_session.get(HumanTask, task.id).assignee is None  # type: ignore[union-attr]
    with pytest.raises(PermissionDenied):
        claim(db_session, task.id, OUTSIDER)


def test_audit_rows_hold_json_that_round_trips(db_session: Session, cases: list[ProcessInstance]) -> None:
    for event in db_session.scalars(select(AuditEvent)):
        assert json.loads(json.dumps(event.data)) == event.data

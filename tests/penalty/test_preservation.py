"""先行登记保存 (Art. 56): head approval, a handling decision within 7 working days with a reminder
and an overdue notice, and no end of the investigation while preserved evidence is undecided."""

from __future__ import annotations

from marshmallow import ValidationError
from sqlalchemy import select

from processes.penalty.models import DeadlineNotice
from tests.penalty.driver import SH, PenaltyWorld, at


def _notices(world: PenaltyWorld, case_id: str) -> list[str]:
    with world.factory() as session:
        return list(session.scalars(select(DeadlineNotice.kind).where(DeadlineNotice.case_id == case_id)
                                    .order_by(DeadlineNotice.id)))


def test_preserved_evidence_needs_a_decision_within_seven_working_days(world: PenaltyWorld) -> None:
    world.set_day("2025-09-30")
    case_id = world.start()
    world.run_until(case_id, "investigate")
    world.submit(case_id, "investigate", {"kind": "preservation", "officers": ["officer1", "officer2"],
                                          "preservation_items": "未经消毒的输液器具12套"})
    assert world.ready_names(case_id) == ["approve_preservation", "investigate"]  # investigation goes on

    assert not world.try_submit(case_id, "investigate", {"kind": "finish"})
    assert isinstance(world.errors[-1], ValidationError)
    assert "尚有先行登记保存的证据未作出处理决定" in str(world.errors[-1].messages)

    world.submit(case_id, "approve_preservation", {"approved": True, "opinion": "同意先行登记保存"})
    decide = world.task(case_id, "decide_preservation")
    assert decide.due_at is not None and decide.due_at.astimezone(SH).date().isoformat() == "2025-10-16"

    world.fire(at("2025-10-14", 9, 0, 1))  # 2 working days before the deadline
    assert _notices(world, case_id) == ["preservation_reminder"]
    world.fire(at("2025-10-16", 23, 0, 0))
    assert _notices(world, case_id) == ["preservation_reminder"]
    world.fire(at("2025-10-17", 0, 0, 1))
    assert _notices(world, case_id) == ["preservation_reminder", "preservation_overdue"]

    world.submit(case_id, "decide_preservation", {"measure": "confiscate", "decided_on": world.today.isoformat()})
    assert world.ready_names(case_id) == ["investigate"]
    world.submit(case_id, "investigate", {"kind": "interview", "officers": ["officer1", "officer2"],
                                          "occurred_on": world.today.isoformat(), "interviewee": "陈明",
                                          "content": "问：……答：……"})
    world.submit(case_id, "investigate", {"kind": "finish"})
    assert world.ready_names(case_id) == ["investigation_report"]

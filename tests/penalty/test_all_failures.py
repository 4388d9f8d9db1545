"""Issue 15 item 5: the legal checks of a penalty form report every problem in one round, not
one per submission; and a refused form still completes nothing."""

from __future__ import annotations

from marshmallow import ValidationError

from tests.penalty.driver import NAMES, PenaltyWorld


def test_the_investigation_report_names_every_problem_of_its_members_at_once(world: PenaltyWorld) -> None:
    case_id = world.start()
    world.run_until(case_id, "investigation_report")
    members = [{"user_id": "officer1", "name": NAMES["officer1"], "role": "承办人"},
               {"user_id": "officer1", "name": NAMES["officer1"], "role": "成员"},
               {"user_id": "officer3", "name": NAMES["officer3"], "role": "成员"}]
    assert not world.try_submit(case_id, "investigation_report", {"members": members})
    refusal = world.errors[-1]
    assert isinstance(refusal, ValidationError)
    assert isinstance(refusal.messages, dict)
    said = refusal.messages["members"]
    assert "合议人员不能重复" in said and "请指定合议主持人" in said  # both, in one round
    assert world.ready_names(case_id) == ["investigation_report"]  # nothing completed

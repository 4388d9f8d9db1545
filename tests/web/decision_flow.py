"""The head's step 公示行政处罚决定 for the web tests, through the package's submit hook (what the
task page calls): a decided case's decision reaches the public site only once disclosed."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import HumanTask
from processes.inspections import hooks
from processes.inspections.decision_models import DecisionDisclosure
from processes.penalty.models import PenaltyCase
from tests.web.conftest import actor


def disclose_decision(session: Session, number: str, head: str = "head.a") -> str:
    """The head checks the public content of decision ``number`` and discloses it; returns the number."""
    case_id = session.scalar(select(PenaltyCase.id).where(PenaltyCase.case_number == number))
    row = session.get(DecisionDisclosure, case_id)
    assert row is not None, f"decision {number} has no disclosure step"
    task = session.scalar(select(HumanTask).where(HumanTask.instance_id == row.instance_id,
                                                  HumanTask.status == "ready"))
    assert task is not None, f"decision {number} has no open disclosure task"
    instance, errors = hooks.submit(session, actor(session, head), task, {"choice": "disclose",
                                                                          "content_checked": True})
    assert instance is not None and not errors, errors
    session.commit()
    return number

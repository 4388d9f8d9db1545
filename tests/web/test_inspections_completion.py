"""The plan page says how many of the drawn inspections are done, an entity not found or closed
(查无下落) counting as done (issue 12: it counts toward completion)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from processes.inspections.plans import completion
from tests.web.inspections_flow import approved_plan, finish, inspections_of, setup_inspections


def test_the_plan_page_counts_done_inspections_and_not_found_as_done(app: Flask, session: Session,
                                                                    as_user: Any) -> None:
    setup_inspections(session)
    plan, draw = approved_plan(session, 3)
    rows = inspections_of(session, draw)
    assert len(rows) == 3
    officer = as_user("officer.a")
    page = officer.get(f"/inspections/plans/{plan.id}").get_data(as_text=True)
    assert '<dd id="plan-completion">已完成／抽中 0 / 3</dd>' in page

    finish(session, rows[0], "compliant")
    finish(session, rows[1], "not_found")
    assert completion(session, plan.id).__dict__ == {"done": 2, "not_found": 1, "total": 3}
    page = officer.get(f"/inspections/plans/{plan.id}").get_data(as_text=True)
    assert '<dd id="plan-completion">已完成／抽中 2 / 3；其中查无下落（计为完成） 1</dd>' in page

"""Penalty amounts read as money wherever the generic renderer shows them: the record of a
completed task and the case's key facts say "5,000.00 元", not the float "5000.0" (the penalty
forms' ``amount()`` fields carry the ``money`` widget the renderer recognises)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import HumanTask
from forms import describe, format_value
from processes.penalty.forms import DecisionForm
from tests.web.test_penalty import (  # noqa: F401  (fixtures used by name)
    Office,
    filed,
    office,
    penalty_db,
    run_until,
)


def test_a_penalty_amount_is_described_as_money() -> None:
    spec = next(s for s in describe(DecisionForm) if s.name == "fine")
    assert spec.widget == "money"
    assert format_value(spec, 5000.0) == "5,000.00 元"


def test_the_fine_reads_as_yuan_on_the_completed_task_and_the_case_page(
        filed: str, penalty_db: Session, office: Office) -> None:  # noqa: F811
    run_until(office, penalty_db, filed, "serve_prior_notice")
    report = penalty_db.scalars(select(HumanTask).where(
        HumanTask.instance_id == filed, HumanTask.task_name == "investigation_report")).first()
    assert report is not None and report.status == "completed"
    record = office("head.a").get(f"/tasks/{report.id}").get_data(as_text=True)
    assert "5,000.00 元" in record
    assert not re.search(r">\s*5000\.0\s*<", record)
    case_page = office("officer.a").get(f"/cases/{filed}").get_data(as_text=True)
    assert not re.search(r">\s*5000\.0\s*<", case_page)
    assert "5,000.00 元" in case_page

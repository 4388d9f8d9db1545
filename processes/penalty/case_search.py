"""The case list's hooks for penalty cases: search the register (case number, party, facts) and
find the cases a person is an officer or investigator of."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from processes.case_search import matches, mentions

from .models import PenaltyCase


def case_text(pattern: str) -> Any:
    c = PenaltyCase
    return select(c.instance_id).where(or_(*(matches(column, pattern) for column in (
        c.case_number, c.entity_name, c.credit_code, c.legal_representative, c.violation, c.legal_basis))))


def case_officers(user_id: str) -> Any:
    return select(PenaltyCase.instance_id).where(or_(mentions(PenaltyCase.officers, user_id),
                                                     mentions(PenaltyCase.investigators, user_id)))

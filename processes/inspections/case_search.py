"""The case list's hooks for inspections: search a plan's code and title and an inspection's
entity, and find the inspections a person was drawn for."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select, union

from processes.case_search import matches, mentions

from .models import Inspection, Plan


def case_text(pattern: str) -> Any:
    return union(
        select(Plan.instance_id).where(Plan.instance_id.is_not(None),
                                       or_(matches(Plan.code, pattern), matches(Plan.title, pattern))),
        select(Inspection.instance_id).where(Inspection.instance_id.is_not(None),
                                             or_(matches(Inspection.entity_name, pattern),
                                                 matches(Inspection.credit_code, pattern))))


def case_officers(user_id: str) -> Any:
    return select(Inspection.instance_id).where(Inspection.instance_id.is_not(None),
                                                mentions(Inspection.inspectors, user_id))

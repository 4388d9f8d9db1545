"""The case list's hooks for complaints: search a complaint's tracking number, target and facts
(its current instance), and find the complaints a person registered or handles."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from processes.case_search import matches, mentions

from .models import Complaint


def case_text(pattern: str) -> Any:
    c = Complaint
    return select(c.instance_id).where(c.instance_id.is_not(None), or_(*(matches(column, pattern) for column in (
        c.tracking_no, c.target_name, c.facts, c.request))))


def case_officers(user_id: str) -> Any:
    c = Complaint
    return select(c.instance_id).where(c.instance_id.is_not(None),
                                       or_(c.clerk_id == user_id, mentions(c.handlers, user_id)))

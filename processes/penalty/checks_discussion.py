"""Legal checks of the collective discussion (负责人集体讨论, 行政处罚法 Art. 57(2)): who took part, and
each participant's confirmation of the record (form in ``forms_discussion``).

Why the directory is asked here and not only in the picker: the web picker offers the heads of the
actor's units, but the API and any other caller post user ids too; the record names people the law
requires to be the agency's heads (负责人), so each id must be an active head of the case's unit or
of a unit the recording head oversees, and the names printed on the record are the directory's.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.clock import now as engine_now
from processes.directory.models import User

from .checks import Result, Submission, actor_name, fail, handles, jsonable, refuse_recused


def check_participants(sub: Submission) -> list[dict[str, Any]]:
    """The participants as the record keeps them (directory names), or a refusal on ``participants``."""
    participants = sub.form["participants"]
    ids = [p["user_id"] for p in participants]
    if len(set(ids)) != len(ids):
        fail("participants", "参加讨论的负责人不能重复")
    minimum = sub.rules.staffing.min_collective_participants
    if len(ids) < minimum:
        fail("participants", f"集体讨论须有至少{minimum}名负责人参加（第五十七条第二款），本次只列了{len(ids)}名")
    users = {u.id: u for u in sub.session.scalars(select(User).where(User.id.in_(ids)))}
    units = set(sub.actor.unit_ids) | {sub.case.unit_id}
    kept = []
    for person in participants:
        user = users.get(person["user_id"])
        if user is None or not user.active or "head" not in (user.roles or []) or user.unit_id not in units:
            fail("participants", f"{person.get('name') or person['user_id']}不是本机关的负责人，"
                                 f"不能列为集体讨论的参加人员；请从人员名录中选择负责人")
        assert user is not None
        refuse_recused(sub, user.id, user.display_name, "集体讨论人员", "participants")
        kept.append({"user_id": user.id, "name": user.display_name})
    return kept


@handles("penalty.discussion_confirmation")
def discussion_confirmation(sub: Submission) -> Result:
    """One participant's confirmation (their own task: the engine completes it only for its assignee).
    Who and when are kept with it, so the record shows each confirmation."""
    payload = {**jsonable(sub.form), "user_id": sub.actor.user_id, "name": actor_name(sub),
               "at": engine_now().isoformat(timespec="seconds")}
    return Result(payload)

"""回避: steps for recusal.feature."""

from __future__ import annotations

from typing import Any

from pytest_bdd import parsers, scenarios, then, when
from sqlalchemy.orm import Session

from processes.directory.models import Unit, User
from processes.penalty import apply_for_recusal
from tests.penalty.driver import ACTORS, NAMES, OFFICER1, UNIT, UNIT_NAME, PenaltyWorld, officer

scenarios("recusal.feature")


@when(parsers.parse('承办人"{user_id}"声明与当事人有利害关系'))
def declares_conflict(world: PenaltyWorld, ctx: dict[str, Any], user_id: str) -> None:
    world.submit(ctx["case"], "declare_conflicts", {"no_conflict": False, "statement": "系当事人法定代表人的亲属"},
                 actor=ACTORS[user_id], assignee=user_id)


@when(parsers.parse('承办人"{user_id}"声明与当事人没有利害关系'))
@when(parsers.parse('接替人员"{user_id}"声明与当事人没有利害关系'))
def declares_none(world: PenaltyWorld, ctx: dict[str, Any], user_id: str) -> None:
    name = "declare_conflicts" if world.ready(ctx["case"], "declare_conflicts") else "declare_replacement"
    world.submit(ctx["case"], name, {"no_conflict": True}, actor=ACTORS[user_id], assignee=user_id)


@when(parsers.parse('负责人指定承办人"{user_ids}"'))
def replace(world: PenaltyWorld, ctx: dict[str, Any], user_ids: str) -> None:
    world.try_submit(ctx["case"], "replace_officers", {"officers": [officer(u) for u in user_ids.split(",")]})


@then(parsers.parse('本案承办人为"{user_ids}"'))
def officers_are(world: PenaltyWorld, ctx: dict[str, Any], user_ids: str) -> None:
    assert sorted(o["user_id"] for o in world.case(ctx["case"]).officers) == sorted(user_ids.split(","))


@when(parsers.parse('当事人申请承办人"{user_id}"回避'))
def apply(world: PenaltyWorld, ctx: dict[str, Any], user_id: str) -> None:
    with world.factory() as session:
        apply_for_recusal(session, OFFICER1, ctx["case"], user_id, "该执法人员曾在当事人单位任职", now=world.now)
        session.commit()


@when(parsers.parse('负责人决定"{user_id}"回避，由"{replacement}"接替'))
def grant(world: PenaltyWorld, ctx: dict[str, Any], user_id: str, replacement: str) -> None:
    assert world.case(ctx["case"]).pending_recusal["officer_id"] == user_id  # type: ignore[index]
    world.submit(ctx["case"], "decide_recusal", {"granted": True, "reasons": "申请理由成立",
                                                 "replacement": officer(replacement)})


@when("负责人驳回回避申请")
def refuse(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    world.submit(ctx["case"], "decide_recusal", {"granted": False, "reasons": "申请理由不成立"})


@when(parsers.parse('制作询问笔录，执法人员为"{user_ids}"'))
def interview(world: PenaltyWorld, ctx: dict[str, Any], user_ids: str) -> None:
    world.try_submit(ctx["case"], "investigate", {"kind": "interview", "officers": user_ids.split(",")})


def _staff_directory(session: Session) -> None:
    """The unit's staff in the directory, so refusals name people as the directory does."""
    if session.get(Unit, UNIT) is None:
        session.add(Unit(id=UNIT, name=UNIT_NAME, short_name="宝山", level="county", region_code="310113",
                         path=f"/{UNIT}/"))
        session.flush()
    for user_id, actor in ACTORS.items():
        if session.get(User, user_id) is None:
            session.add(User(id=user_id, display_name=NAMES[user_id], password_hash="-", unit_id=UNIT,
                             roles=list(actor.roles)))
    session.flush()


ROLES = {"听证主持人": "hearing_chair", "法制审核人员": "legal_reviewer", "合议人员": "deliberation_member"}


@when(parsers.parse('当事人申请{role}"{user_id}"回避'))
def apply_in_role(world: PenaltyWorld, ctx: dict[str, Any], role: str, user_id: str) -> None:
    with world.factory() as session:
        _staff_directory(session)
        apply_for_recusal(session, OFFICER1, ctx["case"], user_id, "与当事人有利害关系", role=ROLES[role],
                          now=world.now)
        session.commit()


@when(parsers.parse('安排听证主持人"{chair}"'))
def schedule_with(world: PenaltyWorld, ctx: dict[str, Any], chair: str) -> None:
    world.errors.clear()
    day = world.today.isoformat()
    world.try_submit(ctx["case"], "schedule_hearing", {
        "chair_id": chair, "chair_name": NAMES[chair], "clerk_name": "书记员孙某",
        "hearing_date": "2025-09-30", "notice_sent_on": day, "location": "本委第一听证室"})


@when(parsers.parse('"{user_id}"办理法制审核'))
def reviews(world: PenaltyWorld, ctx: dict[str, Any], user_id: str) -> None:
    world.errors.clear()
    world.try_submit(ctx["case"], "legal_review", actor=ACTORS[user_id])


@then(parsers.parse('"{title}"由"{user_id}"办理'))
def task_held_by(world: PenaltyWorld, ctx: dict[str, Any], title: str, user_id: str) -> None:
    from tests.bdd.penalty.conftest import task_id

    assert world.task(ctx["case"], task_id(title)).assignee == user_id


@then(parsers.parse('"{title}"的转办记录写明"{reason}"'))
def reassignment_audited(world: PenaltyWorld, ctx: dict[str, Any], title: str, reason: str) -> None:
    from sqlalchemy import select

    from engine.models import AuditEvent
    from tests.bdd.penalty.conftest import task_id

    task = world.task(ctx["case"], task_id(title))
    with world.factory() as session:
        events = [e.data for e in session.scalars(select(AuditEvent).where(AuditEvent.task_id == task.id,
                                                                           AuditEvent.action == "task_assigned"))]
    assert [(e["to"], e["reason"]) for e in events] == [(task.assignee, reason)], events


@when(parsers.parse('"{user_id}"主持听证，当事人出席并签名'))
def holds_hearing(world: PenaltyWorld, ctx: dict[str, Any], user_id: str) -> None:
    world.errors.clear()
    notified = world.case(ctx["case"]).notified_penalty or {}
    world.try_submit(ctx["case"], "hold_hearing", {
        "attended": True, "held_on": world.today.isoformat(), "record": "当事人陈述了整改情况。",
        "chair_opinion": "维持拟处罚意见。", "penalty_kinds": notified.get("kinds", []),
        "fine": notified.get("fine", 0), "signed_by": "张某"}, actor=ACTORS[user_id])


@then(parsers.parse('听证笔录的主持人是"{name}"'))
def hearing_record_chair(world: PenaltyWorld, ctx: dict[str, Any], name: str) -> None:
    from processes.penalty import documents_of, load_blob

    with world.factory() as session:
        [doc] = [d for d in documents_of(session, ctx["case"]) if d.doc_type == "hearing_record"]
        html = load_blob(session, doc.sha256).decode()
    assert f"<th>主持人</th><td>{name}</td>" in html, html

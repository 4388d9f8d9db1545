"""听证: steps for hearing.feature."""

from __future__ import annotations

from typing import Any

from pytest_bdd import given, parsers, scenarios, then, when

from processes.penalty import documents_of, load_blob
from processes.penalty.forms_hearing import PRIVATE_HEARING_GROUNDS, TERMINATION_REASONS
from tests.bdd.penalty.conftest import report_with
from tests.penalty.driver import ACTORS, DEFAULTS, NAMES, PenaltyWorld

scenarios("hearing.feature")


@given("当事人是公民")
def party_is_a_person(world: PenaltyWorld) -> None:
    """Hearing thresholds differ by party (hearing_right.dmn: 10,000 yuan for a citizen)."""
    lead = DEFAULTS["register_lead"]
    world.defaults["register_lead"] = lambda w, n, t: {**lead(w, n, t), "entity_name": "张某", "party_type": "person",
                                                       "credit_code": "", "unit_category": ""}


@given("调查终结报告拟对当事人责令停产停业")
def report_suspension(world: PenaltyWorld) -> None:
    penalty = {"penalty_kinds": ["suspension"], "fine": 0}
    report_with(world, **penalty)
    opinion = DEFAULTS["record_opinion"]
    world.defaults["record_opinion"] = lambda w, n, t: {**opinion(w, n, t), **penalty}


@then(parsers.parse('事先告知书告知了听证权利，理由为"{reason}"'))
def notice_gives_hearing_right_for(world: PenaltyWorld, ctx: dict[str, Any], reason: str) -> None:
    assert world.case(ctx["case"]).hearing_right
    with world.factory() as session:
        [doc] = [d for d in documents_of(session, ctx["case"]) if d.doc_type == "prior_notice"]
        html = load_blob(session, doc.sha256).decode()
    assert "有权要求举行听证" in html and reason in html, html


@then("事先告知书告知了听证权利")
def notice_mentions_hearing(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    assert world.case(ctx["case"]).hearing_right
    with world.factory() as session:
        [doc] = [d for d in documents_of(session, ctx["case"]) if d.doc_type == "prior_notice"]
        html = load_blob(session, doc.sha256).decode()
    assert "有权要求举行听证" in html and "对法人或者其他组织拟处十万元以上罚款" in html


@when(parsers.parse('安排听证：主持人"{chair}"，"{sent}"通知，"{day}"举行'))
def schedule(world: PenaltyWorld, ctx: dict[str, Any], chair: str, sent: str, day: str) -> None:
    world.errors.clear()
    world.try_submit(ctx["case"], "schedule_hearing", {
        "chair_id": chair, "chair_name": NAMES[chair], "clerk_name": "书记员孙某", "hearing_date": day,
        "notice_sent_on": sent, "location": "本委第一听证室"})


@when("听证主持人记录当事人未出席")
def no_show(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    task = world.task(ctx["case"], "hold_hearing")
    assert task.assignee is not None
    world.submit(ctx["case"], "hold_hearing", {"attended": False, "held_on": world.today.isoformat()},
                 actor=ACTORS[task.assignee])


@then("案件记录为未举行听证")
def not_held(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    assert not world.case(ctx["case"]).hearing_held


def _hold(world: PenaltyWorld, ctx: dict[str, Any], extra: dict[str, Any]) -> None:
    """The chair submits the record of a hearing the party attended (the notified penalty kept)."""
    world.errors.clear()
    task = world.task(ctx["case"], "hold_hearing")
    assert task.assignee is not None
    notified = world.case(ctx["case"]).notified_penalty or {}
    world.try_submit(ctx["case"], "hold_hearing", {
        "attended": True, "held_on": world.today.isoformat(), "record": "当事人陈述了整改情况。",
        "chair_opinion": "维持拟处罚意见。", "penalty_kinds": notified.get("kinds", []),
        "fine": notified.get("fine", 0), **extra}, actor=ACTORS[task.assignee])


@when("听证主持人提交听证笔录，既无签名也未注明拒签")
def record_unsigned(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    _hold(world, ctx, {})


@when(parsers.parse('听证主持人提交听证笔录，当事人拒绝签名，由"{who}"于"{clock}"注明'))
def record_refused(world: PenaltyWorld, ctx: dict[str, Any], who: str, clock: str) -> None:
    _hold(world, ctx, {"refused_to_sign": True, "refusal_noted_by": who, "refusal_noted_at": clock})


@when(parsers.parse('听证主持人提交听证笔录，代理人"{agent}"没有授权委托书'))
def record_agent_without_authorisation(world: PenaltyWorld, ctx: dict[str, Any], agent: str) -> None:
    _hold(world, ctx, {"agent1_name": agent, "signed_by": agent})


@when(parsers.parse('听证主持人提交听证笔录，代理人"{agent}"持授权委托书"{ref}"，由"{signer}"签名'))
def record_with_agent(world: PenaltyWorld, ctx: dict[str, Any], agent: str, ref: str, signer: str) -> None:
    _hold(world, ctx, {"agent1_name": agent, "agent1_authorisation": ref, "signed_by": signer})


@then(parsers.parse('听证笔录载明"{text}"'))
def record_says(world: PenaltyWorld, ctx: dict[str, Any], text: str) -> None:
    with world.factory() as session:
        [doc] = [d for d in documents_of(session, ctx["case"]) if d.doc_type == "hearing_record"]
        html = load_blob(session, doc.sha256).decode()
    assert text in html, html


def _chair_submits(world: PenaltyWorld, ctx: dict[str, Any], fields: dict[str, Any]) -> None:
    world.errors.clear()
    task = world.task(ctx["case"], "hold_hearing")
    assert task.assignee is not None
    world.try_submit(ctx["case"], "hold_hearing", {"held_on": world.today.isoformat(), **fields},
                     actor=ACTORS[task.assignee])


@when(parsers.parse('听证主持人记录当事人因"{reason}"未出席，"{sent}"通知另定于"{day}"举行'))
def absent_with_reason(world: PenaltyWorld, ctx: dict[str, Any], reason: str, sent: str, day: str) -> None:
    _chair_submits(world, ctx, {"attended": False, "absence_reason": reason, "new_notice_sent_on": sent,
                                "new_hearing_date": day})


@when("听证主持人终止听证，未记录理由")
def terminated_without_reason(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    _chair_submits(world, ctx, {"attended": True, "terminated": True})


@when(parsers.parse('听证主持人以"{label}"为由终止听证'))
def terminated_with_reason(world: PenaltyWorld, ctx: dict[str, Any], label: str) -> None:
    [reason] = [key for key, text in TERMINATION_REASONS.items() if text == label]
    _chair_submits(world, ctx, {"attended": False, "terminated": True, "termination_reason": reason})


@then(parsers.parse('案件记录的理由为"{text}"'))
def case_reason(world: PenaltyWorld, ctx: dict[str, Any], text: str) -> None:
    assert world.case(ctx["case"]).status_reason == text


@when(parsers.parse('听证主持人提交听证笔录，听证日期为"{day}"'))
def record_held_on(world: PenaltyWorld, ctx: dict[str, Any], day: str) -> None:
    _hold(world, ctx, {"held_on": day, "refused_to_sign": True, "refusal_noted_by": "书记员孙某",
                       "refusal_noted_at": "11:40"})


def _schedule_private(world: PenaltyWorld, ctx: dict[str, Any], ground: str | None) -> None:
    world.errors.clear()
    world.try_submit(ctx["case"], "schedule_hearing", {
        "chair_id": "officer4", "chair_name": NAMES["officer4"], "clerk_name": "书记员孙某",
        "hearing_date": "2025-10-16", "notice_sent_on": "2025-09-30", "location": "本委第一听证室",
        "public": False, **({"private_ground": ground} if ground else {})})


@when("安排不公开听证，未说明理由")
def schedule_private_without_ground(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    _schedule_private(world, ctx, None)


@when(parsers.parse('安排不公开听证，理由为"{label}"'))
def schedule_private_with_ground(world: PenaltyWorld, ctx: dict[str, Any], label: str) -> None:
    [code] = [code for code, text in PRIVATE_HEARING_GROUNDS.items() if text == label]
    _schedule_private(world, ctx, code)

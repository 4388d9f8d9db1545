"""听证: steps for hearing.feature."""

from __future__ import annotations

from typing import Any

from pytest_bdd import parsers, scenarios, then, when

from processes.penalty import documents_of, load_blob
from tests.penalty.driver import ACTORS, NAMES, PenaltyWorld

scenarios("hearing.feature")


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

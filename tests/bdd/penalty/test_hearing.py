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

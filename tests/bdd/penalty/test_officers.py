"""两名执法人员: steps for officers.feature."""

from __future__ import annotations

from typing import Any

from pytest_bdd import parsers, scenarios, then, when

from processes.penalty import documents_of, load_blob
from tests.penalty.driver import PenaltyWorld, officer

scenarios("officers.feature")


@when(parsers.parse('立案报告只指定承办人"{user_id}"'))
def one_officer(world: PenaltyWorld, ctx: dict[str, Any], user_id: str) -> None:
    world.try_submit(ctx["case"], "prepare_filing", {"officers": [officer(user_id)]})


@when(parsers.parse('制作询问笔录，执法人员为"{user_ids}"'))
def interview(world: PenaltyWorld, ctx: dict[str, Any], user_ids: str) -> None:
    world.try_submit(ctx["case"], "investigate", {"kind": "interview", "officers": user_ids.split(",")})


@then(parsers.parse('询问笔录载明询问人"{names}"'))
def record_names(world: PenaltyWorld, ctx: dict[str, Any], names: str) -> None:
    with world.factory() as session:
        [doc] = [d for d in documents_of(session, ctx["case"]) if d.doc_type == "interview_record"]
        html = load_blob(session, doc.sha256).decode()
    assert f"<th>询问人</th><td>{names}</td>" in html

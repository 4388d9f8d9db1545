"""负责人集体讨论: steps for collective_discussion.feature (participants picked from the directory's
heads, each confirming the record on a task of their own)."""

from __future__ import annotations

from typing import Any

from pytest_bdd import parsers, scenarios, then, when

from tests.penalty.driver import ACTORS, NAMES, PenaltyWorld

scenarios("collective_discussion.feature")

IDS = {name: user_id for user_id, name in NAMES.items()}


def _people(names: str) -> list[dict[str, str]]:
    return [{"user_id": IDS[n], "name": n} for n in names.split("、")]


@when(parsers.parse('负责人记录集体讨论，参加人员为"{names}"'))
def record_discussion(world: PenaltyWorld, ctx: dict[str, Any], names: str) -> None:
    world.errors.clear()
    world.try_submit(ctx["case"], "collective_discussion", {"participants": _people(names)})


def _confirm(world: PenaltyWorld, ctx: dict[str, Any], name: str, fields: dict[str, Any], by: str | None = None
             ) -> None:
    world.errors.clear()
    world.try_submit(ctx["case"], "confirm_discussion", fields, assignee=IDS[name], actor=ACTORS[IDS[by or name]])


@when(parsers.re(r'"(?P<name>[^"]+)"确认集体讨论记录$'))
def confirms(world: PenaltyWorld, ctx: dict[str, Any], name: str) -> None:
    _confirm(world, ctx, name, {"confirmed": True})


@when(parsers.re(r'"(?P<name>[^"]+)"确认集体讨论记录，本人意见为"(?P<opinion>[^"]+)"$'))
def confirms_with_opinion(world: PenaltyWorld, ctx: dict[str, Any], name: str, opinion: str) -> None:
    _confirm(world, ctx, name, {"confirmed": True, "opinion": opinion})


@when(parsers.re(r'"(?P<by>[^"]+)"替"(?P<name>[^"]+)"确认集体讨论记录$'))
def confirms_for_another(world: PenaltyWorld, ctx: dict[str, Any], by: str, name: str) -> None:
    _confirm(world, ctx, name, {"confirmed": True}, by=by)


@when(parsers.re(r'"(?P<name>[^"]+)"不确认集体讨论记录，理由为"(?P<objection>[^"]*)"$'))
def objects(world: PenaltyWorld, ctx: dict[str, Any], name: str, objection: str) -> None:
    _confirm(world, ctx, name, {"confirmed": False, "objection": objection})


@then("系统拒绝")
def refused_any(world: PenaltyWorld) -> None:
    assert world.errors, "expected the system to refuse, but it accepted"


@then(parsers.parse('"{names}"各有一项待办任务"确认集体讨论记录"'))
def each_has_task(world: PenaltyWorld, ctx: dict[str, Any], names: str) -> None:
    _each_has_task(world, ctx, names.split("、"))


@then(parsers.parse('"{name}"有一项待办任务"确认集体讨论记录"'))
def one_has_task(world: PenaltyWorld, ctx: dict[str, Any], name: str) -> None:
    _each_has_task(world, ctx, [name], exact=False)


def _each_has_task(world: PenaltyWorld, ctx: dict[str, Any], names: list[str], exact: bool = True) -> None:
    tasks = world.ready(ctx["case"], "confirm_discussion")
    assignees = sorted(t.assignee or "" for t in tasks)
    wanted = sorted(IDS[n] for n in names)
    if exact:
        assert assignees == wanted, assignees
    else:
        assert set(wanted) <= set(assignees), assignees
    assert all(t.candidate_role in (None, "head") for t in tasks)


def _record_text(world: PenaltyWorld, ctx: dict[str, Any]) -> str | None:
    from processes.penalty import documents_of
    from processes.penalty.storage import load_blob

    with world.factory() as session:
        docs = [d for d in documents_of(session, ctx["case"]) if d.title == "集体讨论记录"]
        return load_blob(session, docs[-1].sha256).decode("utf-8") if docs else None


@then(parsers.parse('尚未生成"{title}"'))
def not_generated(world: PenaltyWorld, ctx: dict[str, Any], title: str) -> None:
    assert title == "集体讨论记录" and _record_text(world, ctx) is None


@then(parsers.parse('集体讨论记录载明"{text}"'))
def record_states(world: PenaltyWorld, ctx: dict[str, Any], text: str) -> None:
    content = _record_text(world, ctx)
    assert content is not None and text in content, content


@when(parsers.parse('负责人记录集体讨论，讨论日期为"{day}"'))
def record_discussion_on(world: PenaltyWorld, ctx: dict[str, Any], day: str) -> None:
    world.errors.clear()
    world.try_submit(ctx["case"], "collective_discussion",
                     {"participants": _people("刘局长、周副局长、吴副局长"), "discussed_on": day})


@when(parsers.parse('负责人记录集体讨论，讨论日期为"{day}"，逾期原因为"{reason}"'))
def record_discussion_overdue(world: PenaltyWorld, ctx: dict[str, Any], day: str, reason: str) -> None:
    world.errors.clear()
    world.try_submit(ctx["case"], "collective_discussion",
                     {"participants": _people("刘局长、周副局长、吴副局长"), "discussed_on": day,
                      "overdue_reason": reason})

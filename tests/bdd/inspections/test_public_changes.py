"""已公示检查结果的更正和撤回: steps for public_changes.feature (through public_changes and the
public functions of disclosure; the refusals are the services' own sentences)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pytest_bdd import given, parsers, scenarios, then, when

from engine import Actor
from processes.directory.services import DirectoryError
from processes.inspections import public_changes
from processes.inspections.disclosure import disclosed_results
from processes.inspections.models import Inspection
from tests.bdd.inspections import test_disclosure as disclosure_steps
from tests.inspections.driver import HEAD, NAMES, UNIT, InspectionWorld

scenarios("public_changes.feature")


@given("已抽取并由检查人员声明无利益冲突")
def drawn_and_declared(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    disclosure_steps.drawn_and_declared(world, ctx)


@given("现场检查合格，负责人审核同意")
def compliant_and_reviewed(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    disclosure_steps.compliant_and_reviewed(world, ctx)


@given("负责人核对公示内容后公示检查结果")
def disclosed(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    disclosure_steps.disclose(world, ctx)


def _change(world: InspectionWorld, ctx: dict[str, Any], actor: Actor, action: str, reason: str,
            day: str | None = None) -> None:
    with world.factory() as session:
        try:
            if action == "withdraw":
                public_changes.withdraw_result(session, actor, ctx["row"], reason=reason, now=world.now)
            else:
                assert day is not None
                public_changes.correct_result(session, actor, ctx["row"], checked_on=date.fromisoformat(day),
                                              reason=reason, now=world.now)
        except DirectoryError as exc:
            session.rollback()
            world.errors.append(exc)
        else:
            session.commit()


def _shown(world: InspectionWorld, ctx: dict[str, Any]) -> dict[str, Any]:
    with world.factory() as session:
        row = session.get(Inspection, ctx["row"])
        assert row is not None
        [shown] = disclosed_results(session, credit_code=row.credit_code)
        return shown


@when(parsers.parse('负责人以"{reason}"为由把检查日期更正为"{day}"'))
def correct(world: InspectionWorld, ctx: dict[str, Any], reason: str, day: str) -> None:
    _change(world, ctx, HEAD, "correct", reason, day)


@when(parsers.re(r'负责人以"(?P<reason>[^"]*)"为由撤回检查结果'))
def withdraw(world: InspectionWorld, ctx: dict[str, Any], reason: str) -> None:
    _change(world, ctx, HEAD, "withdraw", reason)


@when(parsers.parse('检查人员"{user}"以"{reason}"为由撤回检查结果'))
def inspector_withdraws(world: InspectionWorld, ctx: dict[str, Any], user: str, reason: str) -> None:
    _change(world, ctx, Actor.of(user, ["officer"], [UNIT]), "withdraw", reason)


@then(parsers.parse('公示的检查结果标明"已更正"，理由为"{reason}"，检查日期由"{before}"改为"{after}"'))
def corrected(world: InspectionWorld, ctx: dict[str, Any], reason: str, before: str, after: str) -> None:
    shown = _shown(world, ctx)
    [mark] = shown["changes"]
    assert mark["action"] == "已更正" and mark["reason"] == reason
    assert mark["changes"] == [{"field": "检查日期", "before": before, "after": after}]
    assert shown["checked_on"] == date.fromisoformat(after) and shown["result"] == "合格"


@then(parsers.parse('公示的检查结果不再显示结论，只标明"已撤回"，理由为"{reason}"'))
def withdrawn(world: InspectionWorld, ctx: dict[str, Any], reason: str) -> None:
    shown = _shown(world, ctx)
    assert shown["withdrawn"] and shown["result"] == "" and shown["handling"] == ""
    assert [(m["action"], m["reason"]) for m in shown["changes"]] == [("已撤回", reason)]


@then("公开记录中有这次更正，但没有办理人")
def logged_without_actor(world: InspectionWorld) -> None:
    with world.factory() as session:
        [entry] = public_changes.public_log(session)
    assert entry["action"] == "已更正" and entry["item"] == "检查结果"
    text = repr(entry)
    assert HEAD.user_id not in text and NAMES[HEAD.user_id] not in text


@then(parsers.parse("公开记录共有{count:d}条"))
def log_count(world: InspectionWorld, count: int) -> None:
    with world.factory() as session:
        assert len(public_changes.public_log(session)) == count

"""行政处罚决定的公开和撤回: steps for decisions.feature, through the functions behind the public
decisions page (``disclosure.disclosed_decisions``) and the public changes page
(``public_changes.public_log``). The decision is made through the penalty package's summary
procedure; the revocation is what the 复议/诉讼结果 form's "撤销" records (an ``appeal_revoked``
execution event and the case's execution status, ``processes/penalty/checks_execution``)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from pytest_bdd import parsers, scenarios, then, when
from sqlalchemy import select

from engine.models import HumanTask
from processes.inspections.disclosure import disclosed_decisions
from processes.inspections.public_changes import public_log
from tests.inspections.driver import PLANNER, UNIT, InspectionWorld

scenarios("decisions.feature")


@when(parsers.parse('执法人员对个人"{name}"当场作出警告的行政处罚决定'))
def person_decision(world: InspectionWorld, ctx: dict[str, Any], name: str) -> None:
    from processes.penalty.models import PenaltyCase
    from processes.penalty.service import start_case, submit_task

    with world.factory() as session:
        case = start_case(session, PLANNER, unit_id=UNIT, unit_name="上海市宝山区卫生健康委员会",
                          unit_short_name="宝", procedure="summary", now=world.now)
        session.commit()
        task = session.scalar(select(HumanTask).where(HumanTask.instance_id == case.instance_id,
                                                      HumanTask.status == "ready"))
        assert task is not None
        decided = (world.today - timedelta(days=1)).isoformat()
        submit_task(session, task.id, PLANNER, {
            "entity_name": name, "party_type": "person", "actual_address": "宝山区清姜路99号3单元",
            "category": "public_places",
            "officers": [{"user_id": "officer1", "name": "执法一", "certificate_no": "CERT-officer1"},
                         {"user_id": "officer2", "name": "执法二", "certificate_no": "CERT-officer2"}],
            "violation": "无健康合格证明从事直接为顾客服务工作", "violation_date": decided,
            "legal_basis": "《公共场所卫生管理条例》第十四条", "decided_on": decided, "statement_heard": True,
            "violation_place": "宝山区清姜路99号", "violation_time": "10:30", "party_signed": True,
            "penalty_kinds": ["warning"]}, now=world.now)
        session.commit()
        case_id = case.id
    world.drain()
    with world.factory() as session:
        row = session.get(PenaltyCase, case_id)
        assert row is not None and row.case_number, "the decision has no number"
        ctx["case"], ctx["number"] = case_id, row.case_number


@when(parsers.parse('复议机关于"{day}"撤销该决定，内部备注"{note}"'))
def revoked(world: InspectionWorld, ctx: dict[str, Any], day: str, note: str) -> None:
    from processes.penalty.models import ExecutionEvent, PenaltyCase

    with world.factory() as session:
        case = session.get(PenaltyCase, ctx["case"])
        assert case is not None
        session.add(ExecutionEvent(case_id=case.id, kind="appeal_revoked", occurred_on=date.fromisoformat(day),
                                   note=note, recorded_by="officer1"))
        case.execution_status = "revoked"
        session.commit()


def _decisions(world: InspectionWorld) -> list[dict[str, Any]]:
    with world.factory() as session:
        return disclosed_decisions(session)


def _log(world: InspectionWorld) -> list[dict[str, Any]]:
    with world.factory() as session:
        return public_log(session)


@then(parsers.parse('公开的行政处罚决定中有这份决定，当事人显示为"{party}"'))
def decision_shown(world: InspectionWorld, ctx: dict[str, Any], party: str) -> None:
    [shown] = [d for d in _decisions(world) if d["number"] == ctx["number"]]
    assert shown["party"] == party and shown["credit_code"] == "", shown


@then(parsers.parse('公开的行政处罚决定中没有"{a}"和"{b}"'))
def decision_hides(world: InspectionWorld, a: str, b: str) -> None:
    text = repr(_decisions(world))
    assert a not in text and b not in text, text


@then("公开的行政处罚决定中不再有这份决定")
def decision_withdrawn(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    assert [d for d in _decisions(world) if d["number"] == ctx["number"]] == []


@then(parsers.parse('公开记录中有这份决定的撤回，当事人"{party}"，日期"{day}"，理由"{reason}"'))
def withdrawal_logged(world: InspectionWorld, ctx: dict[str, Any], party: str, day: str, reason: str) -> None:
    [entry] = [e for e in _log(world) if e.get("number") == ctx["number"]]
    assert entry["withdrawn"] and entry["action"] == "已撤回", entry
    assert (entry["entity_name"], entry["on"], entry["reason"]) == (party, date.fromisoformat(day), reason), entry


@then(parsers.parse('公开记录中没有"{a}"和"{b}"'))
def log_hides(world: InspectionWorld, a: str, b: str) -> None:
    text = repr(_log(world))
    assert a not in text and b not in text, text

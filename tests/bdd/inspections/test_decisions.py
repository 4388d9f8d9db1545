"""行政处罚决定的公开和撤回: steps for decisions.feature, through the functions behind the public
decisions page (``disclosure.disclosed_decisions``) and the public changes page
(``public_changes.public_log``). The decision is made through the penalty package's summary
procedure (its jobs send ``penalty_decided``, which starts the head's step 公示行政处罚决定); the
head's form goes through the package's submit hook like the task page; the overdue 督办 is the
notifications scan's. The revocation is what the 复议/诉讼结果 form's "撤销" records (an
``appeal_revoked`` execution event and the case's execution status,
``processes/penalty/checks_execution``)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from pytest_bdd import parsers, scenarios, then, when
from sqlalchemy import select

from engine import clock
from engine.models import AuditEvent, HumanTask
from processes.directory.models import Notification
from processes.directory.notifications import scan
from processes.inspections import hooks
from processes.inspections.decision_disclosure import pending
from processes.inspections.decision_models import DecisionDisclosure
from processes.inspections.disclosure import disclosed_decisions
from processes.inspections.public_changes import public_log
from processes.registry import EntityEvent, entity_event
from tests.inspections.driver import HEAD, PLANNER, UNIT, InspectionWorld

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

    world.set_day(day, 10)
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


# -- the disclosure step 公示行政处罚决定 ----------------------------------------------------------------

def _no_mail(_message: Any) -> str:
    raise AssertionError("nobody asked for email in these scenarios")


def _tasks(world: InspectionWorld, ctx: dict[str, Any]) -> list[HumanTask]:
    with world.factory() as session:
        row = session.get(DecisionDisclosure, ctx["case"])
        if row is None:
            return []
        rows = list(session.scalars(select(HumanTask).where(HumanTask.instance_id == row.instance_id,
                                                            HumanTask.status == "ready")))
        for task in rows:
            session.expunge(task)
        return rows


def _row(world: InspectionWorld, ctx: dict[str, Any]) -> DecisionDisclosure:
    with world.factory() as session:
        row = session.get(DecisionDisclosure, ctx["case"])
        assert row is not None, "the decision has no disclosure step"
        session.expunge(row)
        return row


def _submit(world: InspectionWorld, ctx: dict[str, Any], fields: dict[str, Any]) -> None:
    [task] = _tasks(world, ctx)
    with world.factory() as session, clock.at(world.now):
        instance, errors = hooks.submit(session, HEAD, session.get(HumanTask, task.id), fields)
        if errors:
            session.rollback()
            world.errors.append(ValueError(repr(errors)))
            return
        assert instance is not None
        session.commit()
    world.drain()


def _notify(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    with world.factory() as session, clock.at(world.now):
        entity_event(session, EntityEvent("penalty_decided", "", f"penalty:{ctx['case']}", "作出行政处罚决定",
                                          world.today))
        session.commit()


@when("负责人核对公开内容后公示这份决定")
def disclose(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    _submit(world, ctx, {"choice": "disclose", "content_checked": True})
    assert _row(world, ctx).status == "disclosed", world.errors


@when("负责人未核对公开内容就提交公示")
def disclose_unchecked(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    _submit(world, ctx, {"choice": "disclose", "content_checked": False})


@when("负责人决定不予公开，但没有选择理由")
def withhold_without_reason(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    _submit(world, ctx, {"choice": "withhold", "note": "当场警告"})


@when(parsers.parse('负责人以"{reason}"为由决定不予公开，说明"{note}"'))
def withhold(world: InspectionWorld, ctx: dict[str, Any], reason: str, note: str) -> None:
    _submit(world, ctx, {"choice": "withhold", "withhold_reason": reason, "note": note})


@when("这份决定再次通知各流程")
@when("撤销的决定通知各流程")
def notify_again(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    _notify(world, ctx)


@when(parsers.parse('时间到了"{day}"'))
def time_is(world: InspectionWorld, day: str) -> None:
    world.set_day(day, 10)
    with world.factory() as session:
        scan(session, world.now, send=_no_mail)
        session.commit()


@then("公开的行政处罚决定中还没有这份决定")
def not_yet_public(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    assert [d for d in _decisions(world) if d["number"] == ctx["number"]] == []


@then(parsers.parse('负责人有"{title}"待办，期限为"{day}"，列明将公开的当事人"{party}"'))
def head_task(world: InspectionWorld, ctx: dict[str, Any], title: str, day: str, party: str) -> None:
    [task] = _tasks(world, ctx)
    assert task.title == title and task.candidate_role == "head" and task.unit_id == UNIT, task
    assert task.due_at is not None and task.due_at.astimezone(world.now.tzinfo).date() == date.fromisoformat(day)
    assert _row(world, ctx).due_on == date.fromisoformat(day)
    assert f"当事人：{party}" in (task.instructions or "") and ctx["number"] in (task.instructions or "")
    assert "清姜路" not in (task.instructions or "") and "张伟" not in (task.instructions or "")


@then(parsers.parse('负责人只有一项"{title}"待办'))
def one_task(world: InspectionWorld, ctx: dict[str, Any], title: str) -> None:
    with world.factory() as session:
        tasks = list(session.scalars(select(HumanTask).where(HumanTask.title == title)))
    assert len(tasks) == 1, tasks


@then(parsers.parse('负责人没有"{title}"待办'))
def no_task(world: InspectionWorld, ctx: dict[str, Any], title: str) -> None:
    assert [t for t in _tasks(world, ctx) if t.title == title] == []
    assert _row(world, ctx).status == "not_disclosed"


def _audited(world: InspectionWorld, action: str) -> list[AuditEvent]:
    with world.factory() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


@then(parsers.parse('这份决定由负责人于"{day}"公示，审计记录中有公示'))
def disclosed_by_head(world: InspectionWorld, ctx: dict[str, Any], day: str) -> None:
    row = _row(world, ctx)
    assert (row.status, row.disclosed_on, row.disclosed_by) == ("disclosed", date.fromisoformat(day), HEAD.user_id)
    [event] = _audited(world, "penalty_decision_disclosed")
    assert event.actor == HEAD.user_id and event.data["number"] == ctx["number"], event.data


@then(parsers.parse('这份决定记为不予公开，理由"{reason}"，审计记录中有不予公开'))
def withheld(world: InspectionWorld, ctx: dict[str, Any], reason: str) -> None:
    row = _row(world, ctx)
    assert (row.status, row.reason, row.disclosed_on) == ("not_disclosed", reason, None), row
    [event] = _audited(world, "penalty_decision_not_disclosed")
    assert event.data["reason"] == reason, event.data


@then(parsers.parse('这份决定记有撤回日期"{day}"'))
def withdrawn_on(world: InspectionWorld, ctx: dict[str, Any], day: str) -> None:
    assert _row(world, ctx).withdrawn_on == date.fromisoformat(day)
    assert len(_audited(world, "penalty_decision_withdrawn")) == 1


def _supervision(world: InspectionWorld, ctx: dict[str, Any]) -> list[Notification]:
    with world.factory() as session:
        row = session.get(DecisionDisclosure, ctx["case"])
        assert row is not None
        task_ids = select(HumanTask.id).where(HumanTask.instance_id == row.instance_id)
        return list(session.scalars(select(Notification).where(
            Notification.user_id == HEAD.user_id, Notification.kind == "overdue",
            Notification.task_id.in_(task_ids))))


@then("负责人没有公示行政处罚决定的逾期督办")
def no_supervision(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    assert _supervision(world, ctx) == []


@then("负责人收到公示行政处罚决定的逾期督办")
def supervision(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    notices = _supervision(world, ctx)
    assert len(notices) == 1 and notices[0].title == "公示行政处罚决定", notices


def _pending(world: InspectionWorld) -> list[dict[str, Any]]:
    with world.factory() as session:
        return pending(session, list(HEAD.unit_ids), today=world.today)


@then(parsers.parse("负责人的待公示处罚决定中有这份决定，{state}"))
def pending_listed(world: InspectionWorld, ctx: dict[str, Any], state: str) -> None:
    [entry] = [p for p in _pending(world) if p["number"] == ctx["number"]]
    assert entry["overdue"] is (state == "已逾期"), entry


@then("负责人的待公示处罚决定中没有这份决定")
def pending_gone(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    assert [p for p in _pending(world) if p["number"] == ctx["number"]] == []

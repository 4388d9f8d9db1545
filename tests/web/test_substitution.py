"""Substitution (代理/顶岗) and delegation with return: an absent officer's new tasks go to the
substitute, marked "代 X 办理"; an ineligible substitute does not get them; a head delegates a
task and gets it back to complete; bad input writes nothing."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import SYSTEM, PermissionDenied, assign, audit_history, claim, complete_task, deploy, start
from engine.db import utcnow
from engine.models import AuditEvent, HumanTask
from processes.directory.models import Substitution, User
from processes.directory.substitution import SubstitutionError, record_absence
from tests.web.conftest import COUNTY_A, actor, ready_task, start_lead

CHINA = ZoneInfo("Asia/Shanghai")

ROUTED = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs_routed" targetNamespace="http://t">
  <bpmn:process id="routed" name="现场核查" isExecutable="true">
    <bpmn:laneSet id="lanes"><bpmn:lane id="lane_officer" name="officer">
      <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>check</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>end</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="check" name="现场核查">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="assignee" value="handler"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="check"/>
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


def today() -> date:
    return utcnow().astimezone(CHINA).date()


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=CHINA)


@pytest.fixture
def routed(session: Session) -> Any:
    deploy(session, {"routed.bpmn": ROUTED.encode()}, SYSTEM)
    session.commit()

    def begin(handler: str, key: str, now: datetime | None = None) -> HumanTask:
        instance = start(session, "routed", actor(session, "head.a"), {"handler": handler}, key, unit_id=COUNTY_A,
                         now=now)
        session.commit()
        return ready_task(session, instance.id)
    return begin


def absent(session: Session, who: str, substitute: str, starts: date, ends: date) -> Substitution:
    user = session.get(User, who)
    assert user is not None
    row = record_absence(session, actor(session, who), user, substitute, starts, ends, "年休假", utcnow())
    session.commit()
    return row


def actions(session: Session, instance_id: str) -> list[tuple[str, dict[str, Any]]]:
    return [(e.action, e.data) for e in audit_history(session, instance_id) if e.task_id]


def test_during_the_period_a_new_task_goes_to_the_substitute_visibly(as_user: Any, session: Session,
                                                                      routed: Any) -> None:
    absent(session, "officer.a", "officer.a2", today(), today() + timedelta(days=3))
    task = routed("officer.a", "K-1")
    assert (task.assignee, task.owner, task.delegation) == ("officer.a2", "officer.a", None)
    assert ("task_substituted", {"from": "officer.a", "to": "officer.a2", "on_behalf_of": "officer.a",
                                 "substitution_id": 1}) in actions(session, task.instance_id)
    substitute = as_user("officer.a2")
    inbox = substitute.get("/inbox").get_data(as_text=True)
    assert "K-1" in inbox and "代 张伟办理" in inbox
    page = substitute.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "代 张伟办理" in page.split('class="status-line"')[1].split("</p>")[0]
    history = page.split('id="task-history"')[1]
    assert "交由代理人办理" in history and "代 张伟办理" in history
    assert "K-1" not in as_user("officer.a").get("/inbox").get_data(as_text=True)
    # the substitute completes it; the absent officer's case moves on
    complete_task(session, task.id, actor(session, "officer.a2"), {})
    session.commit()


def test_before_and_after_the_period_and_after_ending_it_early_nothing_is_routed(session: Session,
                                                                               routed: Any) -> None:
    row = absent(session, "officer.a", "officer.a2", today() + timedelta(days=2), today() + timedelta(days=4))
    assert routed("officer.a", "K-BEFORE").assignee == "officer.a"
    assert routed("officer.a", "K-DAY3", now=noon(today() + timedelta(days=3))).assignee == "officer.a2"
    assert routed("officer.a", "K-AFTER", now=noon(today() + timedelta(days=5))).assignee == "officer.a"
    # ended early: from then on the officer gets their tasks again
    from processes.directory.substitution import end_absence

    end_absence(session, actor(session, "officer.a"), row, utcnow())
    session.commit()
    assert routed("officer.a", "K-ENDED", now=noon(today() + timedelta(days=3))).assignee == "officer.a"
    assert session.scalar(select(AuditEvent.action).where(AuditEvent.action == "substitution_ended")) is not None


def test_an_ineligible_substitute_does_not_receive_it_and_the_head_sees_it(as_user: Any, session: Session,
                                                                         routed: Any) -> None:
    # a legal reviewer of the same unit cannot hold an officer's task
    absent(session, "officer.a", "reviewer.a", today(), today() + timedelta(days=3))
    task = routed("officer.a", "K-REF")
    assert (task.assignee, task.owner) == ("officer.a", None)
    refused = [d for a, d in actions(session, task.instance_id) if a == "task_substitute_refused"]
    assert refused and "不具有办理本任务所需的角色" in refused[0]["why"]
    oversight = as_user("head.a").get("/oversight").get_data(as_text=True)
    row = oversight.split(f'data-task-id="{task.id}"')[1].split("</tr>")[0]
    assert 'data-mark="away"' in row
    history = as_user("head.a").get(f"/tasks/{task.id}").get_data(as_text=True).split('id="task-history"')[1]
    assert "代理人不符合条件" in history


def test_a_reassignment_to_the_absent_officer_goes_to_the_substitute(session: Session) -> None:
    absent(session, "officer.a", "officer.a2", today(), today())
    task = ready_task(session, start_lead(session, login="head.a", key="L-RA").id)
    assign(session, task.id, actor(session, "head.a"), "officer.a", "分案")
    session.commit()
    session.refresh(task)
    assert (task.assignee, task.owner) == ("officer.a2", "officer.a")
    event = [d for a, d in actions(session, task.instance_id) if a == "task_assigned"][-1]
    assert event["to"] == "officer.a2" and event["on_behalf_of"] == "officer.a"
    # a later ordinary reassignment ends the "on behalf of"
    assign(session, task.id, actor(session, "head.a"), "head.a", "收回")
    session.commit()
    session.refresh(task)
    assert (task.assignee, task.owner) == ("head.a", None)


def test_tasks_held_at_the_start_are_handed_over_in_one_action(as_user: Any, session: Session) -> None:
    held = [ready_task(session, start_lead(session, key=f"L-H{n}").id) for n in range(2)]
    for task in held:
        claim(session, task.id, actor(session, "officer.a"))
    session.commit()
    row = absent(session, "officer.a", "officer.a2", today(), today() + timedelta(days=1))
    officer = as_user("officer.a")
    account = officer.get("/account").get_data(as_text=True)
    assert "L-H0" in account and 'id="hand-over"' in account
    html = officer.get(officer.post(f"/account/absences/{row.id}/hand-over", {}).location).get_data(as_text=True)
    assert "已将 2 项任务移交代理人" in html
    session.expire_all()
    for task in held:
        current = session.get(HumanTask, task.id)
        assert current is not None and (current.assignee, current.owner) == ("officer.a2", "officer.a")


@pytest.mark.parametrize(("form", "sentence"), [
    ({"starts_on": "+3", "ends_on": "+1", "substitute_id": "officer.a2"}, "结束日期不能早于开始日期"),
    ({"starts_on": "+1", "ends_on": "+2", "substitute_id": "officer.a"}, "不能指定本人为自己的代理人"),
    ({"starts_on": "+1", "ends_on": "+2", "substitute_id": "officer.b"}, "代理人须与张伟同一单位"),
    ({"starts_on": "+4", "ends_on": "+6", "substitute_id": "officer.a2"}, "与已登记的休假"),
    ({"starts_on": "+1", "ends_on": "", "substitute_id": "officer.a2"}, "请填写休假结束日期"),
    ({"starts_on": "2026-02-30", "ends_on": "+2", "substitute_id": "officer.a2"}, "日期格式应为"),
])
def test_bad_input_gives_a_sentence_and_writes_nothing(as_user: Any, session: Session, form: dict[str, str],
                                                       sentence: str) -> None:
    absent(session, "officer.a", "officer.a2", today() + timedelta(days=5), today() + timedelta(days=8))
    before = session.scalar(select(AuditEvent.seq).order_by(AuditEvent.id.desc()).limit(1))
    values = {k: (today() + timedelta(days=int(v))).isoformat() if v.startswith("+") else v for k, v in form.items()}
    officer = as_user("officer.a")
    response = officer.post("/account/absences", values)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert sentence in html
    # what was typed stays, to correct rather than retype
    offered = f'<option value="{values["substitute_id"]}"' in html  # oneself and other units are not offered
    assert not offered or f'<option value="{values["substitute_id"]}" selected>' in html
    assert f'name="starts_on" value="{values["starts_on"]}"' in html
    session.expire_all()
    assert len(session.scalars(select(Substitution)).all()) == 1
    assert session.scalar(select(AuditEvent.seq).order_by(AuditEvent.id.desc()).limit(1)) == before


def test_only_oneself_or_a_head_of_the_unit_records_an_absence(as_user: Any, session: Session) -> None:
    start_, end_ = (today() + timedelta(days=1)).isoformat(), (today() + timedelta(days=2)).isoformat()
    html = as_user("officer.a2").post("/account/absences", {"user_id": "officer.a", "starts_on": start_,
                                                            "ends_on": end_, "substitute_id": "officer.a2"})
    assert html.status_code == 422 and "只能为本人" in html.get_data(as_text=True)
    assert not session.scalars(select(Substitution)).all()
    head = as_user("head.a")
    head.post("/account/absences", {"user_id": "officer.a", "starts_on": start_, "ends_on": end_,
                                    "substitute_id": "officer.a2"})
    rows = session.scalars(select(Substitution)).all()
    assert [(r.user_id, r.substitute_id, r.created_by) for r in rows] == [("officer.a", "officer.a2", "head.a")]
    head_user = session.get(User, "head.a")
    assert head_user is not None
    with pytest.raises(SubstitutionError, match="代理人张伟在该期间也已登记休假"):  # away at the same time
        record_absence(session, actor(session, "head.a"), head_user, "officer.a", today() + timedelta(days=2),
                       today() + timedelta(days=3), "", utcnow())


def test_delegation_round_trip(as_user: Any, session: Session) -> None:
    lead = start_lead(session, key="L-DEL")
    complete_task(session, ready_task(session, lead.id).id, actor(session, "officer.a"),
                  {"source": "complaint", "summary": "超范围执业", "facts": "现场发现", "kinds": ["unlicensed"],
                   "amount": 20000})
    session.commit()
    approval = ready_task(session, lead.id)
    claim(session, approval.id, actor(session, "head.a"))
    session.commit()
    head = as_user("head.a")
    assert 'id="delegate"' in head.get(f"/tasks/{approval.id}").get_data(as_text=True)
    head.post(f"/tasks/{approval.id}/delegate", {"delegate": "officer.a2", "note": "请先拟写审批意见"})
    session.expire_all()
    task = session.get(HumanTask, approval.id)
    assert task is not None and (task.assignee, task.owner, task.delegation) == ("officer.a2", "head.a", "pending")
    delegated = head.get("/inbox?tab=delegated").get_data(as_text=True)
    assert "L-DEL" in delegated and "已委托 李娜" in delegated and '已委托 <span class="count">1</span>' in delegated
    # the delegate cannot complete it, by the engine or the page
    with pytest.raises(PermissionDenied):
        complete_task(session, task.id, actor(session, "officer.a2"), {"approved": True, "opinion": "x",
                                                                       "officers": ["officer.a", "officer.a2"]})
    session.rollback()
    delegate = as_user("officer.a2")
    page = delegate.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert 'id="delegated-work"' in page and 'id="submit"' not in page
    delegate.post(f"/tasks/{task.id}/delegation", {"action": "save", "opinion": "事实清楚，建议立案"})
    delegate.post(f"/tasks/{task.id}/delegation", {"action": "resolve", "opinion": "事实清楚，建议立案，草稿完毕",
                                                    "note": "请审阅"})
    session.expire_all()
    task = session.get(HumanTask, approval.id)
    assert task is not None and (task.assignee, task.owner, task.delegation) == ("head.a", "head.a", "resolved")
    back = head.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "事实清楚，建议立案，草稿完毕" in back and 'id="submit"' in back  # what the delegate entered
    history = back.split('id="task-history"')[1]
    assert "委托办理" in history and "受托人办完交回" in history and "请先拟写审批意见" in history
    assert "委托已办回" in head.get("/inbox").get_data(as_text=True)
    complete_task(session, task.id, actor(session, "head.a"), {"approved": True, "opinion": "同意",
                                                               "officers": ["officer.a", "officer.a2"]})
    session.commit()
    done = [a for a, _d in actions(session, lead.id)]
    assert done[-3:] == ["task_delegated", "task_resolved", "task_completed"]

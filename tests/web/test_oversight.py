"""Head oversight (督办): a head sees every open task of their units and reassigns a selection in
bulk; each task is checked on its own, a refused one stays as it was with a sentence saying why,
the others move, each audited in its case's chain, and the new holder is told."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import SYSTEM, audit_history, claim, deploy, start
from engine.db import utcnow
from engine.models import HumanTask
from processes.directory.models import Notification
from processes.directory.services import create_user
from tests.web.conftest import CITY, COUNTY_A, ENTITY_B, PASSWORD, actor, ready_task, start_lead

BOUND = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs_bound" targetNamespace="http://t">
  <bpmn:process id="bound_sign" name="成员签名" isExecutable="true">
    <bpmn:laneSet id="lanes"><bpmn:lane id="lane_officer" name="officer">
      <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>sign</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>end</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="sign" name="成员签名">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="assignee" value="member"/>
        <spiffworkflow:property name="reassignable" value="false"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:multiInstanceLoopCharacteristics>
        <bpmn:loopDataInputRef>members</bpmn:loopDataInputRef>
        <bpmn:inputDataItem id="member"/>
      </bpmn:multiInstanceLoopCharacteristics>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="sign"/>
    <bpmn:sequenceFlow id="f2" sourceRef="sign" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


def make_city_head(session: Session) -> None:
    create_user(session, "head.c", "孙强", CITY, ["head", "officer"], PASSWORD, "C-C-1")
    session.commit()


def holder(session: Session, task_id: str) -> str | None:
    task = session.get(HumanTask, task_id)
    assert task is not None
    return task.assignee


def page_rows(html: str) -> int:
    return html.count('name="task_id"')


def test_a_head_sees_every_open_task_of_their_units_and_filters_them(as_user: Any, session: Session) -> None:
    held = start_lead(session, key="L-HELD")
    claim(session, ready_task(session, held.id).id, actor(session, "officer.a"))
    late = start_lead(session, key="L-LATE")
    task = ready_task(session, late.id)
    task.due_at = task.due_sort = utcnow() - timedelta(days=10)
    session.commit()
    other_unit = start_lead(session, "officer.b", ENTITY_B, key="L-B")

    head = as_user("head.a")
    html = head.get("/oversight").get_data(as_text=True)
    assert "L-HELD" in html and "L-LATE" in html and "L-B" not in html  # county B is not head.a's
    assert "张伟" in html and "未分配" in html and "已逾期" in html
    assert 'id="nav-oversight"' in html
    mine = head.get("/oversight?officer=officer.a").get_data(as_text=True)
    assert "L-HELD" in mine and "L-LATE" not in mine
    overdue = head.get("/oversight?overdue=1").get_data(as_text=True)
    assert "L-LATE" in overdue and "L-HELD" not in overdue
    assert page_rows(head.get("/oversight?process=no_such_process").get_data(as_text=True)) == 0
    assert page_rows(head.get("/oversight?officer=-").get_data(as_text=True)) == 1

    make_city_head(session)
    city = as_user("head.c").get("/oversight").get_data(as_text=True)
    assert all(key in city for key in ("L-HELD", "L-LATE", "L-B"))  # a city head sees the counties
    assert other_unit.id  # (used above)

    officer = as_user("officer.a")
    assert officer.get("/oversight").status_code == 403
    assert 'id="nav-oversight"' not in officer.get("/inbox").get_data(as_text=True)
    assert officer.post("/oversight/reassign", {"task_id": task.id, "assignee": "officer.a",
                                                "reason": "x"}).status_code == 403


def test_bulk_reassign_moves_the_eligible_tasks_and_explains_each_refusal(as_user: Any, session: Session) -> None:
    make_city_head(session)
    a1, a2 = start_lead(session, key="L-A1"), start_lead(session, key="L-A2")
    b1 = start_lead(session, "officer.b", ENTITY_B, key="L-B1")
    t_a1, t_a2, t_b1 = (ready_task(session, i.id) for i in (a1, a2, b1))
    claim(session, t_a1.id, actor(session, "officer.a"))
    session.commit()

    head = as_user("head.c")
    response = head.post("/oversight/reassign", {"task_id": [t_a1.id, t_a2.id, t_b1.id], "assignee": "officer.a2",
                                                 "reason": "张伟休假，由李娜接办"})
    assert response.status_code == 302
    html = head.get(response.location).get_data(as_text=True)
    assert "已改派 2 项任务" in html
    assert "未改派" in html and "L-B1" in html and "李娜 不属于该任务所在单位" in html
    session.expire_all()
    assert holder(session, t_a1.id) == "officer.a2"
    assert holder(session, t_a2.id) == "officer.a2"
    assert holder(session, t_b1.id) is None  # refused: unchanged
    assert not [e for e in audit_history(session, b1.id) if e.action == "task_assigned"]
    for instance, previous in ((a1, "officer.a"), (a2, None)):
        assigned = [e for e in audit_history(session, instance.id) if e.action == "task_assigned"]
        assert [(e.actor, e.data) for e in assigned] == [
            ("head.c", {"from": previous, "to": "officer.a2", "reason": "张伟休假，由李娜接办"})]
    notices = session.scalars(select(Notification).where(Notification.user_id == "officer.a2")).all()
    assert sorted(n.task_id for n in notices if n.kind == "assigned") == sorted([t_a1.id, t_a2.id])
    assert 'bell-count">2<' in as_user("officer.a2").get("/inbox").get_data(as_text=True)

    # lacking the task's role: a legal reviewer of the right unit is refused, nothing changes
    refused = head.post("/oversight/reassign", {"task_id": [t_a2.id], "assignee": "reviewer.a", "reason": "试试"})
    assert "不具备办理该任务所需的角色" in head.get(refused.location).get_data(as_text=True)
    session.expire_all()
    assert holder(session, t_a2.id) == "officer.a2"


def test_bulk_reassign_refuses_bad_input_and_tasks_outside_scope(as_user: Any, session: Session) -> None:
    instance = start_lead(session, key="L-X")
    task = ready_task(session, instance.id)
    head_b = as_user("head.b")
    for data, sentence in (({"assignee": "officer.b", "reason": "x"}, "请至少选择一项任务"),
                           ({"task_id": task.id, "reason": "x"}, "请选择接办人员"),
                           ({"task_id": task.id, "assignee": "officer.b", "reason": " "}, "请填写改派理由"),
                           ({"task_id": task.id, "assignee": "officer.b", "reason": "x"},
                            "所选任务均不在您的权限范围内")):
        response = head_b.post("/oversight/reassign", data)
        assert sentence in head_b.get(response.location).get_data(as_text=True)
    session.expire_all()
    assert holder(session, task.id) is None
    assert not [e for e in audit_history(session, instance.id) if e.action == "task_assigned"]
    # another unit's officer, chosen by a head of county A, is not in their units
    head_a = as_user("head.a")
    response = head_a.post("/oversight/reassign", {"task_id": task.id, "assignee": "officer.b", "reason": "x"})
    assert "刘洋 不在您所辖单位" in head_a.get(response.location).get_data(as_text=True)


def test_a_member_slot_bound_to_its_member_is_not_reassigned(as_user: Any, session: Session) -> None:
    deploy(session, {"bound.bpmn": BOUND.encode()}, SYSTEM)
    session.commit()
    instance = start(session, "bound_sign", actor(session, "head.a"), {"members": ["officer.a", "officer.a2"]},
                     "S-1", unit_id=COUNTY_A)
    lead = start_lead(session, key="L-OK")
    session.commit()
    slots = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)).all()
    mine = next(t for t in slots if t.assignee == "officer.a")
    ordinary = ready_task(session, lead.id)
    head = as_user("head.a")
    response = head.post("/oversight/reassign", {"task_id": [mine.id, ordinary.id], "assignee": "head.a",
                                                 "reason": "集中处理"})
    html = head.get(response.location).get_data(as_text=True)
    assert "已改派 1 项任务" in html and "须由办理人本人完成" in html
    session.expire_all()
    assert holder(session, mine.id) == "officer.a"
    assert holder(session, ordinary.id) == "head.a"
    assert not [e for e in audit_history(session, instance.id) if e.action == "task_assigned"]

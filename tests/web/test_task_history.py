"""The task page lists the task's own events (created, claimed, released, reassigned, due date
changed, completed) with who and when; another task of the same case does not show them."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.orm import Session

from engine import claim, start
from tests.web.conftest import COUNTY_A, ENTITY_A, actor, ready_task, start_lead
from tests.web.test_tasks import VALID


def history(html: str) -> list[str]:
    section = html.split('id="task-history"')[1].split("</section>", maxsplit=1)[0]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", item)).strip()
            for item in re.findall(r"<li data-action=.*?</li>", section, re.S)]


def test_the_task_page_lists_its_own_events_with_who_and_when(as_user: Any, session: Session) -> None:
    instance = start_lead(session, key="L-H")
    other = start(session, "case_lead", actor(session, "officer.a"), {}, "L-OTHER", unit_id=COUNTY_A,
                  entity_id=ENTITY_A, entity_name="康宁诊所")
    session.commit()
    task = ready_task(session, instance.id)
    claim(session, ready_task(session, other.id).id, actor(session, "officer.a2"))  # another task's event
    session.commit()
    officer, head = as_user("officer.a"), as_user("head.a")
    officer.post(f"/tasks/{task.id}/claim")
    officer.post(f"/tasks/{task.id}/unclaim")
    officer.post(f"/tasks/{task.id}/claim")
    head.post(f"/tasks/{task.id}/assign", {"assignee": "officer.a2", "reason": "张伟出差"})
    head.post(f"/tasks/{task.id}/due", {"due": "2031-06-30", "reason": "批准延期"})
    lines = history(as_user("officer.a2").get(f"/tasks/{task.id}").get_data(as_text=True))
    assert [line.split(" ")[2] for line in lines] == ["任务生成", "领取任务", "释放任务", "领取任务", "改派任务",
                                                     "修改期限"]
    assert "张伟" in lines[1] and "赵磊" in lines[4] and "由 张伟 改为 李娜" in lines[4] and "张伟出差" in lines[4]
    assert "2031-06-30" in lines[5] and "批准延期" in lines[5]
    assert all(re.match(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", line) for line in lines)  # when, China time
    holder = as_user("officer.a2")
    assert holder.post(f"/tasks/{task.id}", VALID).status_code == 302
    done = history(holder.get(f"/tasks/{task.id}").get_data(as_text=True))
    assert done[-1].split(" ")[2:5] == ["完成任务", "·", "李娜"] and len(done) == 7
    other_lines = history(officer.get(f"/tasks/{ready_task(session, other.id).id}").get_data(as_text=True))
    assert len(other_lines) == 2 and "李娜" in other_lines[1]  # created, and its own claim only


def test_a_due_date_before_today_is_refused_with_a_sentence_and_nothing_is_written(
        as_user: Any, session: Session) -> None:
    from datetime import timedelta

    from engine.clock import china_today
    from engine.models import AuditEvent, HumanTask

    instance = start_lead(session, key="L-PAST")
    task = ready_task(session, instance.id)
    before = task.due_at
    head = as_user("head.a")
    head.get(f"/tasks/{task.id}")
    yesterday = (china_today() - timedelta(days=1)).isoformat()
    page = head.post(f"/tasks/{task.id}/due", {"due": yesterday, "reason": "补录"}, follow_redirects=True)
    assert f"期限不能早于今天（{china_today().isoformat()}）。" in page.get_data(as_text=True)
    session.expire_all()
    assert session.get(HumanTask, task.id).due_at == before  # type: ignore[union-attr]
    assert session.query(AuditEvent).filter_by(task_id=task.id, action="task_due_changed").count() == 0
    today = head.post(f"/tasks/{task.id}/due", {"due": china_today().isoformat(), "reason": "今日办结"})
    assert today.status_code == 302
    session.expire_all()
    assert session.query(AuditEvent).filter_by(task_id=task.id, action="task_due_changed").count() == 1

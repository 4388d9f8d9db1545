"""Follow-up dates: the holder puts a task off until a day; it leaves the default inbox tab for
已推迟 and is back on that day (China time); after the due date it warns; others cannot set it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from engine import audit_history, claim, inbox, inbox_counts
from engine.db import utcnow
from tests.web.conftest import actor, ready_task, start_lead
from web.casework import InboxQuery, deferred_condition
from web.models import TaskFollowUp

CHINA = ZoneInfo("Asia/Shanghai")


def rows(html: str) -> int:
    return html.count('name="task_id"')


def test_the_holder_puts_a_task_off_and_it_is_listed_under_deferred(as_user: Any, session: Session) -> None:
    instance, kept = start_lead(session, key="L-LATER"), start_lead(session, key="L-NOW")
    task, other = ready_task(session, instance.id), ready_task(session, kept.id)
    for t in (task, other):
        claim(session, t.id, actor(session, "officer.a"))
    session.commit()
    officer = as_user("officer.a")
    page = officer.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert 'id="follow-up"' in page
    tomorrow = (utcnow().astimezone(CHINA).date() + timedelta(days=1)).isoformat()
    response = officer.post(f"/tasks/{task.id}/follow-up", {"follow_up_on": tomorrow})
    html = officer.get(response.location).get_data(as_text=True)
    assert f"任务已推迟至 {tomorrow}" in html and "晚于该任务的办理期限" not in html  # due in 5 working days
    assert "设置跟进日期" in html.split('id="task-history"')[1]  # in the task's history
    inbox_page = officer.get("/inbox").get_data(as_text=True)
    assert "L-NOW" in inbox_page and "L-LATER" not in inbox_page
    assert 'data-tab="assigned"' in inbox_page and '已推迟 <span class="count">1</span>' in inbox_page
    assert '我的待办 <span class="count">1</span>' in inbox_page  # the put-off task is not counted here
    deferred = officer.get("/inbox?tab=deferred").get_data(as_text=True)
    assert "L-LATER" in deferred and "L-NOW" not in deferred
    events = [e for e in audit_history(session, instance.id) if e.action == "task_follow_up_set"]
    assert [(e.actor, e.data) for e in events] == [("officer.a", {"on": tomorrow})]

    # after the due date: kept, with a warning
    later = (utcnow().astimezone(CHINA).date() + timedelta(days=60)).isoformat()
    html = officer.get(officer.post(f"/tasks/{task.id}/follow-up", {"follow_up_on": later}).location) \
        .get_data(as_text=True)
    assert "注意：跟进日期晚于该任务的办理期限" in html and f"已推迟至 {later}" in html
    # removed: back in the default tab
    officer.post(f"/tasks/{task.id}/follow-up", {"follow_up_on": ""})
    assert "L-LATER" in officer.get("/inbox").get_data(as_text=True)


def test_bad_dates_and_other_people_change_nothing(as_user: Any, session: Session) -> None:
    instance = start_lead(session, key="L-F")
    task = ready_task(session, instance.id)
    claim(session, task.id, actor(session, "officer.a"))
    session.commit()
    officer = as_user("officer.a")
    today = utcnow().astimezone(CHINA).date().isoformat()
    for value, sentence in ((today, "跟进日期须晚于今天"), ("2030-02-30", "请按日期格式填写跟进日期")):
        assert sentence in officer.get(officer.post(f"/tasks/{task.id}/follow-up", {"follow_up_on": value})
                                       .location).get_data(as_text=True)
    assert as_user("officer.a2").post(f"/tasks/{task.id}/follow-up", {"follow_up_on": "2031-01-01"}) \
        .status_code == 403  # not the holder (a colleague of the unit who can see it)
    assert as_user("officer.b").post(f"/tasks/{task.id}/follow-up", {"follow_up_on": "2031-01-01"}) \
        .status_code == 404  # another unit: no such task
    session.expire_all()
    assert session.get(TaskFollowUp, task.id) is None
    assert not [e for e in audit_history(session, instance.id) if e.action == "task_follow_up_set"]


def test_the_task_is_back_on_its_follow_up_day_china_time_and_not_hidden_from_a_new_holder(
        session: Session) -> None:
    instance = start_lead(session, key="L-DAY")
    task = ready_task(session, instance.id)
    officer = actor(session, "officer.a")
    claim(session, task.id, officer)
    session.add(TaskFollowUp(task_id=task.id, user_id="officer.a", follow_up_on=date(2031, 6, 11)))
    session.commit()

    def listed(tab: str, now: datetime, who: Any = officer) -> bool:
        return task.id in [t.id for t in inbox(session, who, InboxQuery(tab=tab).filters(now)).tasks]

    eve = datetime(2031, 6, 10, 15, 59, tzinfo=UTC)  # 23:59 on the 10th in China
    day = datetime(2031, 6, 10, 16, 0, tzinfo=UTC)  # 00:00 on the 11th in China
    assert not listed("assigned", eve) and listed("deferred", eve)
    assert listed("assigned", day) and not listed("deferred", day)
    counts = inbox_counts(session, officer, eve, deferred_condition(eve))
    assert (counts["assigned"], counts["deferred"]) == (0, 1)
    plain = inbox_counts(session, officer, eve)  # without the condition: the engine's own counts
    assert plain["assigned"] == 1 and "deferred" not in plain

    from engine import assign
    assign(session, task.id, actor(session, "head.a"), "officer.a2", "接办")
    session.commit()
    assert listed("assigned", eve, actor(session, "officer.a2"))  # officer.a's follow-up is not theirs

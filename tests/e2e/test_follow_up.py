"""Follow-up dates in the browser (跟进日期): the officer holding a task puts it off until
tomorrow on the task page; it leaves her default inbox tab and is listed under 已推迟; a day that
is not after today is refused with a sentence and changes nothing. When the day arrives (the
stored day moved to today, as the calendar would) the task is back in her inbox."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from engine import claim, start
from engine.clock import china_today
from tests.e2e.conftest import ARTIFACTS, LiveServer
from tests.e2e.test_inbox_bulk import _sign_in
from tests.web.conftest import COUNTY_A, ENTITY_A, actor, ready_task
from web.models import TaskFollowUp

pytestmark = pytest.mark.e2e


def test_a_task_put_off_until_tomorrow_leaves_the_inbox_and_comes_back_on_the_day(
        chromium: Any, live_server: LiveServer) -> None:
    with live_server.session() as session:
        instance = start(session, "case_lead", actor(session, "officer.a"), {}, "FU-1", unit_id=COUNTY_A,
                         entity_id=ENTITY_A, entity_name="康宁诊所")
        session.commit()
        task_id = ready_task(session, instance.id).id
        claim(session, task_id, actor(session, "officer.a"))
        session.commit()
    row = f"table.inbox tbody tr[data-task-id='{task_id}']"
    today = china_today()
    tomorrow = (today + timedelta(days=1)).isoformat()

    page = _sign_in(chromium, live_server, "officer.a")
    expect(page.locator(row)).to_have_count(1)  # in her default tab

    page.goto(f"{live_server.url}/tasks/{task_id}")
    page.fill("#follow_up_on", today.isoformat())  # today is not "later": refused, nothing stored
    page.click("#set-follow-up")
    expect(page.locator(".flash-error")).to_contain_text("跟进日期须晚于今天。")
    with live_server.session() as session:
        assert session.get(TaskFollowUp, task_id) is None

    page.fill("#follow_up_on", tomorrow)
    page.click("#set-follow-up")
    expect(page.locator(".flash-success")).to_contain_text(tomorrow)
    expect(page.locator("#follow_up_on")).to_have_value(tomorrow)
    expect(page.locator("#task-history li[data-action=task_follow_up_set]")).to_contain_text(tomorrow)

    page.goto(f"{live_server.url}/inbox")
    expect(page.locator("h1")).to_have_text("待办")
    expect(page.locator(row)).to_have_count(0)  # put off: out of her default tab
    page.goto(f"{live_server.url}/inbox?tab=deferred")
    expect(page.locator(row)).to_have_count(1)  # ... and listed under 已推迟
    page.screenshot(path=str(ARTIFACTS / "follow-up-deferred.png"), full_page=True)

    with live_server.session() as session:  # the day arrives
        follow_up = session.get(TaskFollowUp, task_id)
        assert follow_up is not None
        follow_up.follow_up_on = today
        session.commit()
    page.goto(f"{live_server.url}/inbox")
    expect(page.locator(row)).to_have_count(1)  # back in her inbox
    page.goto(f"{live_server.url}/inbox?tab=deferred")
    expect(page.locator(row)).to_have_count(0)

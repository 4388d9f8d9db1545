"""A task's own history on its page (issue 15): the officer takes the task and releases it in the
browser, a colleague takes it, the head reassigns it with a reason, the officer completes it;
the task page then lists each step in order with who did it and when (today, local time)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from engine import assign, claim, complete_task, start
from engine.clock import china_today
from tests.e2e.conftest import ARTIFACTS, LiveServer
from tests.e2e.test_inbox_bulk import _sign_in
from tests.web.conftest import COUNTY_A, ENTITY_A, actor, ready_task

pytestmark = pytest.mark.e2e


def test_the_task_page_lists_who_claimed_released_reassigned_and_completed_it_and_when(
        chromium: Any, live_server: LiveServer) -> None:
    with live_server.session() as session:
        instance = start(session, "case_lead", actor(session, "officer.a"), {}, "TH-1", unit_id=COUNTY_A,
                         entity_id=ENTITY_A, entity_name="康宁诊所")
        session.commit()
        task_id = ready_task(session, instance.id).id

    page = _sign_in(chromium, live_server, "officer.a")
    page.goto(f"{live_server.url}/tasks/{task_id}")
    page.click("#claim")
    page.goto(f"{live_server.url}/tasks/{task_id}")
    page.click("#unclaim")
    with live_server.session() as session:  # a colleague takes it, the head gives it back to 张伟
        claim(session, task_id, actor(session, "officer.a2"))
        assign(session, task_id, actor(session, "head.a"), "officer.a", reason="李娜外出培训")
        complete_task(session, task_id, actor(session, "officer.a"), {"amount": 1, "facts": "x"})
        session.commit()

    page.goto(f"{live_server.url}/tasks/{task_id}")
    steps = page.locator("#task-history ol.task-history > li")
    expect(steps).to_have_count(6)
    actions = [steps.nth(i).get_attribute("data-action") for i in range(6)]
    assert actions == ["task_created", "task_claimed", "task_unclaimed", "task_claimed", "task_assigned",
                       "task_completed"]
    expect(steps.nth(0)).to_contain_text("任务生成")
    expect(steps.nth(1)).to_contain_text("领取任务 · 张伟")
    expect(steps.nth(2)).to_contain_text("释放任务 · 张伟")
    expect(steps.nth(3)).to_contain_text("领取任务 · 李娜")
    expect(steps.nth(4)).to_contain_text("改派任务 · 赵磊 · 由 李娜 改为 张伟")
    expect(steps.nth(4)).to_contain_text("李娜外出培训")
    expect(steps.nth(5)).to_contain_text("完成任务 · 张伟")
    today = china_today().isoformat()
    for i in range(6):  # each step says when, in local time
        expect(steps.nth(i).locator("time")).to_have_text(re.compile(rf"^{today} \d\d:\d\d"))
    page.screenshot(path=str(ARTIFACTS / "task-history.png"), full_page=True)

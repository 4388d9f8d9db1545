"""The bell in the browser: an officer sees how many notices she has, opens the overdue one and
lands on its task; the count goes down; she asks for a daily digest by email."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from engine import start
from engine.models import HumanTask
from processes.directory.notifications import scan
from tests.e2e.conftest import LiveServer
from tests.e2e.test_comments import _sign_in
from tests.web.conftest import COUNTY_A, ENTITY_A, actor, ready_task

pytestmark = pytest.mark.e2e


def test_the_bell_leads_to_the_overdue_task(chromium: Any, live_server: LiveServer) -> None:
    now = datetime.now(UTC)
    with live_server.session() as session:
        instance = start(session, "case_lead", actor(session, "officer.a2"), {}, "C-BELL-1", unit_id=COUNTY_A,
                         entity_id=ENTITY_A, entity_name="康宁诊所")
        session.commit()
        task = ready_task(session, instance.id)
        session.execute(update(HumanTask).where(HumanTask.id == task.id).values(
            assignee="officer.a2", due_at=now - timedelta(days=1), due_sort=now - timedelta(days=1),
            created_at=now - timedelta(days=5)))
        scan(session, now)
        session.commit()
    page = _sign_in(chromium, live_server, "officer.a2", width=390)
    expect(page.locator("#bell .bell-count")).to_have_text("1")
    page.click("#bell")
    expect(page.locator("#notices .notice.unread")).to_contain_text("登记案源")
    expect(page.locator("#notices .notice")).to_contain_text("已逾期")
    page.locator("#notices .notice a").first.click()
    expect(page).to_have_url(f"{live_server.url}/tasks/{task.id}")
    expect(page.locator("#bell .bell-count")).to_have_count(0)
    page.goto(f"{live_server.url}/account/notifications")
    page.fill("#email", "lina@weijian.test")
    page.check("input[name=email_digest]")
    page.click("form.stack button")
    expect(page.locator(".flash-success")).to_contain_text("提醒设置已保存")

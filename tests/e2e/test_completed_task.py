"""A completed task opens read-only with what was entered, by whom and when (issue 15 item 2): the
head approves the filing in the browser with a written opinion; opening the done 立案审批 again
shows the opinion, the head's name and the time, and no form to submit. The next task's page keeps
the approval opinion in view, and the case officers by name.

As in ``test_penalty_case.py``, the next task is looked up in the database and opened by its URL;
every form is filled and submitted in the browser.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from engine.clock import china_today
from engine.models import HumanTask
from tests.e2e.conftest import LiveServer
from tests.e2e.test_penalty_case import People, penalty_server, people, shot, work_on  # noqa: F401 - fixtures
from tests.web.penalty_flow import EVIDENCE, form_data, ready_tasks, who

pytestmark = pytest.mark.e2e

OPINION = "同意立案，请依法开展调查。"


def test_a_completed_filing_approval_opens_read_only_with_the_opinion_the_head_and_the_time(
        people: People, penalty_server: LiveServer, tmp_path: Path) -> None:  # noqa: F811
    server = penalty_server
    evidence = tmp_path / "现场照片.pdf"
    evidence.write_bytes(EVIDENCE)
    officer = people.page("officer.a")
    officer.click("#nav-new-lead")
    officer.click("#start-penalty")
    expect(officer.locator("h1")).to_contain_text("案源登记")
    with server.session() as session:
        task = session.get(HumanTask, officer.url.rsplit("/", 1)[-1])
        assert task is not None
        instance_id = task.instance_id

    approval: HumanTask | None = None
    for _ in range(60):  # lead, filing report: until the head's approval is waiting
        with server.session() as session:
            tasks = ready_tasks(session, instance_id)
            if not tasks:  # the step after a submission may still be running
                time.sleep(0.2)
                continue
            task = tasks[0]
            data = form_data(session, task)
            session.refresh(task)
            session.expunge(task)
        if task.task_name == "approve_filing":
            approval = task
            break
        work_on(people.page(who(task)), server, task, data, evidence)
    assert approval is not None, "the filing approval never became ready"

    head = people.page("head.a")
    work_on(head, server, approval, {"approved": "true", "opinion": OPINION}, evidence)
    head.goto(f"{server.url}/tasks/{approval.id}")
    record = head.locator("#task-record")
    expect(record.locator("dd[data-field=opinion]")).to_have_text(OPINION)
    expect(record.locator("dd[data-field=approved]")).to_have_text("是")
    expect(record.locator(".completed-by")).to_have_text("赵磊")
    expect(record.locator(".completed-at")).to_have_text(re.compile(rf"^{china_today().isoformat()} \d\d:\d\d$"))
    expect(head.locator("#submit")).to_have_count(0)  # read-only: nothing to submit
    expect(head.locator("form.task-form")).to_have_count(0)
    shot(head, "completed-approval")

    for _ in range(50):  # the officers' next task: the approval's opinion is in its case context
        with server.session() as session:
            tasks = ready_tasks(session, instance_id)
        if tasks:
            break
        time.sleep(0.2)
    following = people.page(who(tasks[0]))
    following.goto(f"{server.url}/tasks/{tasks[0].id}")
    context = following.locator(".case-context")
    expect(context.locator("dd.fact[data-field=opinion]")).to_have_text(OPINION)
    expect(context.locator("dd.fact[data-field=officers]").first).to_have_text("张伟、李娜")

"""A completed task opens read-only with what was entered, by whom and when; every task page keeps
the earlier opinions in view, each with the task it came from, and the officers by name."""

from __future__ import annotations

import io
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import HumanTask
from processes.directory.models import CaseDocument
from tests.web.conftest import ready_task, start_lead
from tests.web.penalty_flow import ready_tasks
from tests.web.test_penalty import Office, filed, office, penalty_db, run_until  # noqa: F401


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def _section(page: str, marker: str) -> str:
    return page.split(marker, 1)[1].split("</section>", 1)[0]


def _facts(page: str) -> dict[str, str]:
    """The case context's key facts on a task page: label (with its task when several) -> value."""
    card = _section(page, '<section class="card case-context">')
    pairs = (item.split("</dt>", 1) for item in card.split("<dt>")[1:])
    return {_text(dt): _text(dd.split("</dd>", 1)[0]) for dt, dd in pairs if dd.startswith('<dd class="fact"')}


def completed(session: Session, instance_id: str, name: str) -> HumanTask:
    task = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.task_name == name,
                                                  HumanTask.status == "completed"))
    assert task is not None
    return task


def test_a_completed_filing_approval_shows_the_opinion_the_approver_and_when_and_no_form(
        filed: str, penalty_db: Session, office: Office) -> None:  # noqa: F811
    approval = completed(penalty_db, filed, "approve_filing")
    page = office("officer.a").get(f"/tasks/{approval.id}").get_data(as_text=True)
    record = _section(page, 'id="task-record"')
    assert re.search(r'<dd data-field="opinion">\s*同意\s*</dd>', record)
    assert re.search(r'<dd data-field="approved">\s*是\s*</dd>', record)
    assert '<strong class="completed-by">赵磊</strong>' in record  # head.a, by display name
    when = re.search(r'<time class="completed-at" datetime="[^"]+">(\d{4}-\d{2}-\d{2} \d{2}:\d{2})', record)
    assert when is not None
    assert 'id="submit"' not in page and 'action="/tasks/' + approval.id + '"' not in page  # read-only
    report = completed(penalty_db, filed, "prepare_filing")
    record = _section(office("head.a").get(f"/tasks/{report.id}").get_data(as_text=True), 'id="task-record"')
    assert re.search(r'<dd data-field="officers">\s*张伟、李娜\s*</dd>', record)  # people by name, not JSON
    assert "certificate_no" not in record and "user_id" not in record


def test_an_open_task_shows_no_record_and_its_form(filed: str, penalty_db: Session, office: Office) -> None:  # noqa: F811
    task = next(t for t in ready_tasks(penalty_db, filed) if t.task_name == "investigate")
    page = office("officer.a").get(f"/tasks/{task.id}").get_data(as_text=True)
    assert 'id="task-record"' not in page and 'id="submit"' in page


def test_the_head_deciding_sees_every_earlier_opinion_with_its_task_and_the_officers(
        filed: str, penalty_db: Session, office: Office) -> None:  # noqa: F811
    run_until(office, penalty_db, filed, "approve_decision")
    approve = next(t for t in ready_tasks(penalty_db, filed) if t.task_name == "approve_decision")
    page = office("head.a").get(f"/tasks/{approve.id}").get_data(as_text=True)
    facts = _facts(page)
    assert facts["意见（立案审批）"] == "同意"
    assert facts["合议意见"] == "事实清楚，同意承办人意见。"
    assert facts["承办人（不少于两名执法人员）（立案报告）"] == "张伟、李娜"  # officers, by name
    case = office("head.a").get(f"/cases/{filed}").get_data(as_text=True)
    groups = dict(re.findall(r'<details class="fact-group"><summary>(\S+) .*?</summary>(.*?)</details>', case, re.S))
    assert re.search(r'data-field="opinion">\s*同意\s*<', groups["立案审批"])  # the case page keeps each opinion
    assert re.search(r'data-field="opinion">\s*事实清楚，同意承办人意见。\s*<', groups["合议意见"])  # with its task
    api = office("head.a").client.get(f"/api/v1/cases/{filed}").json
    assert api is not None
    assert api["facts"]["opinion"] == "事实清楚，同意承办人意见。"  # the API keeps the latest value per field


def test_a_completed_generic_form_shows_choice_labels_money_staff_by_name_and_the_file_as_a_link(
        as_user: Any, session: Session) -> None:
    from tests.web.test_tasks import PDF, VALID

    instance = start_lead(session, key="L-REC")
    register = ready_task(session, instance.id)
    officer, head = as_user("officer.a"), as_user("head.a")
    officer.get(f"/tasks/{register.id}")
    data = dict(VALID, evidence=(io.BytesIO(PDF), "现场照片.pdf"))
    assert officer.post(f"/tasks/{register.id}", data, content_type="multipart/form-data").status_code == 302
    session.expire_all()
    approve = ready_task(session, instance.id)
    head.get(f"/tasks/{approve.id}")
    done = head.post(f"/tasks/{approve.id}", {"approved": "true", "opinion": "同意立案", "officers": ["officer.a",
                                                                                              "officer.a2"]})
    assert done.status_code == 302, done.get_data(as_text=True)
    doc = session.scalar(select(CaseDocument).where(CaseDocument.instance_id == instance.id))
    assert doc is not None
    record = _section(head.get(f"/tasks/{register.id}").get_data(as_text=True), 'id="task-record"')
    assert re.search(r'<dd data-field="kinds">\s*超范围执业\s*</dd>', record)  # the choice's label, not its code
    assert re.search(r'<dd data-field="amount">\s*20,000.00 元\s*</dd>', record)
    assert f'<a href="/documents/{doc.id}">现场照片.pdf</a>' in record
    assert '<strong class="completed-by">张伟</strong>' in record
    assert "persons" not in record  # not entered: not listed
    record = _section(officer.get(f"/tasks/{approve.id}").get_data(as_text=True), 'id="task-record"')
    assert re.search(r'<dd data-field="officers">\s*张伟、李娜\s*</dd>', record)  # staff ids shown as names
    assert re.search(r'<dd data-field="approved">\s*同意立案\s*</dd>', record)
    assert '<strong class="completed-by">赵磊</strong>' in record

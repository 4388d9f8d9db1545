"""The filing deadline (counted from discovery, 令第13号) on the filing tasks and the case page."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.web.penalty_flow import form_data, ready_tasks
from tests.web.test_penalty import Office, instance_of, office, penalty_db, post_task, start_lead  # noqa: F401


def test_filing_tasks_and_case_page_show_the_deadline_from_discovery(penalty_db: Session,  # noqa: F811
                                                                     office: Office) -> None:  # noqa: F811
    task_id = start_lead(office)
    instance_id = instance_of(penalty_db, task_id)
    data = form_data(penalty_db, ready_tasks(penalty_db, instance_id)[0])
    data.update(violation_date="2025-08-20", discovered_on="2025-09-01", accepted_on="2025-09-10")
    assert post_task(office("officer.a"), task_id, data).status_code == 302
    report = ready_tasks(penalty_db, instance_id)[0]
    assert report.task_name == "prepare_filing"
    page = office("officer.a").get(f"/tasks/{report.id}").get_data(as_text=True)
    # 2025-09-01 (Monday) + 7 working days; the acceptance date (09-10) would give 2025-09-19
    assert '<strong class="filing-due">2025-09-10</strong>' in page and "2025-09-01" in page
    case_page = office("officer.a").get(f"/cases/{instance_id}").get_data(as_text=True)
    assert 'class="filing-due">2025-09-10' in case_page

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


def test_a_head_extends_the_filing_period_on_the_case_page_an_officer_cannot(penalty_db: Session,  # noqa: F811
                                                                             office: Office) -> None:  # noqa: F811
    from engine.clock import china_today
    from processes.penalty.models import PenaltyCase

    task_id = start_lead(office)
    instance_id = instance_of(penalty_db, task_id)
    data = form_data(penalty_db, ready_tasks(penalty_db, instance_id)[0])
    today = china_today().isoformat()
    data.update(discovered_on=today, accepted_on=today)
    assert post_task(office("officer.a"), task_id, data).status_code == 302
    case = penalty_db.query(PenaltyCase).filter_by(instance_id=instance_id).one()
    due = case.filing_due
    page = office("head.a").get(f"/cases/{instance_id}").get_data(as_text=True)
    assert 'id="filing-extension-form"' in page

    refused = office("officer.a").post(f"/penalty/cases/{case.id}/filing-extension", data={"reason": "需核实主体资格"},
                                       follow_redirects=True).get_data(as_text=True)
    assert "延长立案期限须经本机关负责人批准" in refused
    penalty_db.expire_all()
    assert penalty_db.get(PenaltyCase, case.id).filing_extension is None

    assert office("head.a").post(f"/penalty/cases/{case.id}/filing-extension",
                                 data={"reason": "需核实主体资格"}).status_code == 302
    penalty_db.expire_all()
    extended = penalty_db.get(PenaltyCase, case.id)
    assert extended.filing_extension["approved_by"] == "head.a" and extended.filing_extension["approved_on"] == today
    assert extended.filing_due > due
    page = office("head.a").get(f"/cases/{instance_id}").get_data(as_text=True)
    assert 'class="filing-extension"' in page and 'id="filing-extension-form"' not in page

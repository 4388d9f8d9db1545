"""The process administration JSON API: validate, deploy, versions, diff, rollback, migrations."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import ProcessDefinition, ProcessInstance
from tests.engine_helpers import bundle
from tests.integration.test_process_admin import with_review
from tests.web.conftest import start_lead

LEAD = bundle("lead")["lead.bpmn"].decode("utf-8")
API = "/api/v1/admin"


def test_validate_writes_nothing_and_deploy_needs_a_clean_bundle_and_a_reason(session: Session,
                                                                             as_user: Any) -> None:
    admin = as_user("admin")
    broken = LEAD.replace("lead.approve", "lead.gone")
    checked = admin.api("POST", f"{API}/definitions", {"files": {"lead.bpmn": broken}})
    assert checked.status_code == 200
    assert [(p["element"], p["code"]) for p in checked.get_json()["problems"]] == [("approve", "unknown_form")]
    refused = admin.api("POST", f"{API}/definitions", {"files": {"lead.bpmn": broken}, "mode": "deploy",
                                                       "reason": "试"})
    assert refused.status_code == 422 and refused.get_json()["problems"][0]["element"] == "approve"
    no_reason = admin.api("POST", f"{API}/definitions", {"files": {"lead.bpmn": with_review().decode()},
                                                         "mode": "deploy"})
    assert no_reason.status_code == 422
    bad_name = admin.api("POST", f"{API}/definitions", {"files": {"../x.bpmn": LEAD}})
    assert bad_name.status_code == 422
    assert session.scalar(select(ProcessDefinition).where(ProcessDefinition.version == 2)) is None
    officer = as_user("officer.a")
    assert officer.api("POST", f"{API}/definitions", {"files": {"lead.bpmn": LEAD}}).status_code == 403


def test_deploy_versions_diff_rollback_and_migrate(session: Session, as_user: Any) -> None:
    instance = start_lead(session)
    admin = as_user("admin")
    deployed = admin.api("POST", f"{API}/definitions", {"files": {"lead.bpmn": with_review().decode()},
                                                        "mode": "deploy", "reason": "增加复核"})
    assert deployed.status_code == 200, deployed.get_data(as_text=True)
    (v2,) = deployed.get_json()["deployed"]
    assert (v2["version"], v2["reason"]) == (2, "增加复核") and "review" in v2["diff"]["added"]
    versions = admin.api("GET", f"{API}/definitions/case_lead/versions").get_json()
    assert [v["version"] for v in versions] == [2, 1]
    one = admin.api("GET", f"{API}/definitions/case_lead/versions/1").get_json()
    assert one["files"]["lead.bpmn"] == LEAD
    diff = admin.api("GET", f"{API}/definitions/case_lead/diff/2/1").get_json()
    assert "review" in diff["removed"]
    preview = admin.api("POST", f"{API}/migrations", {"process_key": "case_lead", "to_version": 2,
                                                      "instance_ids": [instance.id], "preview": True}).get_json()
    assert preview["previews"][0]["can_move"] is True
    started = admin.api("POST", f"{API}/migrations", {"process_key": "case_lead", "to_version": 2,
                                                      "instance_ids": [instance.id], "reason": "采用复核"})
    assert started.status_code == 200, started.get_data(as_text=True)
    batch = admin.api("GET", f"{API}/migrations/{started.get_json()['id']}").get_json()
    assert (batch["status"], batch["moved"]) == ("done", 1)
    session.expire_all()
    row = session.get(ProcessInstance, instance.id)
    assert row is not None and row.definition_id == v2["id"]
    rolled = admin.api("POST", f"{API}/definitions/case_lead/rollback", {"version": 1, "reason": "暂缓"})
    assert rolled.status_code == 200 and rolled.get_json()[0]["rollback_to"] == 1
    unknown = admin.api("POST", f"{API}/migrations", {"process_key": "case_lead", "to_version": 9,
                                                      "instance_ids": [instance.id], "reason": "x"})
    assert unknown.status_code == 404

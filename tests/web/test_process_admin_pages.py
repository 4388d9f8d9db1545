"""Process administration in the web app: the modeler's draft and deploy endpoints, versions
with their diff, rollback, download, upload, and migrating a running case from the browser."""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import complete_task
from engine.models import AuditEvent, HumanTask, MigrationBatch, ProcessDefinition, ProcessInstance
from tests.engine_helpers import bundle, deploy_fixture
from tests.integration.test_process_admin import with_review
from tests.web.conftest import actor, ready_task, start_lead

LEAD = bundle("lead")["lead.bpmn"].decode("utf-8")
EDIT = "/admin/processes/case_lead"


def _config(page: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="modeler-config">(.*?)</script>', page, re.S)
    assert found
    return json.loads(found.group(1).replace("<\\/", "</"))


def test_only_administrators_reach_process_administration(session: Session, as_user: Any) -> None:
    deploy_fixture(session, "lead")
    officer = as_user("officer.a")
    assert officer.get(EDIT).status_code == 403
    assert officer.api("POST", f"{EDIT}/draft", json={"file": "lead.bpmn", "xml": LEAD}).status_code == 403


def test_the_modeler_page_offers_what_is_registered(session: Session, as_user: Any) -> None:
    deploy_fixture(session, "lead")
    admin = as_user("admin")
    page = admin.get(f"{EDIT}/edit")
    assert page.status_code == 200
    config = _config(page.get_data(as_text=True))
    assert config["file"] == "lead.bpmn" and "BPMNShape" in config["xml"]  # laid out for the modeler
    assert {"lead.register", "lead.approve"} <= {f["key"] for f in config["forms"]}
    assert {"officer", "head", "legal_reviewer"} <= {r["key"] for r in config["roles"]}
    assert config["save_url"].endswith("/draft") and config["csrf_token"]


def test_save_shows_problems_on_elements_and_deploy_refuses_until_fixed(session: Session, as_user: Any) -> None:
    deploy_fixture(session, "lead")
    admin = as_user("admin")
    admin.get(f"{EDIT}/edit")
    broken = LEAD.replace('value="lead.approve"', 'value="lead.nowhere"')
    saved = admin.api("POST", f"{EDIT}/draft", json={"file": "lead.bpmn", "xml": broken})
    assert saved.status_code == 200
    problems = saved.get_json()["problems"]
    (problem,) = [p for p in problems if p["severity"] == "error"]
    assert problem["element"] == "approve" and "lead.nowhere" in problem["message"]
    assert "负责人审批" in problem["message"]
    assert "未注册" in problem["message"]  # in the user's language
    no_reason = admin.api("POST", f"{EDIT}/deploy", json={"file": "lead.bpmn", "xml": LEAD, "reason": ""})
    assert no_reason.status_code == 422
    refused = admin.api("POST", f"{EDIT}/deploy", json={"file": "lead.bpmn", "xml": broken, "reason": "试"})
    assert refused.status_code == 422 and refused.get_json()["problems"][0]["element"] == "approve"
    assert session.scalar(select(ProcessDefinition).where(ProcessDefinition.version == 2)) is None
    overview = admin.get(EDIT).get_data(as_text=True)
    assert "lead.nowhere" in overview  # the draft and its problems wait on the process page


def test_deploy_from_the_modeler_then_migrate_a_running_case(session: Session, as_user: Any) -> None:
    deploy_fixture(session, "lead")
    instance = start_lead(session)
    admin = as_user("admin")
    admin.get(f"{EDIT}/edit")
    deployed = admin.api("POST", f"{EDIT}/deploy", json={"file": "lead.bpmn", "xml": with_review().decode("utf-8"),
                                                         "reason": "增加复核"})
    assert deployed.status_code == 200, deployed.get_data(as_text=True)
    answer = deployed.get_json()
    assert answer["ok"] and answer["version"] == 2 and "review" in answer["diff"]["added"]
    overview = admin.get(answer["redirect"]).get_data(as_text=True)
    assert "增加复核" in overview and 'id="diagram-config"' in overview
    preview = admin.get(f"{EDIT}/migrate?to=2").get_data(as_text=True)
    assert instance.id in preview and "disabled" not in preview.split(instance.id)[0][-200:]
    started = admin.post(f"{EDIT}/migrate", {"to": "2", "instance": instance.id, "reason": "采用复核",
                                             "action": "start"})
    assert started.status_code == 302
    batch = session.scalar(select(MigrationBatch))
    assert batch is not None
    session.expire_all()
    progress = admin.get(f"/admin/migrations/{batch.id}?format=json").get_json()
    assert (progress["status"], progress["moved"], progress["left"]) == ("done", 1, 0)
    row = session.get(ProcessInstance, instance.id)
    assert row is not None and row.definition_id == session.scalar(
        select(ProcessDefinition.id).where(ProcessDefinition.version == 2))
    task = ready_task(session, instance.id)
    complete_task(session, task.id, actor(session, "officer.a"), {"amount": 50000})
    session.commit()
    assert ready_task(session, instance.id).task_name == "review"
    actions = set(session.scalars(select(AuditEvent.action)))
    assert {"deploy", "migration_started", "instance_migrated", "migration_finished"} <= actions


def test_rollback_download_and_upload(session: Session, as_user: Any) -> None:
    deploy_fixture(session, "lead")
    admin = as_user("admin")
    admin.get(f"{EDIT}/edit")
    admin.api("POST", f"{EDIT}/deploy", json={"file": "lead.bpmn", "xml": with_review().decode("utf-8"),
                                              "reason": "增加复核"})
    admin.get(EDIT)
    assert admin.post(f"{EDIT}/rollback", {"version": "1", "reason": ""}).status_code == 302
    assert session.scalar(select(ProcessDefinition).where(ProcessDefinition.version == 3)) is None
    admin.get(EDIT)
    admin.post(f"{EDIT}/rollback", {"version": "1", "reason": "复核暂缓"})
    v3 = session.scalar(select(ProcessDefinition).where(ProcessDefinition.version == 3))
    assert v3 is not None and v3.summary["rollback_to"] == 1
    single = admin.get(f"{EDIT}/v2/download?file=lead.bpmn")
    assert single.status_code == 200 and b'id="review"' in single.data
    archive = zipfile.ZipFile(io.BytesIO(admin.get(f"{EDIT}/v1/download").data))
    assert archive.namelist() == ["lead.bpmn"]
    admin.get("/admin/processes/upload")
    checked = admin.post("/admin/processes/upload", {
        "action": "check", "files": (io.BytesIO(LEAD.replace("lead.approve", "lead.gone").encode()), "lead.bpmn")},
        content_type="multipart/form-data")
    assert "lead.gone" in checked.get_data(as_text=True)
    assert session.scalar(select(ProcessDefinition).where(ProcessDefinition.version == 4)) is None
    wrong = admin.post("/admin/processes/upload", {"action": "check", "files": (io.BytesIO(b"x"), "notes.txt")},
                       content_type="multipart/form-data")
    assert "notes.txt" in wrong.get_data(as_text=True)
    assert session.scalar(select(HumanTask)) is None


def test_camunda_files_are_converted_on_upload_and_nothing_half_converted_deploys(session: Session,
                                                                                  as_user: Any) -> None:
    from tests.engine_helpers import FIXTURES

    admin = as_user("admin")
    admin.get("/admin/processes/upload")
    folder = FIXTURES / "camunda" / "approval"
    good = {"action": "check", "files": [(io.BytesIO(p.read_bytes()), p.name) for p in sorted(folder.iterdir())]}
    checked = admin.post("/admin/processes/upload", good, content_type="multipart/form-data").get_data(as_text=True)
    assert 'id="upload-converted"' in checked
    bad_folder = FIXTURES / "camunda" / "unconvertible"
    before = session.scalar(select(func.count()).select_from(ProcessDefinition))
    bad = {"action": "deploy", "reason": "导入", "files": [(io.BytesIO(p.read_bytes()), p.name)
                                                          for p in sorted(bad_folder.iterdir())]}
    refused = admin.post("/admin/processes/upload", bad, content_type="multipart/form-data")
    assert refused.status_code == 200 and 'id="upload-problems"' in refused.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(ProcessDefinition)) == before


def test_a_file_edited_as_xml_goes_into_the_draft_and_the_draft_deploys(session: Session, as_user: Any) -> None:
    admin = as_user("admin")
    page = admin.get(f"{EDIT}/files/lead.bpmn")
    assert page.status_code == 200 and "登记案源" in page.get_data(as_text=True)
    assert admin.get(f"{EDIT}/files/other.dmn").status_code == 404
    broken = admin.post(f"{EDIT}/files/lead.bpmn", {"xml": LEAD.replace("</bpmn:definitions>", "")})
    assert 'id="file-problems"' in broken.get_data(as_text=True)
    admin.post(f"{EDIT}/files/lead.bpmn", {"xml": LEAD.replace('name="记录决定"', 'name="记录审批决定"')})
    admin.get(EDIT)
    assert admin.post(f"{EDIT}/draft/deploy", {"reason": ""}).status_code == 302
    assert session.scalar(select(ProcessDefinition).where(ProcessDefinition.version == 2)) is None
    admin.get(EDIT)
    admin.post(f"{EDIT}/draft/deploy", {"reason": "改名"})
    v2 = session.scalar(select(ProcessDefinition).where(ProcessDefinition.version == 2))
    assert v2 is not None and v2.summary["diff"]["changed"] == ["decide"] and v2.summary["reason"] == "改名"

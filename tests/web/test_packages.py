"""A second process package plugs into the generic web without the web knowing it: a throw-away
package claims the case-lead fixture process and gets its task and case panels, its submit
hook (a refusal comes back beside the field, nothing written), its nav link and its API member."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from jinja2 import ChoiceLoader, DictLoader
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import Actor, complete_task
from engine.models import AuditEvent, HumanTask, ProcessInstance
from forms import get_form
from processes.registry import ProcessPackage, register, unregister
from tests.engine_helpers import FIXTURES
from tests.web.conftest import ready_task, start_lead
from tests.web.test_tasks import VALID
from web.packages import NavLink, Panel, WebPackage, register_web, unregister_web, web_package_for_form

SUBMITTED: list[dict[str, Any]] = []


def _submit(session: Session, actor: Actor, task: HumanTask, data: dict[str, Any]
            ) -> tuple[ProcessInstance | None, dict[str, list[str]]]:
    SUBMITTED.append(data)
    if data.get("summary") == "拒绝":
        return None, {"summary": ["本包不接受此摘要"], "not_a_field": ["整体问题"]}
    form = get_form(task.form_key)
    assert form is not None
    loaded = form.schema().load(data)  # a package validates what it is given (the web passes it raw)
    return complete_task(session, task.id, actor, {**loaded, "checked_by_package": True}), {}


@pytest.fixture
def lead_package(app: Flask) -> Iterator[WebPackage]:
    """Registered after the app discovered the real packages, removed afterwards."""
    process = ProcessPackage(name="leadpkg", folder=FIXTURES / "lead", process_keys=frozenset({"case_lead"}),
                             form_prefixes=("lead.",), submit=_submit)
    web = WebPackage(
        name="leadpkg",
        task_panel=lambda actor, instance, task: Panel("_leadpkg_task.html", f"task {task.task_name}"),
        case_panel=lambda actor, instance: Panel("_leadpkg_case.html", {"key": instance.business_key}),
        api_case_body=lambda actor, instance: {"key": instance.business_key},
        public_values=lambda values: {k: v for k, v in values.items() if k != "facts"},
        nav=(NavLink("cases.entities", "Lead package link", element_id="nav-leadpkg", roles=frozenset({"officer"})),),
    )
    assert isinstance(app.jinja_loader, ChoiceLoader)
    app.jinja_loader.loaders.append(DictLoader({
        "_leadpkg_task.html": '<section id="leadpkg-task">{{ panel.view }} / {{ task.title }}</section>',
        "_leadpkg_case.html": '<section id="leadpkg-case">{{ panel.view.key }}</section>'}))
    register(process)
    register_web(web)
    SUBMITTED.clear()
    yield web
    unregister_web("leadpkg")
    unregister("leadpkg")


def test_a_plugged_in_package_gets_its_panels_hook_and_nav(lead_package: WebPackage, as_user: Any,
                                                            session: Session) -> None:
    assert web_package_for_form("lead.register") is lead_package
    instance = start_lead(session)
    task = ready_task(session, instance.id)
    officer = as_user("officer.a")
    page = officer.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert '<section id="leadpkg-task">task register / 登记案源</section>' in page
    assert 'id="nav-leadpkg"' in page and "Lead package link" in page
    assert 'id="nav-leadpkg"' not in as_user("reviewer.a").get("/inbox").get_data(as_text=True)  # not their role

    events = session.scalar(select(func.count()).select_from(AuditEvent))
    refused = officer.post(f"/tasks/{task.id}", dict(VALID, summary="拒绝"))
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "本包不接受此摘要" in html and "整体问题" in html
    assert "现场发现开展医疗美容项目" not in html  # the package's public_values kept it back
    assert SUBMITTED[-1]["summary"] == "拒绝" and "persons" not in SUBMITTED[-1]  # blank values left out
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == events
    assert ready_task(session, instance.id).id == task.id

    done = officer.post(f"/tasks/{task.id}", VALID)
    assert done.status_code == 302, done.get_data(as_text=True)
    session.expire_all()
    assert session.get(HumanTask, task.id).status == "completed"  # type: ignore[union-attr]
    completed = session.scalar(select(AuditEvent).where(AuditEvent.action == "task_completed",
                                                        AuditEvent.task_id == task.id))
    assert completed is not None and completed.data["data"]["checked_by_package"] is True

    case_page = officer.get(f"/cases/{instance.id}").get_data(as_text=True)
    assert '<section id="leadpkg-case">L-1</section>' in case_page


def test_the_api_submits_through_the_package_hook(lead_package: WebPackage, as_user: Any, session: Session) -> None:
    instance = start_lead(session)
    task = ready_task(session, instance.id)
    officer = as_user("officer.a")
    refused = officer.api("POST", f"/api/v1/tasks/{task.id}/complete", json={"data": dict(VALID, summary="拒绝")})
    assert refused.status_code == 422
    assert refused.get_json()["errors"] == {"summary": ["本包不接受此摘要"], "_schema": ["整体问题"]}
    done = officer.api("POST", f"/api/v1/tasks/{task.id}/complete", json={"data": VALID})
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert body["penalty"] is None  # the penalty package's member: null for another package's case


def test_without_the_package_the_lead_form_takes_the_generic_path(as_user: Any, session: Session) -> None:
    assert web_package_for_form("lead.register") is None
    instance = start_lead(session)
    task = ready_task(session, instance.id)
    page = as_user("officer.a").get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "leadpkg" not in page and 'id="nav-new-lead"' in page  # the penalty package's nav link

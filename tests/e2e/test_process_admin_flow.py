"""An administrator changes the penalty process in the browser and moves a running case onto it.

She opens the penalty process, appends a user task after 案源登记 in the modeler (context pad,
replace menu, connect), names it, saves, sees the marker of the missing form on the new task,
picks the form in the properties panel, deploys version 2 with a reason, previews the migration
of the running cases, migrates one of them, and that case's officer then finds the new task in
the inbox once 案源登记 is done. The other case stays on version 1 and does not get the task.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from engine import complete_task, start
from engine.models import ProcessDefinition, ProcessInstance
from tests.e2e.conftest import ARTIFACTS, LiveServer
from tests.web.conftest import COUNTY_A, ENTITY_A, PASSWORD, actor
from tests.web.penalty_flow import form_data, ready_tasks, setup_penalty

pytestmark = pytest.mark.e2e
NEW_NAME = "复核案源"


@pytest.fixture(scope="module")
def admin_server(live_server: LiveServer) -> LiveServer:
    with live_server.session() as session:
        setup_penalty(session)
        session.commit()
    return live_server


def _sign_in(chromium: Any, server: LiveServer, login: str) -> Page:
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    page: Page = context.new_page()
    page.goto(f"{server.url}/login")
    page.fill("#username", login)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("待办")
    return page


def _start_cases(server: LiveServer) -> list[str]:
    with server.session() as session:
        officer = actor(session, "officer.a")
        ids = [start(session, "penalty_ordinary", officer, {}, f"E2E-MIG-{n}", unit_id=COUNTY_A,
                     entity_id=ENTITY_A, entity_name="康宁诊所").id for n in (1, 2)]
        session.commit()
    return ids


def _show(page: Page, element_id: str) -> None:
    """Scroll the canvas to the element, as a user would drag the diagram (the palette covers the left)."""
    page.evaluate("""id => { const m = window.WeijianModeler.modeler; m.get('canvas').zoom(1);
        m.get('canvas').scrollToElement(m.get('elementRegistry').get(id), {top: 200, left: 300, right: 300}); }""",
                  element_id)


def _select(page: Page, element_id: str) -> None:
    """Select an element (what a click on it does; clicks on SVG groups hit their label or lane)."""
    _show(page, element_id)
    page.evaluate("""id => { const m = window.WeijianModeler.modeler;
        m.get('selection').select(m.get('elementRegistry').get(id)); }""", element_id)


def _open_group(page: Page, group_id: str) -> None:
    group = page.locator(f'[data-group-id="{group_id}"]')
    if not group.locator(".bio-properties-panel-group-entries.open").count():
        group.locator(".bio-properties-panel-group-header").click()


def _context_pad(page: Page, element_id: str, action: str) -> None:
    _select(page, element_id)
    page.locator(f'.djs-context-pad .entry[data-action="{action}"]').click()


def test_admin_adds_a_task_deploys_and_migrates_a_running_case(chromium: Any, admin_server: LiveServer) -> None:
    first, second = _start_cases(admin_server)
    page = _sign_in(chromium, admin_server, "admin")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{admin_server.url}/admin/processes/penalty_ordinary")
    expect(page.locator("h1")).to_contain_text("penalty_ordinary")
    page.click("text=在建模器中编辑")
    expect(page.locator('.djs-element[data-element-id="register_lead"]')).to_have_count(1)

    # append a task after 案源登记, make it a user task, and route the old flow through it
    _context_pad(page, "register_lead", "append.append-task")
    new_id = page.evaluate("() => window.WeijianModeler.modeler.get('selection').get()[0].id")
    page.keyboard.press("Escape")  # leave the label editor the new task opens with
    _context_pad(page, new_id, "replace")
    page.locator('.djs-popup [data-id="replace-with-user-task"]').click()
    new_id = page.evaluate("() => window.WeijianModeler.modeler.get('selection').get()[0].id")
    _context_pad(page, "f_register_lead__gw_limitation", "delete")
    _context_pad(page, new_id, "connect")
    page.locator('.djs-element[data-element-id="gw_limitation"] .djs-hit').first.click(force=True)
    _select(page, new_id)
    _open_group(page, "group-general")
    name = page.locator("#bio-properties-panel-name")
    name.fill(NEW_NAME)
    name.press("Tab")

    # saving marks the missing form on the new task; choosing one in the panel clears it
    page.click("#modeler-save")
    badge = page.locator(f'.djs-overlays[data-container-id="{new_id}"] .weijian-problem')
    expect(badge).to_contain_text("没有表单")
    _select(page, new_id)
    _open_group(page, "group-weijian")
    page.locator("select#bio-properties-panel-weijian-formKey").select_option("penalty.filing_approval")
    page.click("#modeler-save")
    expect(badge).to_have_count(0)

    # deploy needs a reason; then version 2 exists with the new task in its diff
    page.fill("#modeler-reason", "立案前增加复核环节")
    page.click("#modeler-deploy")
    page.screenshot(path=str(ARTIFACTS / "process-admin-deploy.png"), full_page=True)
    expect(page.locator("#modeler-status")).to_contain_text("已部署版本 2")
    with admin_server.session() as session:
        v2 = session.scalar(select(ProcessDefinition).where(ProcessDefinition.process_key == "penalty_ordinary",
                                                            ProcessDefinition.version == 2))
        assert v2 is not None and new_id in v2.summary["diff"]["added"]
        assert v2.summary["reason"] == "立案前增加复核环节"
        # what the modeler rewrote in form only (defaults omitted, indentation) is no change
        assert sorted(v2.summary["diff"]["changed"]) == ["gw_limitation", "lane_penalty_ordinary_officer",
                                                         "register_lead"]

    # preview the running cases, move only the first
    page.goto(f"{admin_server.url}/admin/processes/penalty_ordinary/migrate?to=2")
    rows = page.locator("#migration-preview tbody tr")
    expect(rows.filter(has_text="E2E-MIG-1")).to_contain_text("可以迁移")
    page.locator(f'input[name="instance"][value="{second}"]').uncheck()
    page.fill("#reason", "试点案件先用新流程")
    page.click("text=迁移选中的案件")
    expect(page.locator("#migration-progress")).to_contain_text("迁移 1 件")
    page.screenshot(path=str(ARTIFACTS / "process-admin-migrated.png"), full_page=True)

    # the moved case gets the new task after 案源登记; the other one stays on version 1
    with admin_server.session() as session:
        (lead,) = ready_tasks(session, first)
        complete_task(session, lead.id, actor(session, "officer.a"), form_data(session, lead))
        session.commit()
        (task,) = ready_tasks(session, first)
        assert (task.title, task.form_key) == (NEW_NAME, "penalty.filing_approval")
        moved, stayed = session.get(ProcessInstance, first), session.get(ProcessInstance, second)
        assert moved is not None and moved.definition_id == v2.id
        assert stayed is not None and stayed.definition_id != v2.id
        assert [t.task_name for t in ready_tasks(session, second)] == ["register_lead"]
    # the overview of version 2: the waiting case counted on its activity, the new task marked as added
    page.goto(f"{admin_server.url}/admin/processes/penalty_ordinary?version=2")
    expect(page.locator('.djs-overlays[data-container-id="' + new_id + '"] .weijian-count-running')).to_have_text("1")
    expect(page.locator(f'.djs-element[data-element-id="{new_id}"].weijian-added')).to_have_count(1)
    page.screenshot(path=str(ARTIFACTS / "process-admin-overview.png"), full_page=True)
    officer = _sign_in(chromium, admin_server, "officer.a")
    expect(officer.locator("main")).to_contain_text(NEW_NAME)
    assert errors == []

"""The committed BPMN modeler bundle (``web/static/vendor/weijian-modeler/``) in Chromium.

A page shaped like the Flask edit page (the contract in docs/modeler.md) is served with the bundle
by a small ``http.server`` in a thread. Its save and deploy URLs are answered by a fake backend
that records what the page posts and answers with problems and a diff, because the real Flask
endpoints are written separately; the test against the real app belongs with them. Checked here:
the diagram renders with bpmn.io's watermark, the 卫监 group of a user task lists the configured
forms, a chosen form is saved as ``spiffworkflow:property`` with the CSRF header, problems of the
answer are drawn on their elements and listed (Enter on an item selects the element), deploying
without a reason sends nothing, and a deploy marks the diff.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "web" / "static" / "vendor" / "weijian-modeler"
BPMN = ROOT / "processes" / "penalty" / "penalty_ordinary.bpmn"
CSRF = "csrf-token-for-the-test"
LABELS = {"save": "保存草稿", "deploy": "部署", "saved": "已保存", "problems": "问题", "no_problems": "没有问题",
          "deployed": "已部署版本", "reason_required": "请填写部署原因", "added": "新增", "removed": "删除",
          "changed": "修改", "formKey": "表单", "candidateRole": "候选角色", "dueDate": "期限表达式",
          "assignee": "办理人表达式", "operator": "服务操作", "parameters": "参数", "weijian": "卫监"}
SAVE_ANSWER = {"problems": [{"element": "investigate", "message": "表单 'penalty.nope' 未注册", "severity": "error"},
                            {"element": None, "message": "流程没有起始说明", "severity": "warning"}],
               "saved_at": "2026-12-04 18:30", "editors": ["张三"]}
DEPLOY_ANSWER = {"ok": True, "version": 3, "redirect": "/admin/processes/penalty_ordinary",
                 "diff": {"added": ["register_lead"], "removed": ["gone_task"], "changed": ["prepare_filing"]}}
PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>modeler</title>
<link rel="stylesheet" href="/static/vendor/weijian-modeler/modeler.css"></head>
<body>
<button id="modeler-save" type="button">保存草稿</button>
<input id="modeler-reason" aria-label="部署原因"><button id="modeler-deploy" type="button">部署</button>
<span id="modeler-status"></span>
<div><div id="modeler-canvas"></div><div id="modeler-properties"></div></div>
<ul id="modeler-problems"></ul>
<script type="application/json" id="modeler-config">__CONFIG__</script>
<script src="/static/vendor/weijian-modeler/modeler.js"></script>
</body></html>"""
OVERVIEW = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>overview</title>
<link rel="stylesheet" href="/static/vendor/weijian-modeler/viewer.css"></head>
<body>
<div data-weijian-viewer data-config="diagram-config"></div>
<script type="application/json" id="diagram-config">__CONFIG__</script>
<script src="/static/vendor/weijian-modeler/viewer.js"></script>
</body></html>"""


@dataclass
class FakeBackend:
    url: str
    posts: list[tuple[str, dict[str, str], dict[str, Any]]] = field(default_factory=list)


def _json(value: Any) -> str:
    """As Flask's ``|tojson`` does: no ``</script>`` in the data can end the script element early."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")


def _overview_html() -> str:
    config = {"xml": BPMN.read_text(encoding="utf-8"),
              "counts": {"investigate": {"running": 7, "incidents": 2}, "register_lead": {"running": 3}},
              "diff": {"added": ["prepare_filing"], "changed": ["approve_filing"], "removed": ["gone_task"]},
              "highlight": ["register_lead"]}
    return OVERVIEW.replace("__CONFIG__", _json(config))


def _page_html() -> str:
    config = {
        "xml": BPMN.read_text(encoding="utf-8"), "file": "penalty_ordinary.bpmn",
        "forms": [{"key": "penalty.lead", "title": "线索登记"}, {"key": "penalty.filing_report", "title": "立案报告"}],
        "roles": [{"key": "officer", "label": "执法人员"}, {"key": "head", "label": "负责人"}],
        "operators": [{"key": "penalty.close_lead", "label": "penalty.close_lead"}],
        "processes": [{"key": "penalty_deliberation", "label": "案件合议"}],
        "messages": ["msg_extension"],
        "problems": [{"element": "approve_filing", "message": "候选角色未知", "severity": "error"}],
        "save_url": "/admin/processes/penalty_ordinary/draft",
        "deploy_url": "/admin/processes/penalty_ordinary/deploy",
        "csrf_token": CSRF, "labels": LABELS,
    }
    return PAGE.replace("__CONFIG__", _json(config))


@pytest.fixture(scope="module")
def backend() -> Iterator[FakeBackend]:
    if not (BUNDLE / "modeler.js").exists():
        pytest.fail(f"{BUNDLE}/modeler.js is missing: run `make modeler`")
    pages = {"/edit": _page_html().encode(), "/overview": _overview_html().encode()}
    state = FakeBackend("")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path in pages:
                self._send(200, pages[self.path], "text/html; charset=utf-8")
                return
            prefix = "/static/vendor/weijian-modeler/"
            name = self.path.split("?", 1)[0].removeprefix(prefix)
            target = (BUNDLE / name).resolve()
            if not self.path.startswith(prefix) or not target.is_relative_to(BUNDLE) or not target.is_file():
                self._send(404, b"not found", "text/plain")
                return
            types = {".js": "text/javascript", ".css": "text/css", ".woff2": "font/woff2", ".woff": "font/woff"}
            self._send(200, target.read_bytes(), types.get(target.suffix, "application/octet-stream"))

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.posts.append((self.path, dict(self.headers.items()), body))
            answer = DEPLOY_ANSWER if self.path.endswith("/deploy") else SAVE_ANSWER
            self._send(200, json.dumps(answer).encode(), "application/json")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="modeler-bundle", daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


def _problem_badge(page: Page, element_id: str) -> Any:
    return page.locator(f'.djs-overlays[data-container-id="{element_id}"] .weijian-problem')


def test_modeler_edits_saves_marks_problems_and_guards_deploy(chromium: Any, backend: FakeBackend) -> None:
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("requestfailed", lambda request: errors.append(f"failed: {request.url}"))
    page.goto(f"{backend.url}/edit")

    # the diagram renders, with the watermark and the problem given at mount
    expect(page.locator('.djs-element[data-element-id="register_lead"]')).to_have_count(1)
    expect(page.locator(".bjs-powered-by")).to_be_visible()
    expect(_problem_badge(page, "approve_filing")).to_contain_text("候选角色未知")

    # a user task shows the 卫监 group, whose form select lists the configured forms
    page.evaluate("""() => { const m = window.WeijianModeler.modeler;
        m.get('selection').select(m.get('elementRegistry').get('register_lead')); }""")
    group = page.locator('[data-group-id="group-weijian"]')
    expect(group.locator(".bio-properties-panel-group-header-title")).to_have_text("卫监")
    if not group.locator(".bio-properties-panel-group-entries.open").count():
        group.locator(".bio-properties-panel-group-header").click()
    select = page.locator("select#bio-properties-panel-weijian-formKey")
    expect(select).to_have_value("penalty.lead")
    values = select.locator("option").evaluate_all("options => options.map(o => o.value)")
    assert values == ["", "penalty.lead", "penalty.filing_report"]
    select.select_option("penalty.filing_report")
    expect(page.locator("#modeler-status")).not_to_be_empty()

    # save posts the XML with the chosen form, and draws the problems of the answer
    page.click("#modeler-save")
    expect(page.locator("#modeler-status")).to_contain_text("已保存 2026-12-04 18:30")
    expect(page.locator("#modeler-status")).to_contain_text("张三")
    path, headers, body = backend.posts[-1]
    assert path == "/admin/processes/penalty_ordinary/draft"
    assert headers["X-CSRFToken"] == CSRF
    assert headers["Content-Type"] == "application/json"
    assert body["file"] == "penalty_ordinary.bpmn"
    assert '<spiffworkflow:property name="formKey" value="penalty.filing_report" />' in body["xml"]
    assert 'value="penalty.lead"' not in body["xml"].split('id="register_lead"', 1)[1].split("</bpmn:userTask>")[0]
    assert "<bpmn:loopDataInputRef>officers</bpmn:loopDataInputRef>" in body["xml"]
    expect(_problem_badge(page, "investigate")).to_contain_text("表单 'penalty.nope' 未注册")
    expect(_problem_badge(page, "approve_filing")).to_have_count(0)
    items = page.locator("#modeler-problems li")
    expect(items).to_have_count(2)
    expect(items.nth(1)).to_have_text("流程没有起始说明")
    items.nth(0).focus()
    page.keyboard.press("Enter")
    selected = page.evaluate("() => window.WeijianModeler.modeler.get('selection').get().map(e => e.id)")
    assert selected == ["investigate"]

    # deploy without a reason says so and sends nothing
    posted = len(backend.posts)
    page.click("#modeler-deploy")
    expect(page.locator("#modeler-status")).to_have_text("请填写部署原因")
    assert len(backend.posts) == posted

    # with a reason: the diff is marked and the removed ids are listed
    page.fill("#modeler-reason", "表单调整")
    page.click("#modeler-deploy")
    expect(page.locator("#modeler-status")).to_contain_text("已部署版本 3")
    expect(page.locator("#modeler-status")).to_contain_text("gone_task")
    assert backend.posts[-1][2]["reason"] == "表单调整"
    expect(page.locator('.djs-element.weijian-added[data-element-id="register_lead"]')).to_have_count(1)
    expect(page.locator('.djs-element.weijian-changed[data-element-id="prepare_filing"]')).to_have_count(1)
    expect(page.locator("#modeler-status a")).to_have_attribute("href", "/admin/processes/penalty_ordinary")
    page.screenshot(path=str(ARTIFACTS / "modeler-bundle.png"))

    # narrow screens: the properties panel goes below the canvas
    page.set_viewport_size({"width": 390, "height": 800})
    canvas = page.locator("#modeler-canvas").bounding_box()
    panel = page.locator("#modeler-properties").bounding_box()
    assert canvas is not None and panel is not None
    assert panel["y"] >= canvas["y"] + canvas["height"] - 1
    assert panel["width"] <= 390
    page.screenshot(path=str(ARTIFACTS / "modeler-bundle-narrow.png"), full_page=True)
    assert errors == []
    page.close()


def test_viewer_draws_count_badges_and_diff_markers(chromium: Any, backend: FakeBackend) -> None:
    page = chromium.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{backend.url}/overview")
    badges = page.locator('.djs-overlays[data-container-id="investigate"] .weijian-counts')
    expect(badges.locator(".weijian-count-running")).to_have_text("7")
    expect(badges.locator(".weijian-count-incidents")).to_have_text("2")
    only_running = page.locator('.djs-overlays[data-container-id="register_lead"] .weijian-counts span')
    expect(only_running).to_have_count(1)
    expect(page.locator('.djs-element.weijian-added[data-element-id="prepare_filing"]')).to_have_count(1)
    expect(page.locator('.djs-element.weijian-changed[data-element-id="approve_filing"]')).to_have_count(1)
    expect(page.locator('.djs-element.weijian-highlight[data-element-id="register_lead"]')).to_have_count(1)
    expect(page.locator(".bjs-powered-by")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "modeler-viewer.png"))
    assert errors == []
    page.close()

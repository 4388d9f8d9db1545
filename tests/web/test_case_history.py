"""The case page's history by stage (issue 15 item 10): a closed penalty case's events grouped under
its human steps, finished stages folded, every audit action and element shown as words, and no
action written anywhere in the code base without a label (an AST walk of every audit call)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from lxml import html as lxml_html
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from engine.dbconnect import make_engine
from engine.models import AuditEvent
from engine.settings import Settings
from tests.web import closed_case
from tests.web.conftest import Browser, actor, make_incident, ready_task
from web.audit_labels import ACTIONS, action_text
from web.i18n import domain_po, has_domain_translation

ROOT = Path(__file__).resolve().parents[2]
IDENTIFIER = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")  # an internal name such as business_key_set


@pytest.fixture(scope="module")
def cases(_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> closed_case.CaseDatabase:
    return closed_case.build(_sqlite_template, tmp_path_factory.mktemp("case-history"))


@pytest.fixture(scope="module")
def case_app(cases: closed_case.CaseDatabase, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    from celery import current_app as current_celery

    from integrations.celery_app import celery_app
    from web.app import create_app
    from web.extensions import db

    previous = current_celery._get_current_object()
    app = create_app(Settings(database_url=cases.url), {
        "TESTING": True, "UPLOAD_DIR": str(tmp_path_factory.mktemp("uploads"))})
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    (previous if previous is not None else celery_app).set_current()


def page_of(app: Flask, instance_id: str, login: str = "officer1", lang: str | None = None) -> Any:
    b = Browser(app.test_client())
    assert b.login(login).status_code == 302
    if lang:
        assert b.post("/lang", {"lang": lang, "next": "/inbox"}).status_code == 302
    response = b.get(f"/cases/{instance_id}")
    assert response.status_code == 200
    return lxml_html.fromstring(response.get_data(as_text=True))


def stages(doc: Any) -> list[dict[str, Any]]:
    return [{"key": d.get("data-stage"), "open": d.get("open") is not None,
             "name": d.xpath("string(.//summary/span[@class='stage-name'])").strip(),
             "summary": " ".join(d.xpath("string(./summary)").split()),
             "events": [" ".join(li.xpath("string(./div[@class='what'])").split()) for li in d.xpath(".//li")
                        if "event" in li.get("class", "").split()]}
            for d in doc.xpath("//div[contains(@class, 'history')]/details")]


def events_in(url: str, instance_id: str) -> int:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return session.scalar(select(func.count()).select_from(AuditEvent)
                                  .where(AuditEvent.instance_id == instance_id)) or 0
    finally:
        engine.dispose()


def test_a_closed_case_shows_its_history_by_stage_every_stage_folded(
        case_app: Flask, cases: closed_case.CaseDatabase) -> None:
    found = stages(page_of(case_app, cases.closed))
    names = [s["name"] for s in found]
    assert names[:4] == ["启动案件", "案源登记", "立案报告", "立案审批"]
    assert names[-3:] == ["执行登记", "结案报告", "结案审批"]
    assert {"调查取证", "合议意见", "送达事先告知书", "送达行政处罚决定书"} <= set(names)
    assert not [s["name"] for s in found if s["open"]]  # closed: every stage folded
    # every event once, in chain order, each under one stage whose summary counts it
    assert sum(len(s["events"]) for s in found) == events_in(cases.url, cases.closed) > 40
    for stage in found:
        assert f"{len(stage['events'])}条记录" in stage["summary"], stage["summary"]
        assert re.search(r"2025-09-01 \d\d:\d\d", stage["summary"]), stage["summary"]
    # the head's approval set off the case number and the filing report: they sit in its stage, as words
    approval = found[names.index("立案审批")]["events"]
    assert approval[0].startswith("完成任务 · 立案审批")
    assert any(e.startswith("登记案件编号 · 宝卫医罚〔2025〕") for e in approval), approval
    assert any(e.startswith("后台处理完成 · 生成立案报告") for e in approval), approval
    assert found[-1]["events"][-1].startswith("案件办结")
    # no internal action or element name is left on the page's history
    raw = {m for s in found for e in s["events"] for m in IDENTIFIER.findall(e)}
    assert not raw, raw


def test_a_running_case_opens_only_the_stage_it_stands_in(case_app: Flask, cases: closed_case.CaseDatabase) -> None:
    found = stages(page_of(case_app, cases.running))
    assert [s["name"] for s in found if s["open"]] == [found[-1]["name"]] == ["承办人回避声明"]
    assert "当前" in found[-1]["summary"]
    assert all("当前" not in s["summary"] for s in found[:-1])


def test_the_history_speaks_english_when_chosen(case_app: Flask, cases: closed_case.CaseDatabase) -> None:
    found = stages(page_of(case_app, cases.closed, lang="en"))
    names = [s["name"] for s in found]
    assert "Filing approval" in names, names
    approval = next(s for s in found if s["key"] == "approve_filing")["events"]
    assert any(e.startswith("Case number assigned · ") for e in approval), approval
    assert not [n for n in names if re.search(r"[\u4e00-\u9fff]", n)], names


def test_a_finished_stage_with_an_incident_stays_open(app: Flask, session: Session, as_user: Any) -> None:
    from engine import complete_task, resolve_incident

    instance_id, job_id = make_incident(session)
    resolve_incident(session, job_id, actor(session, "admin"), {"ok": True}, "服务恢复后人工补录结果")
    session.commit()
    complete_task(session, ready_task(session, instance_id).id, actor(session, "officer.a"), {})
    session.commit()
    response = as_user("officer.a").get(f"/cases/{instance_id}")
    found = stages(lxml_html.fromstring(response.get_data(as_text=True)))
    assert [(s["name"], s["open"]) for s in found] == [("启动案件", True), ("核对结果", False)]
    assert "异常" in found[0]["summary"]
    assert any(e.startswith("人工处理异常 · 调用服务") for e in found[0]["events"]), found[0]["events"]


def test_the_closed_case_page_costs_no_query_per_event(case_app: Flask, cases: closed_case.CaseDatabase) -> None:
    """Twenty more events on the closed case: its page needs the same statements (element names
    come from the cached spec, stages from the events already read). Runs last on the module's
    database: the extra events are comments, which every other test here tolerates."""
    from engine import audit
    from engine.models import ProcessInstance
    from web.extensions import db

    b = Browser(case_app.test_client())
    b.login("officer1")
    with case_app.app_context():
        bind = db.engine

    def statements() -> list[str]:
        seen: list[str] = []

        def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            seen.append(statement)

        event.listen(bind, "before_cursor_execute", count)
        try:
            assert b.get(f"/cases/{cases.closed}").status_code == 200
        finally:
            event.remove(bind, "before_cursor_execute", count)
        return seen

    b.get(f"/cases/{cases.closed}")  # warm: spec parsed, catalogs read
    before = statements()
    engine = make_engine(cases.url)
    with Session(engine) as session:
        instance = session.get(ProcessInstance, cases.closed)
        for n in range(20):
            audit.append(session, "officer1", "case_comment", instance=instance, data={"n": n})
        session.commit()
    engine.dispose()
    after = statements()
    assert len(after) == len(before), [s.split("WHERE")[0][:80] for s in after]
    assert not [s for s in after if "engine_outbox" in s]  # a completed case has no open incident to look up


# -- every action written has a label ---------------------------------------------------------

WRITERS: dict[tuple[str | None, str | None], int] = {
    ("audit", "append"): 2, (None, "audit_append"): 2, ("audit", "instance_event"): 2, (None, "instance_event"): 2,
    ("cmd", "record"): 1}
"""The calls that write an audit event, and the position of their action argument."""
SINKS = {("engine/audit.py", "append"), ("engine/runtime.py", "save"), ("processes/rule_store.py", "set_rule"),
         ("processes/rule_store.py", "reset_rule")}
"""The generic writers themselves: they pass on an action their callers chose."""
CHOSEN = {(None, "RuleStore"): ("changed_action", "reset_action")}
"""Constructors that take the actions their object writes later (as keyword literals)."""
SOURCES = ("engine", "processes", "web", "integrations", "signing", "forms")


def _callee(node: ast.Call) -> tuple[str | None, str | None]:
    f = node.func
    if isinstance(f, ast.Name):
        return None, f.id
    if isinstance(f, ast.Attribute):
        return (f.value.id if isinstance(f.value, ast.Name) else None), f.attr
    return None, None


def _literals(expr: ast.expr) -> set[str] | None:
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return {expr.value}
    if isinstance(expr, ast.IfExp):
        body, orelse = _literals(expr.body), _literals(expr.orelse)
        return None if body is None or orelse is None else body | orelse
    return None


def written_actions() -> tuple[dict[str, str], list[str]]:
    """Every action string passed to an audit writer: (action -> first place), unresolved places.

    An action held in a parameter is followed to the calls of that function in the same module
    (``_change_assignee(..., "task_claimed", ...)``, ``_audit("user_created", ...)``)."""
    found: dict[str, str] = {}
    unresolved: list[str] = []
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            tree = ast.parse(path.read_text(encoding="utf-8"))
            enclosing: dict[ast.AST, ast.FunctionDef | ast.AsyncFunctionDef] = {}
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    for sub in ast.walk(node):  # outer functions first: the innermost one wins
                        if sub is not node:
                            enclosing[sub] = node
            todo: list[tuple[ast.Call, int, str]] = [
                (n, WRITERS[_callee(n)], "action") for n in ast.walk(tree)
                if isinstance(n, ast.Call) and _callee(n) in WRITERS]
            todo += [(n, 99, keyword) for n in ast.walk(tree) if isinstance(n, ast.Call) and _callee(n) in CHOSEN
                     for keyword in CHOSEN[_callee(n)]]
            followed: set[str] = set()
            while todo:
                call, index, keyword = todo.pop()
                arg = call.args[index] if len(call.args) > index else next(
                    (k.value for k in call.keywords if k.arg == keyword), None)
                values = _literals(arg) if arg is not None else None
                if values is not None:
                    for value in values:
                        found.setdefault(value, f"{rel}:{call.lineno}")
                    continue
                fn = enclosing.get(call)
                if fn is not None and (rel, fn.name) in SINKS:
                    continue
                params = [a.arg for a in fn.args.args] if fn is not None else []
                keywords = [a.arg for a in fn.args.kwonlyargs] if fn is not None else []
                if fn is not None and isinstance(arg, ast.Name) and arg.id in params + keywords:
                    callers = [c for c in ast.walk(tree) if isinstance(c, ast.Call) and _callee(c)[1] == fn.name]
                    position = params.index(arg.id) if arg.id in params else len(params) + 99  # keyword-only
                    if callers and fn.name not in followed:
                        followed.add(fn.name)
                        todo.extend((c, position, arg.id) for c in callers)
                        continue
                    if callers:
                        continue
                unresolved.append(f"{rel}:{call.lineno} {ast.unparse(arg) if arg is not None else '?'}")
    return found, unresolved


def test_every_audit_action_written_anywhere_has_a_label_in_both_languages() -> None:
    found, unresolved = written_actions()
    assert not unresolved, ("an audit action the scan cannot read (pass a literal, or a parameter of a "
                            f"function called with literals in the same module): {unresolved}")
    assert {"business_key_set", "task_due_changed", "instance_repaired", "task_follow_up_set",
            "service_task_completed", "case_comment", "inspection_draw_committed",
            "complaint_rule_changed", "inspection_rule_reset"} <= set(found)
    missing = {action: where for action, where in found.items() if action not in ACTIONS}
    assert not missing, f"add a label to web/audit_labels.py ACTIONS for: {missing}"
    english = [label for label in ACTIONS.values() if not has_domain_translation(label)]
    assert not english, f"add these to {domain_po('en')}, then run `weijian i18n compile`: {english}"


def test_an_unknown_action_still_reads_as_words() -> None:
    assert action_text("seal_rotated") == "seal rotated"
    assert action_text("business_key_set") == "登记案件编号"

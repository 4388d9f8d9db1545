"""Chinese by default, English when a person switches: forms, penalty pages, task names, API errors.

Domain text is Chinese at its source and looked up in ``web/translations/en/LC_MESSAGES/domain.po``
(``web.i18n.domain_text``). The completeness tests below fail when a form field, a choice or a
validation message is added without its English, naming what to add.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from marshmallow import Schema
from marshmallow import fields as mfields
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.models import AuditEvent
from forms import describe, registered_forms
from processes.penalty.forms import FORMS
from tests.web.conftest import Browser
from tests.web.penalty_flow import case_of, form_data, ready_tasks, setup_penalty, who
from web.app import load_form_modules
from web.i18n import domain_catalog, domain_po, domain_text, has_domain_translation

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u3400-\u9fff]")
TASK_RE = re.compile(r"/tasks/([0-9a-f-]{36})")
MESSAGE_CALLS = {"ValidationError", "fail", "_require_when", "InvalidData", "PermissionDenied", "DirectoryError",
                 "DayLineError"}
"""Calls whose Chinese arguments are messages a person reads (field errors, rule refusals, engine
and directory refusals, calendar lines)."""
MESSAGE_MODULES = ("forms/fields.py", "forms/registry.py", "forms/lead.py", "processes/penalty/forms.py",
                   "processes/penalty/formfields.py", "processes/penalty/checks.py",
                   "processes/penalty/checks_decision.py", "processes/penalty/checks_execution.py",
                   "processes/penalty/checks_endings.py", "processes/penalty/forms_endings.py",
                   "processes/penalty/forms_service.py", "processes/penalty/forms_enforcement.py",
                   "processes/penalty/checks_enforcement.py", "processes/penalty/forms_summary.py",
                   "processes/penalty/checks_summary.py", "processes/penalty/forms_hearing.py",
                   "processes/penalty/instalments.py", "processes/penalty/service.py",
                   "processes/penalty/reporting.py", "processes/penalty/checks_discussion.py",
                   "processes/penalty/forms_discussion.py", "processes/penalty/filing.py",
                   "engine/calendar_admin.py", "web/calendar_input.py")


# -- completeness ------------------------------------------------------------------------------

def _field_texts(f: Any) -> Iterator[str]:
    """Every label, help, choice and error message a field (and what it nests) can show."""
    meta = f.metadata
    for key in ("label", "x-label", "title", "help", "x-help", "description"):
        if isinstance(meta.get(key), str):
            yield meta[key]
    choices = meta.get("choices")
    if isinstance(choices, dict):
        yield from (str(v) for v in choices.values())
    for item in meta.get("x-choices") or []:
        yield str(item["label"])
    yield from (m for m in (f.error_messages or {}).values() if isinstance(m, str))
    for validator in getattr(f, "validators", []):
        if isinstance(getattr(validator, "error", None), str):
            yield validator.error
    if isinstance(f, mfields.List):
        yield from _field_texts(f.inner)
    if isinstance(f, mfields.Nested) and isinstance(f.schema, Schema):
        for inner in f.schema.fields.values():
            yield from _field_texts(inner)


def _form_texts() -> dict[str, set[str]]:
    load_form_modules()
    schemas = {form.key: (form.title, form.schema) for form in registered_forms()}
    schemas.update({key: (schemas.get(key, (key, schema))[0], schema) for key, schema in FORMS.items()})
    found: dict[str, set[str]] = {}
    for key, (title, schema) in schemas.items():
        texts = {title}
        for spec in describe(schema):
            texts.update([spec.label, spec.help, *(label for _value, label in spec.choices)])
        for f in schema().fields.values():
            texts.update(_field_texts(f))
        for text in texts:
            if text and CJK.search(text):
                found.setdefault(text, set()).add(key)
    return found


def test_every_form_label_help_choice_and_field_message_has_english() -> None:
    texts = _form_texts()
    assert len(texts) > 200  # every registered form was walked, the penalty ones included
    missing = {text: sorted(keys) for text, keys in texts.items() if not has_domain_translation(text)}
    assert not missing, (f"add these to {domain_po('en')} (msgid = the Chinese, msgstr = English), "
                         f"then run `weijian i18n compile`: {missing}")


def _template(node: ast.expr) -> str | None:
    """A literal message as a catalog pattern: f-string values become ``{}``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)  # type: ignore[misc]
    return None


def _messages(path: Path) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        if name in MESSAGE_CALLS:
            roots: list[ast.AST] = [*node.args, *(k.value for k in node.keywords)]
        else:
            roots = [k.value for k in node.keywords if k.arg == "error"]
        seen: set[int] = set()
        for root in roots:
            for sub in ast.walk(root):
                if isinstance(sub, ast.JoinedStr):
                    seen.update(id(v) for v in sub.values)
                text = _template(sub) if isinstance(sub, ast.expr) and id(sub) not in seen else None
                if text and CJK.search(text):
                    yield sub.lineno, text  # type: ignore[attr-defined]


def test_every_rule_and_validation_message_has_english() -> None:
    catalog = domain_catalog("en")
    assert catalog is not None
    placeholder = re.compile(r"\{\w+\}")
    known = set(catalog.exact) | {placeholder.sub("{}", regex.pattern) for regex, _target in catalog.patterns}
    patterns = {placeholder.sub("{}", source) for source in _sources()}
    missing = []
    for module in MESSAGE_MODULES:
        for line, text in _messages(ROOT / module):
            if text not in known and text not in patterns:
                missing.append(f"{module}:{line} {text}")
    assert not missing, (f"add these messages to {domain_po('en')} (values as named placeholders, "
                         f"e.g. 不能超过{{n}}个字), then run `weijian i18n compile`: {missing}")


def _sources() -> list[str]:
    from babel.messages.pofile import read_po

    with domain_po("en").open("rb") as fh:
        return [str(m.id) for m in read_po(fh) if m.id]


def test_domain_text_translates_made_messages_and_falls_back_to_chinese() -> None:
    assert domain_text("不能超过200个字", "en") == "At most 200 characters"
    assert domain_text("第2期：应包含缴款日期（due_on）和金额（amount）", "en").startswith("Instalment 2:")
    assert domain_text("当事人应在2025年10月31日前提出（收到告知书之日起5个工作日内），已逾期的视为放弃", "en") \
        .startswith("The party had to respond by 2025-10-31")
    assert domain_text("罚款、警告", "en") == "Fine, Warning"
    assert domain_text("宝卫医罚〔2026〕1号：案件尚未结案，没有第二次报告（结案后）", "en") == (
        "宝卫医罚〔2026〕1号: the case is not closed yet, so there is no “Second report (after closing)” to record")
    assert domain_text("没有英文的任务名", "en") == "没有英文的任务名"  # no machine-made names
    assert domain_text("案源登记", "zh") == "案源登记"
    assert domain_text("案源登记") == "案源登记"  # outside a request: Chinese (services, documents)


# -- pages and API in English ------------------------------------------------------------------

@pytest.fixture
def penalty_db(app: Flask, session: Session, monkeypatch: pytest.MonkeyPatch) -> Session:
    monkeypatch.setenv("WEIJIAN_PENALTY_PDF", "0")
    setup_penalty(session)
    session.commit()
    return session


def _english(as_user: Callable[[str], Browser], login: str) -> Browser:
    """A person who switched the UI to English, as the language menu does."""
    b = as_user(login)
    b.get("/inbox")
    assert b.post("/lang", {"lang": "en", "next": "/inbox"}).status_code == 302
    return b


def _start_lead(b: Browser) -> tuple[str, Any]:
    b.get("/penalty/new")
    response = b.post("/penalty/new", {"procedure": "ordinary"})
    assert response.status_code == 302, response.get_data(as_text=True)
    found = TASK_RE.search(response.headers["Location"])
    assert found
    return found.group(1), response


def _post_task(b: Browser, task_id: str, data: dict[str, Any]) -> Any:
    b.get(f"/tasks/{task_id}")
    return b.post(f"/tasks/{task_id}", data, content_type="multipart/form-data")


def _instance(session: Session, task_id: str) -> str:
    from engine.models import HumanTask

    task = session.get(HumanTask, task_id)
    assert task is not None
    return task.instance_id


def _file(as_user: Callable[[str], Browser], session: Session, instance_id: str) -> None:
    """Drive the case through its forms (in Chinese) until it is filed and under investigation."""
    browsers: dict[str, Browser] = {}
    for _ in range(20):
        tasks = ready_tasks(session, instance_id)
        if any(t.task_name == "investigate" for t in tasks):
            return
        task = tasks[0]
        login = who(task)
        b = browsers.setdefault(login, as_user(login))
        response = _post_task(b, task.id, form_data(session, task))
        assert response.status_code == 302, (task.task_name, response.get_data(as_text=True)[-2000:])
    raise AssertionError("the case was never filed")


def test_penalty_task_and_case_pages_follow_the_chosen_language(
        penalty_db: Session, as_user: Callable[[str], Browser]) -> None:
    en = _english(as_user, "officer.a")
    task_id, _response = _start_lead(en)
    assert "The lead is registered" in en.get("/inbox").get_data(as_text=True)  # the flash, in English
    page = en.get(f"/tasks/{task_id}").get_data(as_text=True)
    for text in ("Lead registration", "Record the lead&#39;s source", "Case number", "(not filed yet)",
                 "Party (entity name or person&#39;s name)", "Kind of party", "Legal person or other organisation",
                 "Source of the case", "Supervisory inspection", "Medical care", "Date of the violation"):
        assert text in page, text
    for text in ("当事人类型", "法人或者其他组织", "案件来源", "案件编号", "登记案源来源"):
        assert text not in page, text

    zh = as_user("officer.a")  # another session: the default language
    page = zh.get(f"/tasks/{task_id}").get_data(as_text=True)
    for text in ("案源登记", "当事人类型", "法人或者其他组织", "案件来源", "监督检查", "案件编号", "（尚未立案）"):
        assert text in page, text
    assert "Kind of party" not in page and "Legal person or other organisation" not in page

    instance_id = _instance(penalty_db, task_id)
    _file(as_user, penalty_db, instance_id)
    case_number = case_of(penalty_db, instance_id).case_number
    assert case_number
    page = en.get(f"/cases/{instance_id}").get_data(as_text=True)
    for text in ("Administrative penalty case", "Case status", "Filed", "Ordinary procedure", "Decision due",
                 "Administrative penalty (ordinary procedure)", "Investigation and evidence", "Filing report",
                 "Task completed", "Enforcement documents", "New lead", "Case cards", case_number):
        assert text in page, text
    for text in ("行政处罚案件", "案件状态", "已立案", "一般程序", "调查取证", "完成任务", "执法文书", "新建案源"):
        assert text not in page, text
    page = zh.get(f"/cases/{instance_id}").get_data(as_text=True)
    for text in ("行政处罚案件", "案件状态", "已立案", "一般程序", "调查取证", "完成任务", "执法文书", "新建案源",
                 case_number):
        assert text in page, text


def test_an_invalid_post_in_english_gets_english_errors_keeps_input_and_writes_nothing(
        penalty_db: Session, as_user: Callable[[str], Browser]) -> None:
    en = _english(as_user, "officer.a")
    task_id, _response = _start_lead(en)
    instance_id = _instance(penalty_db, task_id)
    events = penalty_db.scalar(select(func.count()).select_from(AuditEvent)
                               .where(AuditEvent.instance_id == instance_id))
    data = form_data(penalty_db, ready_tasks(penalty_db, instance_id)[0])
    data.update(credit_code="91310113MA1GKX5Y3X", suspected_violation="", accepted_on="2000-01-01")
    response = _post_task(en, task_id, data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "The unified social credit code is not valid" in page
    assert "This field is required" in page
    assert "Please correct the marked fields." in page
    assert 'value="何康宁"' in page and 'value="91310113MA1GKX5Y3X"' in page  # the input is kept
    assert "统一社会信用代码不正确" not in page and "此项必填" not in page
    penalty_db.expire_all()
    assert penalty_db.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.instance_id == instance_id)) == events
    assert case_of(penalty_db, instance_id).status == "lead"


def test_the_api_speaks_english_when_asked_and_keeps_its_error_codes(
        penalty_db: Session, as_user: Callable[[str], Browser]) -> None:
    zh = as_user("officer.a")
    task_id, _response = _start_lead(zh)
    instance_id = _instance(penalty_db, task_id)
    zh.get("/inbox")  # the CSRF token for the session-authenticated API
    english = {"Accept-Language": "en-GB,en;q=0.9"}
    bad = {"data": {"source": "nowhere", "credit_code": "91310113MA1GKX5Y3X"}}
    response = zh.api("POST", f"/api/v1/tasks/{task_id}/complete", json=bad, headers=english)
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "invalid_data"
    assert body["errors"]["source"] == ["Choose from the list"]
    response = zh.api("POST", f"/api/v1/tasks/{task_id}/complete", json=bad)
    assert response.get_json()["code"] == "invalid_data"
    assert response.get_json()["errors"]["source"] == ["请从列表中选择"]  # no header: Chinese

    detail = zh.api("GET", f"/api/v1/tasks/{task_id}", headers=english).get_json()
    assert detail["title"] == "Lead registration"
    fields = {f["name"]: f for f in detail["form"]["fields"]}
    assert fields["party_type"]["label"] == "Kind of party"
    assert ["organisation", "Legal person or other organisation"] in fields["party_type"]["choices"]

    en = _english(as_user, "officer.a")  # the switch in the UI applies to the API too
    en.get("/inbox")
    response = en.api("POST", f"/api/v1/tasks/{task_id}/complete", json=bad)
    assert response.status_code == 422 and response.get_json()["code"] == "invalid_data"
    assert response.get_json()["errors"]["credit_code"] == [
        "The unified social credit code is not valid (18 characters, check character does not match)"]
    penalty_db.expire_all()
    assert case_of(penalty_db, instance_id).status == "lead"

    openapi = json.dumps(zh.api("GET", "/api/v1/openapi.json", headers=english).get_json(), ensure_ascii=False)
    assert "案源来源" in openapi  # the OpenAPI document keeps the Chinese source text


# -- the rules pages: notes of rules.toml and of the DMN tables --------------------------------

RULE_PACKAGES = ("penalty", "complaints", "inspections")


def _rule_notes() -> dict[str, str]:
    """Every note the rules pages show (text -> where): each rules.toml section's introduction and
    entry's comment after its label, and each penalty DMN table's name, note, columns and rows."""
    from processes.penalty.dmn_tables import read_table
    from processes.rule_catalogue import catalogue

    found: dict[str, str] = {}
    for package in RULE_PACKAGES:
        path = ROOT / "processes" / package / "rules.toml"
        for section in catalogue(path):
            if section.comment:
                found[section.comment] = f"{path.relative_to(ROOT)} [{section.name}]"
            found.update({e.comment: f"{path.relative_to(ROOT)} {e.key}" for e in section.entries if e.comment})
    for path in sorted((ROOT / "processes" / "penalty").glob("*.dmn")):
        table = read_table(path.read_bytes(), path.name)
        texts = [table.name, table.comment, *(c.label for c in [*table.inputs, *table.outputs]),
                 *(r.description for r in table.rows)]
        found.update({text: path.name for text in texts if text})
    return found


def test_every_rules_note_is_chinese_and_has_english() -> None:
    notes = _rule_notes()
    assert len(notes) > 120  # the three rules files and the three tables were read
    not_chinese = {text: where for text, where in notes.items() if not CJK.search(text)}
    assert not not_chinese, f"write these notes in Chinese (the English goes to the catalog): {not_chinese}"
    missing = {text: where for text, where in notes.items() if not has_domain_translation(text)}
    assert not missing, (f"add English for these notes to {domain_po('en')} or the package's catalog "
                         f"(msgid = the Chinese note, msgstr = English), then `weijian i18n compile`: {missing}")


def test_rules_pages_show_notes_in_the_chosen_language_and_keep_the_labels(
        as_user: Callable[[str], Browser]) -> None:
    zh, en = as_user("admin"), _english(as_user, "admin")
    page = zh.get("/admin/rules").get_data(as_text=True)
    for text in ("[law]</span> 第六十七条：自收到行政处罚决定书之日起十五日内缴纳罚款", "[unconfirmed]</span>",
                 "[practice]</span>", "法律未规定具体数额，以下为本地取值"):
        assert text in page, text
    assert "Art. 67" not in page and "pay within 15 days" not in page
    page = en.get("/admin/rules").get_data(as_text=True)
    assert "[law]</span> Art. 67: pay within 15 days of receiving the decision" in page
    assert "[unconfirmed]</span>" in page and "自收到行政处罚决定书之日起十五日内" not in page
    edit = en.get("/admin/rules/periods.payment_days").get_data(as_text=True)
    assert "[law]</span> Art. 67: pay within 15 days" in edit
    page = zh.get("/admin/complaints/rules").get_data(as_text=True)
    assert "[law/unconfirmed]</span> 《信访工作条例》第三十二条：十五日内书面告知信访人是否受理" in page
    assert "tell the petitioner" in en.get("/admin/complaints/rules").get_data(as_text=True)
    table = zh.get("/admin/decision-tables/hearing_right.dmn").get_data(as_text=True)
    assert "《行政处罚法》第六十三条规定了“较大数额罚款”" in table and "First matching row wins" not in table
    table = en.get("/admin/decision-tables/hearing_right.dmn").get_data(as_text=True)
    assert "First matching row wins" in table and "Right to a hearing" in table and "第六十三条规定了" not in table


def test_the_request_s_catalog_looked_up_once_answers_as_flask_babel_does_in_each_language(app: Flask) -> None:
    """``web.filters.request_translations`` keeps the request's catalog for its templates; each
    request in either language gets the same text as Flask-Babel's own lookup, and a request in
    the other language does not see the first one's catalog."""
    from babel.messages.pofile import read_po
    from flask import session
    from flask_babel import get_translations

    from web.filters import request_translations

    with (Path(__file__).resolve().parents[2] / "web/translations/zh_Hans_CN/LC_MESSAGES/messages.po").open("rb") as fh:
        ids = [m.id for m in read_po(fh) if m.id and isinstance(m.id, str)]
    assert len(ids) > 100
    seen = {}
    for lang in ("zh_CN", "en", "zh_CN"):
        with app.test_request_context("/public/"):
            session["lang"] = lang
            kept = [request_translations().ugettext(i) for i in ids]
            assert kept == [get_translations().ugettext(i) for i in ids]
            assert (request_translations().upgettext("case list", "Cases")
                    == get_translations().upgettext("case list", "Cases"))
            assert (request_translations().ungettext("%(num)s event", "%(num)s events", 2)
                    == get_translations().ungettext("%(num)s event", "%(num)s events", 2))
            seen.setdefault(lang, kept)
            assert kept == seen[lang]
    assert seen["zh_CN"] != seen["en"] and "信用代码" in seen["zh_CN"][ids.index("Credit code")]
    english, chinese = app.test_client(), app.test_client()
    with english.session_transaction() as browser:
        browser["lang"] = "en"
    for _round in range(2):  # alternating requests each render in their own language
        assert "This site asks for no sign-in" in english.get("/public/").get_data(as_text=True)
        assert "本网站无需登录" in chinese.get("/public/").get_data(as_text=True)

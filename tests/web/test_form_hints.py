"""Browser-side hints that mirror the server's schema (maxlength, min, max), and errors that are
sentences naming the row and the field, never a serialised structure (issue 15, items 1 and 5)."""

from __future__ import annotations

import re

from flask import Flask
from marshmallow import Schema, fields, validate
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.clock import china_today
from engine.models import AuditEvent
from forms import describe, get_form
from forms.fields import DateField
from tests.web.penalty_flow import form_data, ready_tasks
from tests.web.test_penalty import Office, instance_of, office, penalty_db, run_until, start_lead  # noqa: F401


def _specs(key: str) -> dict[str, dict[str, object]]:
    from web.app import load_form_modules

    load_form_modules()
    form = get_form(key)
    assert form is not None
    return {spec.name: spec.attrs for spec in describe(form.schema)}


def test_describe_reads_the_limits_of_plain_marshmallow_fields() -> None:
    lead = _specs("penalty.lead")
    assert lead["entity_name"]["maxlength"] == 300 and lead["suspected_violation"]["maxlength"] == 4000
    assert lead["legal_representative"]["maxlength"] == 100

    class Sample(Schema):
        note = fields.String(validate=[validate.Length(max=80), validate.Length(min=1, max=50)])
        count = fields.Integer(validate=validate.Range(min=1, max=9))
        ratio = fields.Float(validate=validate.Range(min=0, max=1, max_inclusive=False))
        seen_on = DateField("发现日期", not_future=True)
        due_on = DateField("期限")

    specs = {s.name: s.attrs for s in describe(Sample)}
    assert specs["note"]["maxlength"] == 50  # the strictest of the two
    assert (specs["count"]["minimum"], specs["count"]["maximum"]) == (1, 9)
    assert specs["ratio"]["minimum"] == 0 and "maximum" not in specs["ratio"]  # 1 itself is refused
    assert specs["seen_on"]["maximum"] == china_today().isoformat() and "maximum" not in specs["due_on"]


def test_a_penalty_task_page_shows_the_length_limits_before_submitting(penalty_db: Session,  # noqa: F811
                                                                       office: Office) -> None:  # noqa: F811
    task_id = start_lead(office)
    page = office("officer.a").get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'maxlength=""' not in page
    textareas = re.findall(r"<textarea[^>]*>", page)
    assert textareas and all(re.search(r'maxlength="\d+"', t) for t in textareas), textareas
    entity_name = re.search(r'<input[^>]*name="entity_name"[^>]*>', page)
    assert entity_name and 'maxlength="300"' in entity_name.group(0)
    summary = re.search(r'<textarea[^>]*name="suspected_violation"[^>]*>', page)
    assert summary and 'maxlength="4000"' in summary.group(0)


def test_bad_rows_of_people_come_back_as_sentences_over_the_api(penalty_db: Session,  # noqa: F811
                                                                office: Office) -> None:  # noqa: F811
    instance_id = instance_of(penalty_db, start_lead(office))
    run_until(office, penalty_db, instance_id, "prepare_filing")
    task = next(t for t in ready_tasks(penalty_db, instance_id) if t.task_name == "prepare_filing")
    events = penalty_db.scalar(select(func.count()).select_from(AuditEvent)
                               .where(AuditEvent.instance_id == instance_id))
    b = office("officer.a")
    b.get("/inbox")  # a page with the CSRF token for the session-authenticated API
    data = {**form_data(penalty_db, task), "officers": [{"user_id": "officer.a"}, "officer.b", {"name": "x" * 60}]}
    response = b.api("POST", f"/api/v1/tasks/{task.id}/complete", json={"data": data})
    assert response.status_code == 422, response.get_json()
    officers = response.get_json()["errors"]["officers"]
    assert "第1行 姓名：此项必填" in officers and "第1行 执法证号：此项必填" in officers
    assert "第2行：格式不正确" in officers and "第3行 姓名：不能超过50个字" in officers
    assert not any("{" in m or "Invalid" in m for m in officers)
    english = b.api("POST", f"/api/v1/tasks/{task.id}/complete", json={"data": data},
                    headers={"Accept-Language": "en-GB,en;q=0.9"}).get_json()["errors"]["officers"]
    assert "Row 1, Name: This field is required" in english and "Row 2: Invalid format" in english
    penalty_db.expire_all()
    assert penalty_db.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.instance_id == instance_id)) == events
    assert [t.task_name for t in ready_tasks(penalty_db, instance_id)] == ["prepare_filing"]


def test_the_form_macro_draws_min_max_and_maxlength_only_when_the_schema_has_them(app: Flask) -> None:
    from flask import get_template_attribute

    class Sample(Schema):
        count = fields.Integer(validate=validate.Range(min=1, max=9), metadata={"label": "份数"})
        seen_on = DateField("发现日期", not_future=True)
        due_on = DateField("期限")
        note = fields.String(metadata={"label": "备注", "widget": "textarea"})

    with app.test_request_context("/"):
        render_field = get_template_attribute("forms/macros.html", "render_field")
        html = {s.name: str(render_field(s, None, {}, {})) for s in describe(Sample)}
    count = re.search(r"<input[^>]*>", html["count"])
    assert count and 'type="number"' in count.group(0) and 'min="1"' in count.group(0) \
        and 'max="9"' in count.group(0)
    seen_on = re.search(r"<input[^>]*>", html["seen_on"])
    assert seen_on and f'max="{china_today().isoformat()}"' in seen_on.group(0)  # no future day to pick
    due_on = re.search(r"<input[^>]*>", html["due_on"])
    assert due_on and " max=" not in due_on.group(0) and " min=" not in due_on.group(0)
    assert "<textarea" in html["note"] and "maxlength" not in html["note"]  # no limit, no empty attribute


def test_every_penalty_date_the_checks_refuse_in_the_future_offers_no_future_day() -> None:
    """The case's checks refuse a day after today for these fields (``fail("decided_on", "…不能晚于今天")``);
    their date pickers stop at today, so an officer is not offered a day the check then refuses."""
    from pathlib import Path

    from processes.penalty import FORMS

    checks = "".join(p.read_text(encoding="utf-8") for p in
                     (Path(__file__).resolve().parents[2] / "processes" / "penalty").glob("checks*.py"))
    refused = set(re.findall(r'fail\("([a-z_]+)", "[^"]*不能晚于今天"\)', checks))
    refused |= set(re.findall(r'problems\["([a-z_]+)"\] = \["[^"]*不能晚于今天"\]', checks))
    refused |= {"occurred_on", "paid_on"}  # the execution check's date_field: every payment goes through it
    assert {"decided_on", "served_on", "discovered_on", "occurred_on", "handed_in_on"} <= refused
    today = china_today().isoformat()
    missing = [f"{key}.{spec.name}" for key, schema in FORMS.items() for spec in describe(schema)
               if spec.name in refused and spec.widget == "date" and spec.attrs.get("maximum") != today]
    assert not missing, f"date fields the checks refuse in the future but the picker offers: {missing}"

"""The admin pages and API for the penalty rules and decision tables: admins only, validation
with clear messages (nothing written on error), [law] confirmation, reset, and a DMN edit that
deploys a new penalty version."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import latest_definition, verify_audit
from engine.models import AuditEvent
from processes.penalty.rule_overrides import DmnOverride, RuleOverride, effective_rules

RULE_PAGES = ("/admin/rules", "/admin/rules/periods.payment_days", "/admin/decision-tables",
              "/admin/decision-tables/hearing_right.dmn")
API = "/api/v1/admin/penalty"


def _count(session: Session, model: Any) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_only_admins_see_and_change_the_rules(as_user: Any, browser: Any) -> None:
    admin, officer = as_user("admin"), as_user("officer.a")
    for url in RULE_PAGES:
        assert admin.get(url).status_code == 200, url
        assert officer.get(url).status_code == 403, url
        assert browser.get(url).status_code == 302, url  # anonymous: to the sign-in page
    assert officer.post("/admin/rules/periods.filing_workdays", {"value": "9", "reason": "x"}).status_code == 403
    assert officer.post("/admin/decision-tables/hearing_right.dmn/reset", {"reason": "x"}).status_code == 403
    assert officer.api("GET", f"{API}/rules").status_code == 403
    assert officer.api("PUT", f"{API}/rules/periods.filing_workdays", {"value": 9, "reason": "x"}).status_code == 403
    assert browser.client.get(f"{API}/rules").status_code == 401
    assert admin.get("/admin/rules/no.such").status_code == 404
    assert admin.get("/admin/decision-tables/rules.toml").status_code == 404


def test_the_rules_page_shows_sections_comments_and_values(as_user: Any) -> None:
    page = as_user("admin").get("/admin/rules").get_data(as_text=True)
    for expected in ("[periods]", "payment_days", "[law]", "[practice]", "第六十七条", "[categories]", "医",
                     "{unit}卫{category}罚〔{year}〕{n}号"):
        assert expected in page, expected


def test_changing_a_law_value_needs_confirmation(as_user: Any, session: Session) -> None:
    admin = as_user("admin")
    page = admin.get("/admin/rules/periods.payment_days").get_data(as_text=True)
    assert "confirm_law" in page
    refused = admin.post("/admin/rules/periods.payment_days", {"value": "30", "reason": "新规定"})
    assert refused.status_code == 422 and "确认后再保存" in refused.get_data(as_text=True)
    assert _count(session, RuleOverride) == 0
    done = admin.post("/admin/rules/periods.payment_days", {"value": "30", "reason": "新规定", "confirm_law": "1"})
    assert done.status_code == 302
    assert effective_rules(session).periods.payment_days == 30
    assert "30" in admin.get("/admin/rules/periods.payment_days").get_data(as_text=True)
    reset = admin.post("/admin/rules/periods.payment_days/reset", {"reason": "恢复"})
    assert reset.status_code == 302
    session.expire_all()
    assert effective_rules(session).periods.payment_days == 15
    assert {e.action for e in session.scalars(select(AuditEvent))} >= {"penalty_rule_changed", "penalty_rule_reset"}
    assert verify_audit(session).ok


def test_invalid_values_show_the_reason_and_write_nothing(as_user: Any, session: Session) -> None:
    admin = as_user("admin")
    for key, value, message in (("periods.filing_workdays", "-3", "不小于1"),
                                ("categories.medical", "医疗", "一个汉字"),
                                ("numbering.prior_notice", "{unit}卫罚告{n}号", "{year}"),
                                ("periods.filing_workdays", "9", "理由")):
        reason = "" if message == "理由" else "测试"
        response = admin.post(f"/admin/rules/{key}", {"value": value, "reason": reason})
        assert response.status_code == 422, key
        assert message in response.get_data(as_text=True), key
    assert _count(session, RuleOverride) == 0


def test_editing_a_hearing_threshold_on_the_page_deploys_a_new_version(as_user: Any, session: Session) -> None:
    admin = as_user("admin")
    page = admin.get("/admin/decision-tables/hearing_right.dmn").get_data(as_text=True)
    assert "&gt;= 100000" in page and "lead[&#39;party_type&#39;]" in page
    form = _form_of(session)
    row = next(i for i in range(form["rows"]) if form[f"in-{i}-1"] == "'organisation'" and form[f"in-{i}-2"] != "-")
    bad = admin.post("/admin/decision-tables/hearing_right.dmn", {**form, f"in-{row}-2": ">= lots", "reason": "测试"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and f"第{row + 1}行" in text and "未知的名称" in text and "&gt;= lots" in text
    assert _count(session, DmnOverride) == 0
    good = admin.post("/admin/decision-tables/hearing_right.dmn",
                      {**form, f"in-{row}-2": ">= 50000", "reason": "本省标准", "desc-new": "新增一行",
                       "out-new-0": "True", "out-new-1": "'测试'", "in-new-0": "'closure' in ?"})
    assert good.status_code == 302, good.get_data(as_text=True)
    session.expire_all()
    definition = latest_definition(session, "penalty_ordinary")
    source = definition.sources["hearing_right.dmn"]
    assert "&gt;= 50000" in source and "新增一行" in source
    assert source.index("新增一行") < source.index("其他情形")  # inserted before the catch-all row
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "penalty_dmn_changed"))
    assert event is not None and len(event.data["old_sha256"]) == 64 and event.data["versions"]
    listing = admin.get("/admin/decision-tables").get_data(as_text=True)
    assert "admin" in listing
    assert verify_audit(session).ok


def _form_of(session: Session) -> dict[str, Any]:
    from processes.penalty.dmn_overrides import current_table

    table, _row = current_table(session, "hearing_right.dmn")
    form: dict[str, Any] = {"rows": len(table.rows)}
    for i, r in enumerate(table.rows):
        form[f"pos-{i}"] = str(i + 1)
        form[f"desc-{i}"] = r.description
        form.update({f"in-{i}-{j}": v for j, v in enumerate(r.inputs)})
        form.update({f"out-{i}-{j}": v for j, v in enumerate(r.outputs)})
    form["pos-new"] = str(len(table.rows))
    return form


def test_the_api_reads_and_changes_rules_with_the_same_validation(as_user: Any, session: Session) -> None:
    admin = as_user("admin")
    rules = admin.api("GET", f"{API}/rules").json
    payment = next(r for r in rules if r["key"] == "periods.payment_days")
    assert payment["law"] is True and payment["value"] == 15 and "第六十七条" in payment["comment"]
    refused = admin.api("PUT", f"{API}/rules/periods.payment_days", {"value": 20, "reason": "x"})
    assert refused.status_code == 422 and refused.json["code"] == "law_confirmation_required"
    bad = admin.api("PUT", f"{API}/rules/surcharge.daily_rate", {"value": "2", "reason": "x", "confirm_law": True})
    assert bad.status_code == 422 and bad.json["key"] == "surcharge.daily_rate" and "不大于1" in bad.json["message"]
    assert _count(session, RuleOverride) == 0
    ok = admin.api("PUT", f"{API}/rules/periods.filing_workdays", {"value": 10, "reason": "本省"})
    assert ok.status_code == 200 and ok.json["value"] == 10 and ok.json["history"][0]["reason"] == "本省"
    assert admin.api("GET", f"{API}/rules/no.such").status_code == 404


def test_the_api_edits_decision_table_rows(as_user: Any, session: Session) -> None:
    admin = as_user("admin")
    table = admin.api("GET", f"{API}/decision-tables/hearing_right.dmn").json
    assert [c["type_ref"] for c in table["inputs"]] == ["string", "string", "number", "number"]
    rows = table["rows"]
    index = next(i for i, r in enumerate(rows) if r["inputs"][1] == "'person'" and r["inputs"][2] != "-")
    rows[index]["inputs"][2] = ">= 5000"
    bad_rows = [dict(r) for r in rows]
    bad_rows[index] = {**rows[index], "outputs": ["maybe", "''"]}
    bad = admin.api("PUT", f"{API}/decision-tables/hearing_right.dmn", {"rows": bad_rows, "reason": "x"})
    assert bad.status_code == 422 and bad.json["row"] == index + 1 and bad.json["column"] == "有听证权利"
    assert _count(session, DmnOverride) == 0
    ok = admin.api("PUT", f"{API}/decision-tables/hearing_right.dmn", {"rows": rows, "reason": "本省"})
    assert ok.status_code == 200 and ok.json["changed"] is True
    assert ok.json["rows"][index]["inputs"][2] == ">= 5000"
    assert len(admin.api("GET", f"{API}/decision-tables").json) == 3
    reset = admin.api("POST", f"{API}/decision-tables/hearing_right.dmn/reset", {"reason": "恢复"})
    assert reset.status_code == 200 and reset.json["changed"] is False
    assert verify_audit(session).ok

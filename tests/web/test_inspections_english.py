"""English for the double-random inspections' labels: every status, kind, grade, result and
handling the staff and public pages print through ``|dt`` has an English entry, and a visitor who
chose English reads the public results, entity page, plans and draw check in English."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from processes.inspections import plans
from processes.inspections.disclosure import CREDIT_GRADES, RESULT_NAMES
from tests.web.inspections_flow import approved_plan, finish, inspections_of, setup_inspections, submit
from web.i18n import domain_text, has_domain_translation
from web.packages.inspections import DRAW_STATUSES, INSPECTION_STATUSES, STATUSES

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_inspection_label_has_english() -> None:
    labels = [*RESULT_NAMES.values(), *CREDIT_GRADES.values(), *STATUSES.values(), *DRAW_STATUSES.values(),
              *INSPECTION_STATUSES.values(), *plans.KINDS.values(), *plans.SEED_SOURCES.values(),
              "未评定", "正常经营", "停业", "已关闭", "固定名单", "未发现问题", "责令限期改正",
              "责令改正，复查已整改到位", "责令改正，逾期未整改，已移送立案查处", "涉嫌违法，已移送立案查处",
              "检查对象已关闭或者查无此户"]
    missing = [label for label in labels if not has_domain_translation(label)]
    assert missing == []


def test_messages_with_values_come_out_in_english() -> None:
    assert domain_text("责令限期改正（期限至2026-03-02）", "en") == "Ordered to correct by 2026-03-02"
    assert domain_text("重新计算抽中的5个检查对象与记录完全一致", "en") == (
        "The 5 entities drawn, recomputed, are identical to the record")
    assert domain_text("第2个：记录为 A1，重新计算为 B2", "en") == "No. 2: recorded A1, recomputed B2"
    assert domain_text("3户", "en") == "3 entities"


@pytest.fixture
def english_visitor(app: Flask, session: Session) -> tuple[Any, dict[str, Any]]:
    setup_inspections(session)
    plan, draw = approved_plan(session)
    rows = inspections_of(session, draw)
    finish(session, rows[0], "compliant")
    assert rows[0].instance_id
    submit(session, rows[0].instance_id, "inspections.disclose", "head.a", {"content_checked": True})  # 公示
    finish(session, rows[1], "correction")
    client = app.test_client()
    with client.session_transaction() as state:
        state["lang"] = "en"
    return client, {"plan": plan, "draw": draw, "rows": inspections_of(session, draw)}


def test_a_visitor_who_chose_english_reads_the_public_pages_in_english(
        english_visitor: tuple[Any, dict[str, Any]]) -> None:
    client, data = english_visitor
    results = client.get("/public/inspections/results").get_data(as_text=True)
    assert "No problem found" in results and "Ordered to correct by" in results
    assert "未发现问题" not in results and "责令限期改正" not in results
    entity = client.get(f"/public/inspections/entities/{data['rows'][0].credit_code}").get_data(as_text=True)
    assert "Operating" in entity and "正常经营" not in entity
    plans_page = client.get("/public/inspections/plans").get_data(as_text=True)
    assert "Annual inspection plan" in plans_page or "Quarterly inspection plan" in plans_page
    assert "年度抽查计划" not in plans_page and "季度抽查计划" not in plans_page
    verify = client.get(f"/public/inspections/draws/{data['draw'].id}/verify").get_data(as_text=True)
    assert "Entity snapshot hash matches" in verify and "identical to the record" in verify
    checked = re.search(r'<ul id="checked">(.*?)</ul>', verify, re.S)
    assert checked is not None and not CJK.search(checked.group(1))

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


# -- issue 12: the package's own refusals, import columns and row errors, draw parameters ---------

MESSAGE_MODULES = ("processes/inspections/directories.py", "processes/inspections/scheduling.py",
                   "processes/inspections/imports.py", "processes/inspections/national.py")


def _row_error_texts(path: Any) -> list[str]:
    """The Chinese message of every ``RowError(...)`` and ``DirectoryError(...)`` in a module, values
    in f-strings replaced by a sample (the catalog has them as named placeholders)."""
    import ast

    texts = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        name = getattr(node, "func", None)
        called = getattr(name, "id", None) or getattr(name, "attr", None)
        if not isinstance(node, ast.Call) or called not in ("RowError", "DirectoryError"):
            continue
        for arg in node.args:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and CJK.search(arg.value):
                texts.append(arg.value)
            elif isinstance(arg, ast.JoinedStr):
                texts.append("".join(str(v.value) if isinstance(v, ast.Constant) else "7" for v in arg.values))
    return [t for t in texts if CJK.search(t)]


def test_every_refusal_and_row_error_of_the_package_has_english() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    texts = [t for module in MESSAGE_MODULES for t in _row_error_texts(root / module)]
    assert len(texts) > 30  # the four modules were read
    missing = [t for t in texts if CJK.search(domain_text(t, "en"))]
    assert missing == [], f"add these to processes/inspections/domain.en.po: {missing}"


def test_import_columns_directories_and_draw_parameters_have_english() -> None:
    from processes.inspections import draw_record, imports, national

    labels = [*imports.ALIASES, *imports.KINDS.values(), *national.COLUMN_NAMES.values(),
              *draw_record.PARAMETER_LABELS.values()]
    missing = [label for label in labels if not has_domain_translation(label)]
    assert missing == []
    assert domain_text("第3行（统一社会信用代码）：统一社会信用代码不在检查对象名录库中：X", "en") == (
        "Row 3 (Unified social credit code): The unified social credit code is not in the entity directory: X")
    assert domain_text("周期计划的模板计划尚未经负责人批准发布", "en") == (
        "The recurring plan's template has not yet been approved and published by the head")


def test_a_refused_import_reads_in_english_for_a_head_who_chose_english(app: Flask, session: Session,
                                                                        as_user: Any) -> None:
    import io

    setup_inspections(session)
    head = as_user("head.a")
    head.get("/inbox")
    assert head.post("/lang", {"lang": "en", "next": "/inbox"}).status_code == 302
    bad = ("统一社会信用代码,经营状态,信用等级,投诉举报次数\n"
           "91610302MA7Q00001X,active,A,-1\n"
           "91610302MA7Q00002X,active,E,0\n").encode()
    refused = head.post("/inspections/directories/entities", {"file": (io.BytesIO(bad), "entities.csv")},
                        content_type="multipart/form-data")
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'id="import-errors"' in text
    errors = text.split('id="import-errors"', 1)[1].split("</table>", 1)[0]
    assert not CJK.search(errors), errors
    assert "<td>2</td><td>number of complaints</td>" in errors
    assert "The number of complaints must be a whole number of at least 0" in errors
    assert "The directory has no entity with the unified social credit code 91610302MA7Q00002X" in errors

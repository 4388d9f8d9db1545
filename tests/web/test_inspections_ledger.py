"""Issue 12: a head opens a risk entry from the unit's own assessment and closes one (销账) with a
reason, and records an inspector's leave, on pages; each change is audited by the services, and a
refusal comes back with its sentence and writes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.models import AuditEvent
from processes.inspections.models import EntityProfile, InspectorLeave, RiskEntry
from tests.web.inspections_flow import SHOPS, setup_inspections


@pytest.fixture
def world(app: Flask, session: Session) -> Session:
    setup_inspections(session)
    return session


def _count(session: Session, model: Any) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def _audited(session: Session, action: str) -> list[dict[str, Any]]:
    return [e.data for e in session.scalars(select(AuditEvent).where(AuditEvent.action == action))]


def test_a_head_opens_a_risk_entry_by_assessment_and_closes_it_with_a_reason(world: Session, as_user: Any) -> None:
    head, shop = as_user("head.a"), SHOPS[0]
    page = head.get(f"/inspections/risk?credit_code={shop}").get_data(as_text=True)
    assert "渭滨区第1洗浴中心" in page and 'id="risk-open"' in page
    for form, sentence in (({"level": "high", "reason": " "}, "请填写风险事由"),
                           ({"level": "extreme", "reason": "夜间营业"}, "风险等级应为常态或者高风险")):
        refused = head.post("/inspections/risk", {"credit_code": shop, **form})
        assert refused.status_code == 422 and sentence in refused.get_data(as_text=True)
    assert _count(world, RiskEntry) == 0

    opened = head.post("/inspections/risk",
                       {"credit_code": shop, "level": "high", "reason": "年度风险评估：夜间营业、客流大"})
    assert opened.status_code == 302
    entry = world.scalar(select(RiskEntry))
    assert entry is not None and entry.source == "assessment" and entry.level == "high" and entry.opened_by == "head.a"
    assert world.get(EntityProfile, shop).risk_level == "high"  # type: ignore[union-attr]  # the draw's weight
    assert [d["source"] for d in _audited(world, "inspection_risk_opened")] == ["assessment"]
    listing = head.get(f"/inspections/risk?credit_code={shop}").get_data(as_text=True)
    assert "年度风险评估：夜间营业、客流大" in listing and "风险评估" in listing and "高风险" in listing

    no_reason = head.post(f"/inspections/risk/{entry.id}/close", {"reason": ""})
    assert no_reason.status_code == 422 and "请填写销账理由" in no_reason.get_data(as_text=True)
    world.expire_all()
    assert world.get(RiskEntry, entry.id).closed_on is None  # type: ignore[union-attr]
    closed = head.post(f"/inspections/risk/{entry.id}/close", {"reason": "复查整改到位"})
    assert closed.status_code == 302
    world.expire_all()
    row = world.get(RiskEntry, entry.id)
    assert row is not None and row.closed_by == "head.a" and row.close_reason == "复查整改到位"
    assert world.get(EntityProfile, shop).risk_level == "normal"  # type: ignore[union-attr]
    assert len(_audited(world, "inspection_risk_closed")) == 1
    again = head.post(f"/inspections/risk/{entry.id}/close", {"reason": "再次销账"})
    assert again.status_code == 422 and "该风险记录已销账" in again.get_data(as_text=True)


def test_the_ledger_is_for_heads_of_the_entitys_unit(world: Session, as_user: Any) -> None:
    shop = SHOPS[1]
    assert as_user("officer.a").get("/inspections/risk").status_code == 403
    other = as_user("head.b")
    assert "本单位" in other.get(f"/inspections/risk?credit_code={shop}").get_data(as_text=True)
    refused = other.post("/inspections/risk", {"credit_code": shop, "level": "high", "reason": "评估"})
    assert refused.status_code == 422 and _count(world, RiskEntry) == 0
    as_user("head.a").post("/inspections/risk", {"credit_code": shop, "level": "normal", "reason": "评估"})
    entry = world.scalar(select(RiskEntry))
    assert entry is not None
    assert other.post(f"/inspections/risk/{entry.id}/close", {"reason": "越权"}).status_code == 404
    assert as_user("officer.a").post(f"/inspections/risk/{entry.id}/close", {"reason": "x"}).status_code == 403


def test_a_head_records_an_inspectors_leave_and_bad_dates_are_refused(world: Session, as_user: Any) -> None:
    head = as_user("head.a")
    page = head.get("/inspections/leave").get_data(as_text=True)
    assert 'value="officer.a2"' in page and 'id="leave-form"' in page
    for form, sentence in (({"starts_on": "2026-13-01", "ends_on": "2026-12-20"}, "请按 YYYY-MM-DD 格式填写日期"),
                           ({"starts_on": "2026-12-20", "ends_on": "2026-12-10"}, "结束日期不能早于开始日期"),
                           ({"starts_on": "2026-12-10", "ends_on": "2026-12-20", "reason": "长" * 201},
                            "请假事由不超过200个字符")):
        refused = head.post("/inspections/leave", {"user_id": "officer.a2", "reason": "", **form})
        assert refused.status_code == 422 and sentence in refused.get_data(as_text=True), sentence
    assert _count(world, InspectorLeave) == 0
    assert as_user("head.b").post("/inspections/leave", {"user_id": "officer.a2", "starts_on": "2026-12-10",
                                                         "ends_on": "2026-12-20"}).status_code == 422
    assert as_user("officer.a").get("/inspections/leave").status_code == 403
    assert _count(world, InspectorLeave) == 0

    done = head.post("/inspections/leave", {"user_id": "officer.a2", "starts_on": "2099-12-10",
                                            "ends_on": "2099-12-20", "reason": "年休假"})
    assert done.status_code == 302
    leave = world.scalar(select(InspectorLeave))
    assert leave is not None and (leave.user_id, str(leave.starts_on), leave.reason) == (
        "officer.a2", "2099-12-10", "年休假")
    assert [(d["user_id"], d["from"], d["to"]) for d in _audited(world, "inspection_inspector_leave")] == [
        ("officer.a2", "2099-12-10", "2099-12-20")]
    assert "2099-12-20" in head.get("/inspections/leave").get_data(as_text=True)

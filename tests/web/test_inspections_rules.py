"""Issue 12: the inspection rules (rules.toml) are edited by administrators on the same pages as
the penalty and complaint rules, with each value's label and source; the next plan and its draw
use the changed value, and bad input is refused with a sentence and writes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.models import AuditEvent
from processes.inspections import plans
from processes.inspections.models import Draw, InspectionRuleOverride, Plan
from tests.web.conftest import actor
from tests.web.inspections_flow import draft_plan, inspections_of, setup_inspections, submit


@pytest.fixture
def world(app: Flask, session: Session) -> Session:
    setup_inspections(session)
    return session


def _overrides(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(InspectionRuleOverride)) or 0


def _drawn_by_default_ratio(session: Session) -> int:
    """A plan of the bathhouses without its own ratio, approved by the head: how many were drawn."""
    plan = draft_plan(session)
    plan.params = {**plan.params, "categories": {"public_place": {}}}
    session.commit()
    plans.submit_plan(session, actor(session, "officer.a"), plan.id)
    session.commit()
    assert plan.instance_id
    submit(session, plan.instance_id, "inspections.approve_plan", "head.a", {"approved": True, "opinion": "同意"})
    draw = session.scalar(select(Draw).where(Draw.plan_id == plan.id))
    assert draw is not None and draw.status == "drawn"
    return len(inspections_of(session, draw))


def test_the_rules_page_shows_every_value_with_its_label_and_source(world: Session, as_user: Any) -> None:
    admin = as_user("admin")
    page = admin.get("/admin/inspections/rules").get_data(as_text=True)
    for key in ("sampling.default_ratio", "exclusions.recent_months", "disclosure.result_workdays",
                "disclosure.decision_withdraw_workdays", "risk.penalty_decided", "schedule.grace_hours"):
        assert key in page
    assert "[practice]" in page and "[law]" in page and "[unconfirmed]" in page
    assert "国发〔2019〕5号" in page and "第四十八条第二款" in page  # the sources are shown
    assert "/admin/inspections/rules" in admin.get("/admin/").get_data(as_text=True)
    assert as_user("head.a").get("/admin/inspections/rules").status_code == 403
    assert as_user("officer.a").get("/admin/inspections/rules/sampling.default_ratio").status_code == 403


def test_a_changed_default_ratio_reaches_the_next_plan_and_its_draw(world: Session, as_user: Any) -> None:
    assert _drawn_by_default_ratio(world) == 1  # 5 % of six bathhouses, at least one
    admin = as_user("admin")
    done = admin.post("/admin/inspections/rules/sampling.default_ratio",
                      {"value": "0.5", "reason": "市局2027年计划要求"})
    assert done.status_code == 302
    world.expire_all()
    earlier = world.scalar(select(Plan).order_by(Plan.created_at))
    assert earlier is not None and earlier.params["default_ratio"] == "0.05"  # an old plan keeps its copy
    assert world.scalar(select(AuditEvent).where(AuditEvent.action == "inspection_rule_changed")) is not None
    assert _drawn_by_default_ratio(world) == 3  # half of six
    newer = world.scalar(select(Plan).order_by(Plan.created_at.desc()))
    assert newer is not None and newer.params["default_ratio"] == "0.5"
    history = admin.get("/admin/inspections/rules/sampling.default_ratio").get_data(as_text=True)
    assert "市局2027年计划要求" in history
    reset = admin.post("/admin/inspections/rules/sampling.default_ratio/reset", {"reason": "恢复默认"})
    assert reset.status_code == 302
    draft = draft_plan(world)
    assert draft.params["default_ratio"] == "0.05"


def test_a_changed_disclosure_period_is_what_the_public_page_states(world: Session, as_user: Any,
                                                                   browser: Any) -> None:
    admin = as_user("admin")
    law = admin.post("/admin/inspections/rules/disclosure.decision_withdraw_workdays", {"value": "5", "reason": "试试"})
    assert law.status_code == 422 and "法定期限" in law.get_data(as_text=True)  # [law] needs the confirmation
    assert _overrides(world) == 0
    done = admin.post("/admin/inspections/rules/disclosure.decision_workdays", {"value": "20", "reason": "本省规定"})
    assert done.status_code == 302
    public = browser.get("/public/inspections/decisions").get_data(as_text=True)
    assert "作出处罚决定之日起20个工作日内公开" in public
    assert _overrides(world) == 1


@pytest.mark.parametrize(("key", "value", "reason", "sentence"), [
    ("sampling.default_ratio", "1.5", "理由", "比率应大于0且不大于1"),
    ("sampling.default_ratio", "五成", "理由", "应为数字"),
    ("exclusions.recent_months", "-3", "理由", "应为不小于0的整数"),
    ("matching.min_specialists", "5", "理由", "与其他配置冲突"),
    ("risk.penalty_decided", "critical", "理由", "与其他配置冲突"),
    ("disclosure.result_workdays", "15", "", "请写明修改理由"),
])
def test_bad_values_are_refused_with_a_sentence_and_nothing_is_written(
        world: Session, as_user: Any, key: str, value: str, reason: str, sentence: str) -> None:
    refused = as_user("admin").post(f"/admin/inspections/rules/{key}", {"value": value, "reason": reason})
    assert refused.status_code == 422 and sentence in refused.get_data(as_text=True)
    assert _overrides(world) == 0
    assert draft_plan(world).params["default_ratio"] == "0.05"


def test_a_penalty_leads_risk_entry_takes_its_level_from_the_rules(world: Session) -> None:
    """Issue 12: the risk entry opened with a penalty lead from an inspection is at the level of
    ``[risk] inspection_penalty_lead`` in force (high by default), not a fixed one."""
    from processes.inspections import rule_store
    from processes.inspections.models import EntityProfile, RiskEntry
    from tests.web.inspections_flow import approved_plan, finish

    _plan, draw = approved_plan(world)
    first, second = inspections_of(world, draw)
    finish(world, first, "violation")
    world.expire_all()
    entry = world.scalar(select(RiskEntry).where(RiskEntry.source_ref == first.id))
    assert entry is not None and entry.source == "inspection" and entry.level == "high"
    assert world.get(EntityProfile, first.credit_code).risk_level == "high"  # type: ignore[union-attr]

    rule_store.set_rule(world, "admin", "risk.inspection_penalty_lead", "normal", "本地风险分级办法调整")
    world.commit()
    finish(world, second, "violation")
    world.expire_all()
    entry = world.scalar(select(RiskEntry).where(RiskEntry.source_ref == second.id))
    assert entry is not None and entry.level == "normal"
    assert world.get(EntityProfile, second.credit_code).risk_level == "normal"  # type: ignore[union-attr]
    with pytest.raises(rule_store.RuleValueError, match="与其他配置冲突"):
        rule_store.set_rule(world, "admin", "risk.inspection_penalty_lead", "severe", "试试")


def test_a_changed_longest_correction_period_binds_the_next_plans_inspections(world: Session, as_user: Any) -> None:
    """``[correction] max_days`` was never read (a fixed 90 days); a plan now copies it, so the
    on-site record of a plan made after an admin's change is held to the new limit."""
    from datetime import timedelta

    from marshmallow import ValidationError

    from engine.clock import china_today
    from tests.web.inspections_flow import NOTES, approved_plan

    assert as_user("admin").post("/admin/inspections/rules/correction.max_days",
                                 {"value": "30", "reason": "本局整改期限规定"}).status_code == 302
    plan, draw = approved_plan(world)
    assert plan.params["correction_max_days"] == 30
    row = inspections_of(world, draw)[0]
    assert row.instance_id
    for _user in list(row.inspectors):
        submit(world, row.instance_id, "inspections.declare", "", {"conflict": False})
    onsite = {"checked_on": china_today().isoformat(), "co_inspector_present": True, "findings": NOTES,
              "outcome": "correction", "representative": "signed", "nonconforming": "顾客用品用具清洗消毒"}
    with pytest.raises(ValidationError, match="整改期限不能超过检查之日起30日"):
        submit(world, row.instance_id, "inspections.onsite", "",
               {**onsite, "correction_due": (china_today() + timedelta(days=45)).isoformat()})
    world.rollback()
    submit(world, row.instance_id, "inspections.onsite", "",
           {**onsite, "correction_due": (china_today() + timedelta(days=30)).isoformat()})


def test_zero_is_offered_exactly_where_the_inspection_rules_take_it(world: Session) -> None:
    """0 means "off" for some whole numbers (no recent-inspection exclusion, no catch-up after a
    missed run): the rules page takes it there, because ``parse_rules`` does, and nowhere else."""
    from processes.inspections import rule_store
    from processes.inspections.rules import ZERO_MEANS_OFF, parse_rules
    from processes.rule_catalogue import RuleValueError

    takes_zero = set()
    for section in rule_store.sections():
        for item in section.entries:
            if item.kind != "int":
                continue
            raw = rule_store.effective_raw(world)
            raw[item.section][item.name] = 0
            try:
                parse_rules(raw)
            except (ValueError, TypeError, KeyError):
                continue
            takes_zero.add(item.key)
    assert takes_zero == ZERO_MEANS_OFF
    rule_store.set_rule(world, "admin", "exclusions.recent_months", "0", "本年度不排除近期已检查的对象")
    world.commit()
    assert rule_store.effective_rules(world).recent_months == 0
    with pytest.raises(RuleValueError, match="不小于1"):
        rule_store.set_rule(world, "admin", "exclusions.frequency_cap", "0", "试图取消频次上限")

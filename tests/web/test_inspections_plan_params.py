"""The new-plan page's scope (several units, each with the units below it) and the plan's own
weights (双随机, issue #12): what the planner picks is what the plan draws with, the head sees the
weights the plan set when approving, a wrong value or a unit outside is refused with nothing
written, and a draw made with the plan's weights re-verifies identically."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.clock import china_today
from processes.inspections import plans, verify_draw
from processes.inspections.models import Draw, Plan
from tests.web.conftest import CITY, COUNTY_A, COUNTY_B, actor
from tests.web.inspections_flow import SHOPS, draft_plan, ready, setup_inspections, submit


@pytest.fixture
def world(app: Flask, session: Session) -> Session:
    setup_inspections(session)
    return session


def _form(title: str, unit_id: str, **extra: Any) -> dict[str, Any]:
    today = china_today().isoformat()
    return {"title": title, "kind": "annual", "unit_id": unit_id, "window_start": today, "window_end": today,
            "categories": "public_place", **extra}


def _plans(world: Session) -> int:
    world.expire_all()
    return int(world.scalar(select(func.count()).select_from(Plan)) or 0)


def test_the_new_plan_page_offers_the_planners_units_as_a_searchable_multiple_choice(world: Session,
                                                                                    as_user: Any) -> None:
    page = as_user("officer.p").get("/inspections/plans/new").get_data(as_text=True)
    scope = page[page.index('<fieldset id="plan-scope"'):]
    scope = scope[:scope.index("</fieldset>")]
    assert "data-picker=" in scope and 'wbqwsjds' in scope  # 渭滨区卫生监督所: found by its pinyin initials
    assert scope.count('type="checkbox" name="scope"') == 4  # the province, the city and its two counties
    assert 'name="weight_credit_d"' in page and 'placeholder="3"' in page  # the rule in force, shown
    county = as_user("officer.a").get("/inspections/plans/new").get_data(as_text=True)
    assert f'name="scope" value="{COUNTY_A}"' in county and f'value="{COUNTY_B}"' not in county


def test_a_city_plan_over_two_counties_with_its_own_weights(world: Session, as_user: Any) -> None:
    planner = as_user("officer.p")
    form = _form("两区公共场所抽查", CITY, scope=[COUNTY_A, COUNTY_B], weight_credit_d="6", weight_risk_high="",
                 weight_credit_a="1")
    answer = planner.post("/inspections/plans/new", form)
    assert answer.status_code == 302, answer.get_data(as_text=True)[:3000]
    world.expire_all()
    plan = world.scalar(select(Plan).where(Plan.title == "两区公共场所抽查"))
    assert plan is not None and plan.unit_id == CITY
    assert plan.params["scope_units"] == sorted([COUNTY_A, COUNTY_B])  # not the city itself
    assert plan.params["weights"]["credit_d"] == 6 and plan.params["weights"]["risk_high"] == 3
    assert plan.params["weights_changed"] == ["credit_d"]  # credit_a=1 is the rule's own value
    page = planner.get(f"/inspections/plans/{plan.id}").get_data(as_text=True)
    assert "渭滨区卫生监督所、金台区卫生监督所" in page
    weights = page[page.index('id="plan-weights"'):]
    assert '<li class="weight-changed" data-weight="credit_d">信用等级D（严重失信）：×6 <strong class="weight-note">' \
           "（本计划自定）</strong>" in weights
    assert '<li data-weight="risk_high">风险等级“高风险”：×3</li>' in weights


@pytest.mark.parametrize(("field", "value", "message"), [
    ("weight_credit_d", "0", "权重“信用等级D（严重失信）”应为1到100之间的整数"),
    ("weight_credit_d", "101", "权重“信用等级D（严重失信）”应为1到100之间的整数"),
    ("weight_risk_high", "2.5", "权重“风险等级“高风险””应为1到100之间的整数"),
    ("weight_complaints_threshold", "很多", "权重“投诉数阈值（统计期内）”应为1到1000之间的整数"),
])
def test_a_wrong_weight_is_refused_beside_its_field_and_nothing_is_written(world: Session, as_user: Any,
                                                                          field: str, value: str, message: str) -> None:
    answer = as_user("officer.a").post("/inspections/plans/new", _form("权重有误的计划", COUNTY_A, **{field: value}))
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422 and message in html
    assert f'name="{field}" id="{field}" value="{value}"' in html  # what was typed comes back
    assert _plans(world) == 0


def test_a_unit_outside_the_scope_the_planner_may_plan_for_is_refused(world: Session, as_user: Any) -> None:
    other = as_user("officer.a").post("/inspections/plans/new", _form("越界的计划", COUNTY_A, scope=[COUNTY_B]))
    assert other.status_code == 422 and "抽查范围只能是本单位及其下级单位" in other.get_data(as_text=True)
    # the province's officer may see both counties, but a county's plan covers that county only
    sibling = as_user("officer.p").post("/inspections/plans/new", _form("越界的计划", COUNTY_A,
                                                                        scope=[COUNTY_A, COUNTY_B]))
    assert sibling.status_code == 422
    assert "抽查范围中的“金台区卫生监督所”不是制定计划的单位或者其下级单位" in sibling.get_data(as_text=True)
    assert _plans(world) == 0


def test_the_head_approves_the_plans_own_weights_and_its_draw_verifies(world: Session, as_user: Any) -> None:
    plan = draft_plan(world, 3, weights={"credit_d": 9, "credit_c": 4})
    plans.submit_plan(world, actor(world, "officer.a"), plan.id)
    world.commit()
    assert plan.instance_id
    task = ready(world, plan.instance_id, "inspections.approve_plan")[0]
    panel = as_user("head.a").get(f"/tasks/{task.id}").get_data(as_text=True)
    assert 'data-weight="credit_d">信用等级D（严重失信）：×9 <strong class="weight-note">（本计划自定）' in panel
    assert 'data-weight="credit_c">信用等级C（一般失信）：×4 <strong' in panel
    submit(world, plan.instance_id, "inspections.approve_plan", "head.a", {"approved": True, "opinion": "同意"})
    draw = world.scalar(select(Draw).where(Draw.plan_id == plan.id))
    assert draw is not None and draw.status == "drawn"
    assert draw.params["weights"]["credit_d"] == 9 and draw.params["weights_changed"] == ["credit_c", "credit_d"]
    assert verify_draw(world, draw.id).identical
    page = as_user("officer.a").get(f"/inspections/draws/{draw.id}/verify").get_data(as_text=True)
    assert draw.commitment_hash in page


def test_a_returned_plans_weights_change_and_a_blank_goes_back_to_the_rule(world: Session) -> None:
    plan = draft_plan(world, weights={"credit_d": 9})
    officer = actor(world, "officer.a")
    plans.update_plan(world, officer, plan.id, weights={"credit_d": "", "risk_high": 5})
    assert plan.params["weights"]["credit_d"] == 3 and plan.params["weights_changed"] == ["risk_high"]
    with pytest.raises(plans.DirectoryError, match="应为1到100之间的整数"):
        plans.update_plan(world, officer, plan.id, weights={"risk_high": True})
    assert plan.params["weights"]["risk_high"] == 5


def test_in_english_the_plan_page_names_the_weights_and_marks_the_plans_own(world: Session, as_user: Any) -> None:
    plan = draft_plan(world, weights={"credit_d": 9})
    officer = as_user("officer.a")
    assert officer.post("/lang", {"lang": "en", "next": "/inbox"}).status_code == 302
    page = officer.get(f"/inspections/plans/{plan.id}").get_data(as_text=True)
    assert 'data-weight="credit_d">credit grade D (严重失信)：×9 <strong class="weight-note">(set by this plan)' in page
    weight = officer.post("/inspections/plans/new", _form("x", COUNTY_A, weight_credit_d="0")).get_data(as_text=True)
    assert "The weight “credit grade D (严重失信)” must be a whole number from 1 to 100" in weight
    scope = officer.post("/inspections/plans/new", _form("x", COUNTY_A, scope=[COUNTY_B])).get_data(as_text=True)
    assert "The scope may only hold your unit and the units below it." in scope
    assert _plans(world) == 1


def test_a_national_task_takes_no_weights(world: Session, as_user: Any) -> None:
    answer = as_user("head.a").post("/inspections/plans/new", _form(
        "国家任务", COUNTY_A, kind="national", fixed_entities=SHOPS[0], weight_credit_d="5"))
    assert answer.status_code == 422
    assert "国家随机监督抽查任务的检查对象名单已给定，不按权重抽取" in answer.get_data(as_text=True)
    assert _plans(world) == 0

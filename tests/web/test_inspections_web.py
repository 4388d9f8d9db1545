"""The staff pages of double-random inspections: plans (list, detail with the draw, creation,
submission, recurrence), the approval panel on the generic task page, re-draws, verification,
schedules (run now, pause, resume) and directory imports, each with who may and bad input."""

from __future__ import annotations

import io
import re
import zlib
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.clock import china_today
from processes.inspections import scheduling
from processes.inspections.models import Draw, InspectionItem, Inspector, Plan, Schedule, ScheduleRun
from tests.web.conftest import COUNTY_A, actor
from tests.web.inspections_flow import approved_plan, draft_plan, inspections_of, ready, setup_inspections


@pytest.fixture
def world(app: Flask, session: Session) -> Session:
    setup_inspections(session)
    return session


def test_plan_pages_are_for_officers_and_heads_of_the_unit(world: Session, as_user: Any) -> None:
    plan = draft_plan(world)
    officer = as_user("officer.a")
    listing = officer.get("/inspections/plans")
    assert listing.status_code == 200 and plan.code in listing.get_data(as_text=True)
    assert 'id="nav-inspection-plans"' in listing.get_data(as_text=True)
    page = officer.get(f"/inspections/plans/{plan.id}").get_data(as_text=True)
    assert "草稿" in page and "公共场所：2户" in page
    assert as_user("reviewer.a").get("/inspections/plans").status_code == 403
    assert as_user("officer.b").get(f"/inspections/plans/{plan.id}").status_code == 404  # another county
    assert as_user("officer.a").get("/inspections/plans/nope").status_code == 404


def test_a_planner_creates_a_plan_and_bad_input_comes_back_beside_the_fields(world: Session, as_user: Any) -> None:
    officer = as_user("officer.a")
    assert officer.get("/inspections/plans/new").status_code == 200
    today = china_today()
    bad = officer.post("/inspections/plans/new", {"title": "", "kind": "annual", "unit_id": COUNTY_A,
                                                  "window_start": today.isoformat(), "window_end": "tomorrow",
                                                  "categories": "public_place"})
    assert bad.status_code == 422 and "请按 YYYY-MM-DD 格式填写日期" in bad.get_data(as_text=True)
    no_title = officer.post("/inspections/plans/new", {"title": "", "kind": "annual", "unit_id": COUNTY_A,
                                                       "window_start": today.isoformat(),
                                                       "window_end": today.isoformat(), "categories": "public_place"})
    assert no_title.status_code == 422 and "请填写计划名称" in no_title.get_data(as_text=True)
    other_unit = officer.post("/inspections/plans/new", {"title": "x", "kind": "annual", "unit_id": "610303",
                                                         "window_start": today.isoformat(),
                                                         "window_end": today.isoformat(),
                                                         "categories": "public_place"})
    assert other_unit.status_code == 422
    ok = officer.post("/inspections/plans/new", {
        "title": "公共场所抽查", "kind": "annual", "unit_id": COUNTY_A, "window_start": today.isoformat(),
        "window_end": today.isoformat(), "categories": "public_place", "percent_public_place": "10",
        "recent_months": "6"})
    assert ok.status_code == 302
    world.expire_all()
    plan = world.scalar(select(Plan).where(Plan.title == "公共场所抽查"))
    assert plan is not None and plan.status == "draft"
    assert plan.params["categories"] == {"public_place": {"ratio": "0.1"}} and plan.params["recent_months"] == 6
    assert world.scalar(select(Plan).where(Plan.title == "x")) is None


def test_submit_then_the_head_approves_on_the_task_page_with_the_plan_panel(world: Session, as_user: Any) -> None:
    plan = draft_plan(world)
    officer = as_user("officer.a")
    assert officer.post(f"/inspections/plans/{plan.id}/submit").status_code == 302
    world.expire_all()
    assert world.get(Plan, plan.id).status == "submitted"  # type: ignore[union-attr]
    again = officer.post(f"/inspections/plans/{plan.id}/submit", follow_redirects=True)
    assert "只有草稿状态的计划可以提交审批" in again.get_data(as_text=True)
    world.expire_all()
    instance_id = world.get(Plan, plan.id).instance_id  # type: ignore[union-attr]
    assert instance_id is not None
    task = ready(world, instance_id, "inspections.approve_plan")[0]
    head = as_user("head.a")
    page = head.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "inspection-panel" in page and plan.code in page and "公共场所" in page
    answer = head.post(f"/tasks/{task.id}", {"approved": "true", "opinion": "同意"})
    assert answer.status_code in (302, 303), answer.get_data(as_text=True)[:2000]
    world.expire_all()
    assert world.get(Plan, plan.id).status == "published"  # type: ignore[union-attr]
    draw = world.scalar(select(Draw).where(Draw.plan_id == plan.id))
    assert draw is not None and draw.status == "drawn"
    detail = officer.get(f"/inspections/plans/{plan.id}").get_data(as_text=True)
    assert draw.commitment_hash in detail and draw.snapshot_hash in detail and str(draw.seed) in detail
    rows = inspections_of(world, draw)
    assert len(rows) == 2 and all(r.entity_name in detail for r in rows)
    assert "张伟" in detail or "李娜" in detail or "赵磊" in detail  # the drawn pair by name (staff page)


def test_the_inspection_task_panel_shows_entity_items_and_inspectors(world: Session, as_user: Any) -> None:
    _plan, draw = approved_plan(world)
    row = inspections_of(world, draw)[0]
    task = ready(world, row.instance_id, "inspections.declare")[0]  # type: ignore[arg-type]
    page = as_user(task.assignee).get(f"/tasks/{task.id}").get_data(as_text=True)
    assert row.entity_name in page and row.credit_code in page and "顾客用品用具清洗消毒" in page
    case = as_user("head.a").get(f"/cases/{row.instance_id}").get_data(as_text=True)
    assert "inspection-panel" in case


def test_the_case_panel_opens_the_sealed_opinion_of_a_correction_for_staff_of_the_unit(
        world: Session, as_user: Any) -> None:
    """A 责令改正 issues a 卫生监督意见书: the inspection's case page links it, the file is the stored
    one (its SHA-256), and it names the inspectors, so another unit's staff do not get it."""
    import hashlib

    from processes.inspections.models import Inspection
    from tests.web.inspections_flow import finish

    _plan, draw = approved_plan(world)
    row = inspections_of(world, draw)[0]
    finish(world, row, "correction")
    world.expire_all()
    done = world.get(Inspection, row.id)
    assert done is not None and done.opinion_sha256
    case = as_user("head.a").get(f"/cases/{row.instance_id}").get_data(as_text=True)
    link = f"/inspections/results/{row.id}/opinion"
    assert link in case and done.opinion_sha256[:12] in case
    opinion = as_user("head.a").get(link)
    assert opinion.status_code == 200 and hashlib.sha256(opinion.get_data()).hexdigest() == done.opinion_sha256
    assert "责令" in opinion.get_data(as_text=True) or opinion.content_type == "application/pdf"
    assert as_user("head.b").get(link).status_code == 404  # another county's head
    missing = as_user("head.a").get(f"/inspections/results/{inspections_of(world, draw)[1].id}/opinion")
    assert missing.status_code == 404  # no opinion issued for that one


def test_verify_page_says_identical_and_names_a_tampered_snapshot(world: Session, as_user: Any) -> None:
    plan, draw = approved_plan(world)
    officer = as_user("officer.a")
    page = officer.get(f"/inspections/draws/{draw.id}/verify").get_data(as_text=True)
    assert "一致：按快照、随机种子和算法重新计算" in page and 'id="problems"' not in page
    raw = zlib.decompress(draw.snapshot).replace(b'"weight":1', b'"weight":9', 1)
    world.execute(update(Draw).where(Draw.id == draw.id).values(snapshot=zlib.compress(raw)))  # behind the model
    world.commit()
    tampered = officer.get(f"/inspections/draws/{draw.id}/verify").get_data(as_text=True)
    assert "entities_hash" in tampered and "id=\"problems\"" in tampered
    assert as_user("officer.b").get(f"/inspections/draws/{draw.id}/verify").status_code == 404
    assert officer.get("/inspections/draws/nope/verify").status_code == 404
    assert plan.code in page


def test_only_a_head_redraws_and_only_with_a_reason(world: Session, as_user: Any) -> None:
    plan, draw = approved_plan(world)
    assert as_user("officer.a").post(f"/inspections/draws/{draw.id}/redraw", {"reason": "x"}).status_code == 403
    head = as_user("head.a")
    empty = head.post(f"/inspections/draws/{draw.id}/redraw", {"reason": ""}, follow_redirects=True)
    assert "重新抽取须说明理由" in empty.get_data(as_text=True)
    assert head.post(f"/inspections/draws/{draw.id}/redraw", {"reason": "名录库有误，重新抽取"}).status_code == 302
    world.expire_all()
    draws = list(world.scalars(select(Draw).where(Draw.plan_id == plan.id).order_by(Draw.seq)))
    assert [d.status for d in draws] == ["superseded", "drawn"] and draws[1].reason == "名录库有误，重新抽取"
    page = head.get(f"/inspections/plans/{plan.id}").get_data(as_text=True)
    assert "已被重新抽取取代" in page and "名录库有误" in page


def test_schedules_run_now_once_pause_and_resume(world: Session, as_user: Any) -> None:
    template = draft_plan(world, kind="quarterly")
    officer = as_user("officer.a")
    made = officer.post(f"/inspections/plans/{template.id}/schedule",
                        {"name": "季度抽查", "recurrence": "every blue moon", "window_days": "30"},
                        follow_redirects=True)
    assert "周期设置不正确" in made.get_data(as_text=True)
    officer.post(f"/inspections/plans/{template.id}/schedule",
                 {"name": "季度抽查", "recurrence": "quarterly first-workday 08:00", "window_days": "30"})
    world.expire_all()
    schedule = world.scalar(select(Schedule))
    assert schedule is not None and world.get(Plan, template.id).schedule_id == schedule.id  # type: ignore[union-attr]
    listing = officer.get("/inspections/schedules").get_data(as_text=True)
    assert "季度抽查" in listing and "quarterly first-workday 08:00" in listing
    early = officer.post(f"/inspections/schedules/{schedule.id}/run", follow_redirects=True).get_data(as_text=True)
    assert "负责人批准计划后即抽取" in early and "已申请立即执行，待计划批准" in early  # requested, nothing drawn
    world.expire_all()
    requested = world.scalar(select(ScheduleRun).where(ScheduleRun.schedule_id == schedule.id))
    assert requested is not None and requested.status == "requested" and requested.draw_id is None
    again = officer.post(f"/inspections/schedules/{schedule.id}/run", follow_redirects=True)
    assert "期已申请立即执行" in again.get_data(as_text=True)
    from processes.inspections import plans

    plans.publish_plan(world, template.id, "head.a")  # the approval's service task: publish, then the request
    scheduling.run_requested(world, world.get_one(Plan, template.id))
    world.commit()
    world.expire_all()
    run = world.scalar(select(ScheduleRun).where(ScheduleRun.schedule_id == schedule.id))
    assert run is not None and run.status == "done" and run.trigger == "manual" and run.draw_id
    page = officer.get("/inspections/schedules").get_data(as_text=True)
    assert run.period in page and "已立即执行抽取" in page and "done (manual)" not in page
    twice = officer.post(f"/inspections/schedules/{schedule.id}/run", follow_redirects=True)
    assert "期已经执行" in twice.get_data(as_text=True)
    assert len(list(world.scalars(select(ScheduleRun)))) == 1
    officer.post(f"/inspections/schedules/{schedule.id}/pause")
    world.expire_all()
    assert world.get(Schedule, schedule.id).paused  # type: ignore[union-attr]
    assert "class=\"resume\"" in officer.get("/inspections/schedules").get_data(as_text=True)
    officer.post(f"/inspections/schedules/{schedule.id}/resume")
    world.expire_all()
    assert not world.get(Schedule, schedule.id).paused  # type: ignore[union-attr]
    assert as_user("reviewer.a").post(f"/inspections/schedules/{schedule.id}/pause").status_code == 403
    assert officer.post("/inspections/schedules/999/run").status_code == 404
    assert scheduling.statuses(world)[0].last_period == run.period


def _upload(browser: Any, kind: str, name: str, content: bytes) -> Any:
    return browser.post(f"/inspections/directories/{kind}", {"file": (io.BytesIO(content), name)},
                        content_type="multipart/form-data")


def test_imports_show_row_errors_and_write_nothing_then_import_a_good_file(world: Session, as_user: Any) -> None:
    head = as_user("head.a")
    assert head.get("/inspections/directories").status_code == 200
    assert as_user("officer.a").get("/inspections/directories/items").status_code == 403
    assert head.get("/inspections/directories/nothing").status_code == 404
    bad = ("事项编码,专业类别,抽查事项,检查依据,检查内容\n"
           "GG-101,public_place,游泳场所抽查,《公共场所卫生管理条例》,水质|救生\n"
           "GG-102,no_such_category,坏行,依据,内容\n"
           ",public_place,缺编码,依据,内容\n").encode()
    refused = _upload(head, "items", "items.csv", bad)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'id="import-errors"' in text
    assert re.search(r"<td>3</td><td>专业类别</td>", text) and re.search(r"<td>4</td><td>事项编码</td>", text)
    world.expire_all()
    assert world.scalar(select(InspectionItem).where(InspectionItem.code == "GG-101")) is None  # nothing written
    assert _upload(head, "items", "items.txt", b"x").status_code == 422
    assert _upload(head, "items", "items.xlsx", b"not a zip").status_code == 422
    good = ("事项编码,专业类别,抽查事项,检查依据,检查内容\n"
            "GG-101,public_place,游泳场所抽查,《公共场所卫生管理条例》,水质|救生\n").encode()
    assert _upload(head, "items", "items.csv", good).status_code == 302
    world.expire_all()
    item = world.scalar(select(InspectionItem).where(InspectionItem.code == "GG-101"))
    assert item is not None and item.checklist == ["水质", "救生"]
    roster = ("用户名,执法证号,有效期起,有效期止,专业特长\n"
              "officer.b,ZF-B,2025-01-01,2024-01-01,public_place\n").encode()
    assert _upload(head, "inspectors", "roster.csv", roster).status_code == 422
    world.expire_all()
    assert world.get(Inspector, "officer.b") is None


def test_nav_links_by_role(world: Session, as_user: Any) -> None:
    head = as_user("head.a").get("/inbox").get_data(as_text=True)
    assert 'id="nav-inspection-plans"' in head and 'id="nav-inspection-imports"' in head
    officer = as_user("officer.a").get("/inbox").get_data(as_text=True)
    assert 'id="nav-inspection-schedules"' in officer and 'id="nav-inspection-imports"' not in officer
    reviewer = as_user("reviewer.a").get("/inbox").get_data(as_text=True)
    assert 'id="nav-inspection-plans"' not in reviewer
    actor(world, "admin")

"""A national task (国家随机监督抽查任务) arrives with its fixed entity list: uploaded as CSV/XLSX on
the new-plan page, or posted by the sending system to ``/api/v1/inspections/national-tasks``. Every
wrong row (unknown credit code, a repeated row, a name or category that differs from the directory)
is reported at once and nothing is written; a good list becomes a draft plan whose list is locked:
the draw takes exactly those entities and only matches their inspectors. Also the other gap of the
same audit (issue 12) on the plan page: a witnessed plan's re-draw waits for its witness's task."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.models import AuditEvent
from processes import spreadsheet
from processes.directory.codes import make_credit_code
from processes.directory.models import User
from processes.inspections import plans, service
from processes.inspections.models import Inspection, Plan
from tests.web.conftest import COUNTY_A, actor
from tests.web.inspections_flow import SHOP_NAMES, SHOPS, setup_inspections
from web.security import create_token

UNKNOWN = make_credit_code("610302", "MA7Q99999", "92")


@pytest.fixture
def world(app: Flask, session: Session) -> Session:
    setup_inspections(session)
    return session


def _form(**extra: Any) -> dict[str, Any]:
    return {"title": "2025年国家随机监督抽查（公共场所）", "kind": "national", "unit_id": COUNTY_A,
            "window_start": "2025-10-01", "window_end": "2025-11-30", "seed_source": "generated", **extra}


def _plans(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(Plan)) or 0)


def test_an_uploaded_list_with_bad_rows_reports_every_row_and_writes_nothing(world: Session, as_user: Any) -> None:
    head = as_user("head.a")
    bad = ("统一社会信用代码,单位名称,专业类别\n"
           f"{SHOPS[0]},{SHOP_NAMES[0]},公共场所\n"
           f"{UNKNOWN},不存在的浴室,public_place\n"
           f"{SHOPS[0].lower()},,\n"
           f"{SHOPS[1]},渭滨区某某洗浴,public_place\n"
           f"{SHOPS[2]},{SHOP_NAMES[2]},drinking_water\n").encode()
    page = head.post("/inspections/plans/new", {**_form(), "national_list": (io.BytesIO(bad), "national.csv")},
                     content_type="multipart/form-data")
    text = page.get_data(as_text=True)
    assert page.status_code == 422
    assert f"第3行（统一社会信用代码）：统一社会信用代码不在检查对象名录库中：{UNKNOWN}" in text
    assert f"第4行（统一社会信用代码）：与第2行重复：{SHOPS[0]}" in text  # the same code in lower case
    assert f"第5行（单位名称）：单位名称与名录库不一致：名单为渭滨区某某洗浴，名录库为{SHOP_NAMES[1]}" in text
    assert "第6行（专业类别）：专业类别与名录库不一致：名单为drinking_water，名录库为公共场所" in text
    assert _plans(world) == 0
    assert world.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "inspection_national_list_received")) == 0
    header_only = "统一社会信用代码\n".encode()
    for name, content in (("list.txt", b"x"), ("list.xlsx", b"not a zip"), ("empty.csv", header_only)):
        refused = head.post("/inspections/plans/new", {**_form(), "national_list": (io.BytesIO(content), name)},
                            content_type="multipart/form-data")
        assert refused.status_code == 422, name
    assert _plans(world) == 0


def test_a_good_xlsx_list_makes_a_locked_national_plan_drawn_as_given(world: Session, as_user: Any) -> None:
    content = spreadsheet.to_xlsx("名单", ["统一社会信用代码", "单位名称", "专业类别"],
                                  [[SHOPS[3], SHOP_NAMES[3], "公共场所"], [SHOPS[1], "", ""],
                                   [SHOPS[4], "", "public_place"]])
    head = as_user("head.a")
    created = head.post("/inspections/plans/new", {**_form(), "national_list": (io.BytesIO(content), "国家任务.xlsx")},
                        content_type="multipart/form-data")
    assert created.status_code == 302
    world.expire_all()
    plan = world.scalar(select(Plan))
    assert plan is not None and plan.kind == "national" and plan.status == "draft"
    assert plan.fixed_entities == [SHOPS[3], SHOPS[1], SHOPS[4]]
    event = world.scalar(select(AuditEvent).where(AuditEvent.action == "inspection_national_list_received"))
    assert event is not None and event.data["source"] == "file:国家任务.xlsx" and len(event.data["sha256"]) == 64
    page = head.get(created.headers["Location"]).get_data(as_text=True)
    assert "固定名单" in page or "fixed list" in page
    with pytest.raises(Exception, match="已锁定"):
        plans.update_plan(world, actor(world, "head.a"), plan.id, fixed_entities=[SHOPS[0]])
    world.rollback()
    plans.publish_plan(world, plan.id, "head.a")
    draw = service.draw_plan(world, actor(world, "head.a"), plan)
    world.commit()
    rows = list(world.scalars(select(Inspection).where(Inspection.draw_id == draw.id)))
    assert sorted(r.credit_code for r in rows) == sorted(plan.fixed_entities)  # no entity drawn by lot
    assert all(len(r.inspectors) == 2 for r in rows)  # the inspectors are matched


class Api:
    def __init__(self, app: Flask, login: str) -> None:
        from web.extensions import db

        with app.app_context():
            user = db.session.get(User, login)
            assert user is not None
            _row, self.token = create_token(user, "国家任务系统", "admin", 30)
            db.session.commit()
        self.client = app.test_client()

    def post(self, body: dict[str, Any]) -> Any:
        return self.client.post("/api/v1/inspections/national-tasks", json=body,
                                headers={"Authorization": f"Bearer {self.token}"})


def _body(entities: list[dict[str, str]], **extra: Any) -> dict[str, Any]:
    return {"code": "GJ2025-GGCS-0001", "title": "2025年国家随机监督抽查（公共场所）",
            "window": {"start": "2025-10-01", "end": "2025-11-30"}, "entities": entities, **extra}


def test_the_api_creates_a_national_plan_for_heads_with_the_same_row_checks(world: Session, app: Flask) -> None:
    head = Api(app, "head.a")
    assert Api(app, "officer.a").post(_body([{"credit_code": SHOPS[0]}])).status_code == 403
    bad = head.post(_body([{"credit_code": SHOPS[0]}, {"credit_code": UNKNOWN}, {"credit_code": SHOPS[0]},
                           {"credit_code": SHOPS[1], "name": "别的名字"}]))
    assert bad.status_code == 422 and bad.json["code"] == "invalid_data"
    assert set(bad.json["errors"]) == {"entities[1].credit_code", "entities[2].credit_code", "entities[3].name"}
    assert "不在检查对象名录库中" in bad.json["errors"]["entities[1].credit_code"][0]
    assert head.post({**_body([]), "window": {"start": "2025-12-01", "end": "2025-10-01"}}).status_code == 422
    assert _plans(world) == 0
    good = head.post(_body([{"credit_code": SHOPS[2], "name": SHOP_NAMES[2], "category": "公共场所"},
                            {"credit_code": SHOPS[5]}]))
    assert good.status_code == 201, good.json
    assert good.json["code"] == "GJ2025-GGCS-0001" and good.json["entities"] == 2 and good.json["status"] == "draft"
    world.expire_all()
    plan = world.get(Plan, good.json["plan_id"])
    assert plan is not None and plan.kind == "national" and plan.fixed_entities == [SHOPS[2], SHOPS[5]]
    assert plan.unit_id == COUNTY_A and plan.created_by == "head.a"
    again = head.post(_body([{"credit_code": SHOPS[2]}]))
    assert again.status_code == 422 and "已经存在" in again.json["errors"]["code"][0]
    assert _plans(world) == 1
    spec = app.test_client().get("/api/v1/openapi.json").json
    assert spec is not None
    assert "post" in spec["paths"]["/api/v1/inspections/national-tasks"]


def test_a_witnessed_plan_redrawn_on_the_plan_page_waits_for_the_witness_task_then_draws(
        world: Session, as_user: Any) -> None:
    """Issue 12: the re-draw of a witnessed plan used to stay 已承诺，待抽取 for ever (no task)."""
    from engine.models import ProcessInstance
    from processes.inspections.models import Draw
    from tests.web.inspections_flow import draft_plan, drain, ready, submit

    plan = draft_plan(world, seed_source="witnessed", witness_id="officer.a2")
    plans.submit_plan(world, actor(world, "officer.a"), plan.id)
    world.commit()
    assert plan.instance_id
    submit(world, plan.instance_id, "inspections.approve_plan", "head.a", {"approved": True})
    submit(world, plan.instance_id, "inspections.witness_seed", "officer.a2",
           {"public_value": "03 08 15 21 29 33 + 12", "source": "双色球第2026001期"})
    first = world.scalar(select(Draw).where(Draw.plan_id == plan.id))
    assert first is not None and first.status == "drawn"
    head = as_user("head.a")
    redrawn = head.post(f"/inspections/draws/{first.id}/redraw", {"reason": "名录库有误"}, follow_redirects=True)
    assert "见证人已收到录入公开随机数的任务" in redrawn.get_data(as_text=True)
    drain(world)
    world.expire_all()
    new = world.scalar(select(Draw).where(Draw.plan_id == plan.id, Draw.seq == 2))
    assert new is not None and new.status == "committed"
    instance = world.scalar(select(ProcessInstance).where(ProcessInstance.process_key == "inspection_draw_witness"))
    assert instance is not None
    (task,) = ready(world, instance.id, "inspections.witness_seed")
    assert task.assignee == "officer.a2"
    witness = as_user("officer.a2")
    page = witness.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "inspection-panel" in page and plan.code in page and "公开随机数" in page
    empty = witness.post(f"/tasks/{task.id}", {"public_value": "", "source": "双色球"})
    assert empty.status_code == 422
    done = witness.post(f"/tasks/{task.id}", {"public_value": "05 11 17 22 26 30 + 09", "source": "双色球第2026002期"})
    assert done.status_code in (302, 303), done.get_data(as_text=True)[:1000]
    drain(world)
    world.expire_all()
    new = world.get(Draw, new.id)
    assert new is not None and new.status == "drawn" and new.seed == "05 11 17 22 26 30 + 09"
    assert len(list(world.scalars(select(Inspection).where(Inspection.draw_id == new.id)))) == 2
    detail = head.get(f"/inspections/plans/{plan.id}").get_data(as_text=True)
    assert "已被重新抽取取代" in detail and new.result_hash and new.result_hash in detail


def test_a_first_draw_redrawn_while_its_witness_task_is_open_is_drawn_by_that_task(
        world: Session, as_user: Any) -> None:
    """The plan's own witness task is still open when the head re-draws: the witness is not asked
    twice (no second witness process), and the value entered on that task draws the new draw."""
    from engine.models import ProcessInstance
    from processes.inspections.models import Draw
    from tests.web.inspections_flow import draft_plan, drain, ready, submit

    plan = draft_plan(world, seed_source="witnessed", witness_id="officer.a2")
    plans.submit_plan(world, actor(world, "officer.a"), plan.id)
    world.commit()
    assert plan.instance_id
    submit(world, plan.instance_id, "inspections.approve_plan", "head.a", {"approved": True})
    first = world.scalar(select(Draw).where(Draw.plan_id == plan.id))
    assert first is not None and first.status == "committed"
    (task,) = ready(world, plan.instance_id, "inspections.witness_seed")
    head = as_user("head.a")
    head.post(f"/inspections/draws/{first.id}/redraw", {"reason": "名录库有误"}, follow_redirects=True)
    drain(world)
    world.expire_all()
    assert world.scalar(select(ProcessInstance).where(
        ProcessInstance.process_key == "inspection_draw_witness")) is None
    assert [t.id for t in ready(world, plan.instance_id, "inspections.witness_seed")] == [task.id]
    done = as_user("officer.a2").post(f"/tasks/{task.id}", {"public_value": "05 11 17 22 26 30 + 09",
                                                            "source": "双色球第2026002期"})
    assert done.status_code in (302, 303), done.get_data(as_text=True)[:1000]
    drain(world)
    world.expire_all()
    old, new = (world.scalar(select(Draw).where(Draw.plan_id == plan.id, Draw.seq == n)) for n in (1, 2))
    assert old is not None and old.status == "superseded" and old.result is None
    assert new is not None and new.status == "drawn" and new.seed == "05 11 17 22 26 30 + 09"
    assert len(list(world.scalars(select(Inspection).where(Inspection.draw_id == new.id)))) == 2
    assert not list(world.scalars(select(Inspection).where(Inspection.draw_id == old.id)))

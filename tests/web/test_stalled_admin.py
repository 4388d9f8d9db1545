"""Stalled cases on the administrator's incidents page and API: listed, found by a scan, repaired."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import Actor, complete_task, start
from engine.definitions import connect_loop_merges, spec_by_id
from engine.models import HumanTask, ProcessInstance
from tests.engine_helpers import deploy_fixture
from tests.web.conftest import COUNTY_A, actor


def _stalled_case(session: Session) -> str:
    """A parallel step whose instances finished unmerged (the defect this page exists for)."""
    deploy_fixture(session, "multi")
    who = actor(session, "officer.a")
    instance = start(session, "multi_case", who, {"members": ["officer.a", "officer.a2"]}, "多实例-1",
                     unit_id=COUNTY_A)
    session.commit()
    spec = spec_by_id(session, instance.definition_id).spec
    declare = spec.task_specs["declare"]
    spec.task_specs[declare.task_spec].completed_event.disconnect(declare.merge_child)
    for task in session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)).all():
        complete_task(session, task.id, Actor.of(task.assignee or "", ["officer"], [COUNTY_A]), {"declaration": "无"})
        session.commit()
    connect_loop_merges(spec)
    return instance.id


def test_stalled_cases_are_listed_and_repaired(as_user: Any, session: Session) -> None:
    instance_id = _stalled_case(session)
    admin = as_user("admin")
    page = admin.get("/admin/incidents").get_data(as_text=True)
    assert "停滞的案件" in page and "多实例-1" in page and f'data-instance="{instance_id}"' in page
    listed = admin.api("GET", "/api/v1/admin/stalled").json
    assert [row["id"] for row in listed] == [instance_id]
    assert as_user("officer.a").post(f"/admin/stalled/{instance_id}/repair").status_code == 403
    done = admin.post(f"/admin/stalled/{instance_id}/repair")
    assert "案件已修复并继续办理" in admin.get(done.location).get_data(as_text=True)
    session.expire_all()
    assert session.get(ProcessInstance, instance_id).status == "running"  # type: ignore[union-attr]
    assert "没有停滞的案件" in admin.get("/admin/incidents").get_data(as_text=True)
    again = admin.api("POST", f"/api/v1/admin/stalled/{instance_id}/repair")
    assert again.status_code == 409 and "not stalled" in again.get_data(as_text=True)


def test_a_scan_marks_old_stalled_rows(as_user: Any, session: Session) -> None:
    instance_id = _stalled_case(session)
    row = session.get(ProcessInstance, instance_id)
    assert row is not None
    row.status = "running"  # stored before the detector existed
    session.commit()
    admin = as_user("admin")
    done = admin.post("/admin/stalled/scan")
    assert "发现1件停滞的案件" in admin.get(done.location).get_data(as_text=True)
    session.expire_all()
    assert session.get(ProcessInstance, instance_id).status == "stalled"  # type: ignore[union-attr]

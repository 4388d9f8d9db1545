"""Editing units (admins) and supervised entities (their units' staff): checks, scope, audit, escaping."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.models import AuditEvent
from processes.directory.models import Entity, Unit
from processes.directory.services import subtree_ids
from tests.web.conftest import CITY, COUNTY_A, COUNTY_B, ENTITY_A, ENTITY_B, PROVINCE


def _events(session: Session, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def _unit_form(unit: Unit, **changes: str) -> dict[str, str]:
    return {"name": unit.name, "short_name": unit.short_name, "region_code": unit.region_code,
            "parent_id": unit.parent_id or "", **changes}


def test_admin_renames_a_unit_and_the_change_is_audited(as_user: Any, session: Session) -> None:
    admin = as_user("admin")
    unit = session.get(Unit, COUNTY_A)
    assert unit is not None
    page = admin.get(f"/admin/units/{COUNTY_A}")
    assert page.status_code == 200 and "渭滨区卫生监督所" in page.get_data(as_text=True)
    response = admin.post(f"/admin/units/{COUNTY_A}", _unit_form(unit, name="渭滨区卫生健康综合执法大队",
                                                                short_name="渭"))
    assert response.status_code == 302
    session.expire_all()
    unit = session.get(Unit, COUNTY_A)
    assert unit is not None and (unit.name, unit.short_name) == ("渭滨区卫生健康综合执法大队", "渭")
    [event] = _events(session, "unit_changed")
    assert event.actor == "admin"
    assert event.data["changes"]["name"] == ["渭滨区卫生监督所", "渭滨区卫生健康综合执法大队"]
    assert event.data["changes"]["short_name"] == ["渭滨", "渭"]


def test_moving_a_unit_moves_its_subtree_and_refuses_cycles(as_user: Any, session: Session) -> None:
    admin = as_user("admin")
    city = session.get(Unit, CITY)
    county = session.get(Unit, COUNTY_A)
    assert city is not None and county is not None
    # A county may hang directly under the province: its subtree paths follow.
    assert admin.post(f"/admin/units/{COUNTY_A}", _unit_form(county, parent_id=PROVINCE)).status_code == 302
    session.expire_all()
    assert COUNTY_A in subtree_ids(session, PROVINCE) and COUNTY_A not in subtree_ids(session, CITY)
    moved = session.get(Unit, COUNTY_A)
    assert moved is not None and moved.path == f"/{PROVINCE}/{COUNTY_A}/"
    # The city under its own county: a cycle, refused with nothing written.
    before = session.scalar(select(func.count()).select_from(AuditEvent))
    response = admin.post(f"/admin/units/{CITY}", _unit_form(city, parent_id=COUNTY_B))
    assert response.status_code == 422
    assert "下级单位" in response.get_data(as_text=True)
    session.expire_all()
    city = session.get(Unit, CITY)
    assert city is not None and city.parent_id == PROVINCE
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == before


@pytest.mark.parametrize(("changes", "field_message"), [
    ({"region_code": "61030"}, "6位数字"),
    ({"region_code": "620302"}, "上级单位的区划"),
    ({"name": "  "}, "单位名称"),
    ({"short_name": ""}, "简称"),
    ({"parent_id": "nope"}, "上级单位不存在"),
])
def test_bad_unit_edits_get_a_clear_error_and_write_nothing(as_user: Any, session: Session,
                                                            changes: dict[str, str], field_message: str) -> None:
    admin = as_user("admin")
    unit = session.get(Unit, COUNTY_A)
    assert unit is not None
    response = admin.post(f"/admin/units/{COUNTY_A}", _unit_form(unit, **changes))
    assert response.status_code == 422 and field_message in response.get_data(as_text=True)
    session.expire_all()
    again = session.get(Unit, COUNTY_A)
    assert again is not None and (again.name, again.region_code) == ("渭滨区卫生监督所", "610302")
    assert _events(session, "unit_changed") == []


def test_only_admins_edit_units_and_csrf_is_required(as_user: Any, session: Session) -> None:
    head = as_user("head.a")
    unit = session.get(Unit, COUNTY_A)
    assert unit is not None
    assert head.post(f"/admin/units/{COUNTY_A}", _unit_form(unit, name="X")).status_code in (403, 404)
    admin = as_user("admin")
    assert admin.post(f"/admin/units/{COUNTY_A}", _unit_form(unit, name="X"), csrf=False).status_code == 400
    assert admin.get("/admin/units/nope").status_code == 404
    session.expire_all()
    assert session.get(Unit, COUNTY_A).name == "渭滨区卫生监督所"  # type: ignore[union-attr]


def _entity_form(entity: Entity, **changes: str) -> dict[str, str]:
    return {"name": entity.name, "category": entity.category, "unit_id": entity.unit_id,
            "address": entity.address or "", "region_code": entity.region_code or "",
            "legal_representative": entity.legal_representative or "",
            "licence_numbers": ", ".join(entity.licence_numbers or []), **changes}


def test_officer_corrects_an_entity_with_injection_strings_kept_as_typed(as_user: Any, session: Session) -> None:
    officer = as_user("officer.a")
    entity = session.get(Entity, ENTITY_A)
    assert entity is not None
    hostile = "<script>alert('x')</script>'; DROP TABLE dir_entity; --"
    response = officer.post(f"/entities/{ENTITY_A}/edit", _entity_form(
        entity, legal_representative=hostile, address="经二路20号", licence_numbers="医机构001，医机构002"))
    assert response.status_code == 302
    session.expire_all()
    entity = session.get(Entity, ENTITY_A)
    assert entity is not None
    assert entity.legal_representative == hostile and entity.address == "经二路20号"
    assert entity.licence_numbers == ["医机构001", "医机构002"]
    page = officer.get(f"/entities/{ENTITY_A}").get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    [event] = _events(session, "entity_changed")
    assert event.actor == "officer.a" and event.data["changes"]["address"] == ["经二路18号", "经二路20号"]


def test_entity_edits_are_scoped_and_validated(as_user: Any, session: Session) -> None:
    officer = as_user("officer.a")
    other = session.get(Entity, ENTITY_B)
    mine = session.get(Entity, ENTITY_A)
    assert other is not None and mine is not None
    # Another unit's entity: not found, and nothing changes.
    assert officer.get(f"/entities/{ENTITY_B}/edit").status_code == 404
    assert officer.post(f"/entities/{ENTITY_B}/edit", _entity_form(other, name="改名")).status_code == 404
    # Handing an entity to a unit the officer does not see is refused.
    moved = officer.post(f"/entities/{ENTITY_A}/edit", _entity_form(mine, unit_id=COUNTY_B))
    assert moved.status_code == 422
    for bad in ({"region_code": "12345"}, {"category": "nonsense"}, {"name": ""}):
        response = officer.post(f"/entities/{ENTITY_A}/edit", _entity_form(mine, **bad))
        assert response.status_code == 422
    assert officer.post(f"/entities/{ENTITY_A}/edit", _entity_form(mine, name="X"), csrf=False).status_code == 400
    reviewer = as_user("reviewer.a")
    assert reviewer.get(f"/entities/{ENTITY_A}/edit").status_code == 403
    session.expire_all()
    assert session.get(Entity, ENTITY_A).name == "康宁诊所"  # type: ignore[union-attr]
    assert session.get(Entity, ENTITY_B).name == "仁和口腔门诊部"  # type: ignore[union-attr]
    assert _events(session, "entity_changed") == []


def test_api_edits_entities_and_units(as_user: Any, session: Session) -> None:
    officer = as_user("officer.a")
    entity = session.get(Entity, ENTITY_A)
    assert entity is not None
    body = {"name": "康宁诊所（普通合伙）", "category": "medical", "unit_id": COUNTY_A, "address": "经二路18号",
            "region_code": "610302", "legal_representative": "王五", "licence_numbers": ["PDY0001"]}
    response = officer.api("PATCH", f"/api/v1/entities/{ENTITY_A}", body)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["name"] == "康宁诊所（普通合伙）"
    bad = officer.api("PATCH", f"/api/v1/entities/{ENTITY_A}", {**body, "region_code": "abcdef"})
    assert bad.status_code == 422 and bad.get_json()["code"] == "invalid_data"
    assert officer.api("PATCH", f"/api/v1/entities/{ENTITY_B}", {**body, "unit_id": COUNTY_B}).status_code == 404
    assert officer.api("PATCH", f"/api/v1/admin/units/{COUNTY_A}", {}).status_code == 403
    admin = as_user("admin")
    units = admin.api("GET", "/api/v1/admin/units").get_json()
    assert [u["id"] for u in units][:2] == [PROVINCE, CITY]
    unit_body = {"name": "金台区卫生健康综合执法大队", "short_name": "金", "region_code": "610303",
                 "parent_id": CITY}
    changed = admin.api("PATCH", f"/api/v1/admin/units/{COUNTY_B}", unit_body)
    assert changed.status_code == 200 and changed.get_json()["short_name"] == "金"
    cycle = admin.api("PATCH", f"/api/v1/admin/units/{PROVINCE}", {"name": "陕西省卫生监督所", "short_name": "陕",
                                                                     "region_code": "610000", "parent_id": CITY})
    assert cycle.status_code == 422
    session.expire_all()
    assert [e.action for e in _events(session, "entity_changed")] == ["entity_changed"]
    assert [e.data["unit"] for e in _events(session, "unit_changed")] == [COUNTY_B]


def test_directory_errors_follow_the_users_language(as_user: Any, session: Session) -> None:
    admin = as_user("admin")
    unit = session.get(Unit, COUNTY_A)
    assert unit is not None
    assert admin.post("/lang", {"lang": "en", "next": "/admin/units"}).status_code == 302
    response = admin.post(f"/admin/units/{COUNTY_A}", _unit_form(unit, region_code="620302"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "must lie within the parent unit&#39;s region (start with 6103)" in page and "Edit unit" in page
    officer = as_user("officer.a")
    entity = session.get(Entity, ENTITY_A)
    assert entity is not None
    chinese = officer.post(f"/entities/{ENTITY_A}/edit", _entity_form(entity, region_code="12345"))
    assert "行政区划代码应为6位数字" in chinese.get_data(as_text=True)

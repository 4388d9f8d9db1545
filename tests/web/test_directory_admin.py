"""Directory administration beyond renaming: deactivating units, administrators' scope, correcting
a mistyped credit code, and the API refusing what the forms refuse (nothing written either way)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.models import AuditEvent
from processes.directory.codes import make_credit_code
from processes.directory.models import Entity, Unit, User
from processes.directory.services import create_user
from tests.web.conftest import CITY, COUNTY_A, COUNTY_B, ENTITY_A, ENTITY_A2, PASSWORD, PROVINCE, start_lead

NEW_CODE = make_credit_code("610302", "MA6X8K22B", "91")


def _audit_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def _events(session: Session, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def _entity_form(entity: Entity, **changes: str) -> dict[str, str]:
    return {"credit_code": entity.credit_code, "name": entity.name, "category": entity.category,
            "unit_id": entity.unit_id, "address": entity.address or "", "region_code": entity.region_code or "",
            "legal_representative": entity.legal_representative or "",
            "licence_numbers": ", ".join(entity.licence_numbers or []), **changes}


def test_a_unit_with_staff_or_open_tasks_is_not_deactivated(as_user: Any, session: Session) -> None:
    admin = as_user("admin")
    before = _audit_count(session)
    refused = admin.post(f"/admin/units/{COUNTY_B}/active", {"active": "0"})
    assert refused.status_code == 422 and "2名在职人员" in refused.get_data(as_text=True)
    start_lead(session, "officer.b", make_credit_code("610303", "MA6Y1T4R0", "92"), unit=COUNTY_B)
    for login in ("officer.b", "head.b"):
        user = session.get(User, login)
        assert user is not None
        user.active = False
    session.commit()
    refused = admin.post(f"/admin/units/{COUNTY_B}/active", {"active": "0"})
    assert refused.status_code == 422 and "1项待办任务" in refused.get_data(as_text=True)
    # A city with active counties below it is refused too, whatever its own staff.
    city = admin.post(f"/admin/units/{CITY}/active", {"active": "0"})
    assert city.status_code == 422 and "下级单位" in city.get_data(as_text=True)
    session.expire_all()
    assert session.get(Unit, COUNTY_B).active  # type: ignore[union-attr]
    assert _audit_count(session) == before + 1  # only the case start


def test_an_empty_unit_is_deactivated_and_takes_nobody_new(as_user: Any, session: Session) -> None:
    admin = as_user("admin")
    created = admin.post("/admin/units", {"id": "610304", "name": "陈仓区卫生监督所", "short_name": "陈仓",
                                          "level": "county", "region_code": "610304", "parent_id": CITY})
    assert created.status_code == 302
    assert admin.post("/admin/units/610304/active", {"active": "0"}).status_code == 302
    session.expire_all()
    assert session.get(Unit, "610304").active is False  # type: ignore[union-attr]
    [event] = _events(session, "unit_changed")
    assert event.actor == "admin" and event.data == {"unit": "610304", "changes": {"active": [True, False]}}
    page = admin.get("/admin/units").get_data(as_text=True)
    assert "停用" in page
    user = admin.post("/admin/users/new", {"id": "new.officer", "display_name": "新人", "unit_id": "610304",
                                           "roles": "officer", "certificate_no": "C-N-1", "password": PASSWORD})
    assert user.status_code == 422 and "已停用" in user.get_data(as_text=True)
    officer = as_user("officer.a")
    entity = session.get(Entity, ENTITY_A)
    assert entity is not None
    moved = officer.api("PATCH", f"/api/v1/entities/{ENTITY_A}", {"unit_id": "610304"})
    assert moved.status_code == 422
    assert admin.post("/admin/units/610304/active", {"active": "1"}).status_code == 302
    session.expire_all()
    assert session.get(Unit, "610304").active is True  # type: ignore[union-attr]
    assert session.get(User, "new.officer") is None
    assert session.get(Entity, ENTITY_A).unit_id == COUNTY_A  # type: ignore[union-attr]


def test_admins_manage_units_only_in_their_subtree(as_user: Any, session: Session) -> None:
    create_user(session, "admin.city", "市管理员", CITY, ["admin"], PASSWORD)
    session.commit()
    admin = as_user("admin.city")
    assert admin.get(f"/admin/units/{PROVINCE}").status_code == 404
    assert admin.api("PATCH", f"/api/v1/admin/units/{PROVINCE}", {"name": "改名"}).status_code == 404
    page = admin.get(f"/admin/units/{COUNTY_A}")
    assert page.status_code == 200
    unit = session.get(Unit, COUNTY_A)
    assert unit is not None
    form = {"name": unit.name, "short_name": unit.short_name, "region_code": unit.region_code}
    outside = admin.post(f"/admin/units/{COUNTY_A}", {**form, "parent_id": PROVINCE})
    assert outside.status_code == 422 and "管理的范围" in outside.get_data(as_text=True)
    wrong_level = as_user("admin").post(f"/admin/units/{CITY}", {"name": "宝鸡市卫生监督所", "short_name": "宝",
                                                                "region_code": "610300", "parent_id": COUNTY_A})
    assert wrong_level.status_code == 422
    renamed = admin.api("PATCH", f"/api/v1/admin/units/{COUNTY_A}", {"name": "渭滨区卫生健康执法大队"})
    assert renamed.status_code == 200 and renamed.get_json()["short_name"] == "渭滨"
    session.expire_all()
    assert session.get(Unit, PROVINCE).name == "陕西省卫生监督所"  # type: ignore[union-attr]
    assert session.get(Unit, COUNTY_A).parent_id == CITY  # type: ignore[union-attr]
    assert [e.actor for e in _events(session, "unit_changed")] == ["admin.city"]


def test_unit_names_are_stored_as_typed_and_shown_escaped(as_user: Any, session: Session) -> None:
    admin = as_user("admin")
    hostile = "<img src=x onerror=alert(1)>'; DROP TABLE dir_unit; --"
    response = admin.api("PATCH", f"/api/v1/admin/units/{COUNTY_B}", {"name": hostile})
    assert response.status_code == 200
    page = admin.get("/admin/units").get_data(as_text=True)
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    session.expire_all()
    assert session.get(Unit, COUNTY_B).name == hostile  # type: ignore[union-attr]


def test_a_mistyped_credit_code_is_corrected_until_the_first_case(as_user: Any, session: Session) -> None:
    officer = as_user("officer.a")
    entity = session.get(Entity, ENTITY_A2)
    assert entity is not None
    before = _audit_count(session)
    for bad, message in ((NEW_CODE[:-1] + ("0" if NEW_CODE[-1] != "0" else "1"), "校验位"),
                         ("91610302MA6X8K2", "18位"), (ENTITY_A, "已登记为 康宁诊所")):
        response = officer.post(f"/entities/{ENTITY_A2}/edit", _entity_form(entity, credit_code=bad))
        assert response.status_code == 422 and message in response.get_data(as_text=True), bad
    assert _audit_count(session) == before
    fixed = officer.post(f"/entities/{ENTITY_A2}/edit", _entity_form(entity, credit_code=NEW_CODE.lower()))
    assert fixed.status_code == 302 and fixed.headers["Location"].endswith(f"/entities/{NEW_CODE}")
    session.expire_all()
    assert session.get(Entity, ENTITY_A2) is None and session.get(Entity, NEW_CODE) is not None
    [event] = _events(session, "entity_changed")
    assert event.data["entity"] == NEW_CODE and event.data["changes"]["credit_code"] == [ENTITY_A2, NEW_CODE]
    # Once a case refers to the entity, its code is the key of the case file and stays.
    start_lead(session, "officer.a", ENTITY_A)
    with_case = session.get(Entity, ENTITY_A)
    assert with_case is not None
    kept = officer.post(f"/entities/{ENTITY_A}/edit",
                        _entity_form(with_case, credit_code=make_credit_code("610302", "MA6X8K23C", "91")))
    assert kept.status_code == 422 and "已有案件" in kept.get_data(as_text=True)


def test_the_api_refuses_what_the_form_refuses_and_writes_nothing(as_user: Any, session: Session) -> None:
    officer = as_user("officer.a")
    before = _audit_count(session)
    for body, field in (({"credit_code": "91610302MA6X8K21A0"}, "credit_code"),
                        ({"region_code": "61030X"}, "region_code"),
                        ({"category": "casino"}, "category"),
                        ({"name": "x" * 301}, "name")):
        response = officer.api("PATCH", f"/api/v1/entities/{ENTITY_A}", body)
        assert response.status_code == 422, body
        assert field in response.get_json()["errors"], response.get_json()
    # A session-authenticated write without the CSRF header is refused before anything runs.
    no_csrf = officer.api("PATCH", f"/api/v1/entities/{ENTITY_A}", {"name": "改名"}, headers={"X-CSRFToken": ""})
    assert no_csrf.status_code == 400 and no_csrf.get_json()["code"] == "csrf_failed"
    # Another unit's entity does not exist for this officer.
    other = make_credit_code("610303", "MA6Y1T4R0", "92")
    assert officer.api("PATCH", f"/api/v1/entities/{other}", {"name": "改名"}).status_code == 404
    reviewer = as_user("reviewer.a")
    assert reviewer.api("PATCH", f"/api/v1/entities/{ENTITY_A}", {"name": "改名"}).status_code == 403
    session.expire_all()
    assert session.get(Entity, ENTITY_A).name == "康宁诊所"  # type: ignore[union-attr]
    assert _audit_count(session) == before
    # A partial PATCH changes only what it names.
    partial = officer.api("PATCH", f"/api/v1/entities/{ENTITY_A}", {"legal_representative": "王五"})
    assert partial.status_code == 200
    assert partial.get_json()["address"] == "经二路18号" and partial.get_json()["legal_representative"] == "王五"


def test_every_directory_message_has_english() -> None:
    """Directory refusals are Chinese at the source; each has an English entry (as form messages do)."""
    import re

    from tests.web.test_i18n import ROOT, _messages, _sources
    from web.i18n import domain_catalog

    catalog = domain_catalog("en")
    assert catalog is not None
    placeholder = re.compile(r"\{\w+\}")
    known = set(catalog.exact) | {placeholder.sub("{}", regex.pattern) for regex, _target in catalog.patterns}
    known |= {placeholder.sub("{}", source) for source in _sources()}
    modules = ("processes/directory/codes.py", "processes/directory/services.py",
               "processes/directory/editing.py", "web/directory.py")
    missing = [f"{module}:{line} {text}" for module in modules for line, text in _messages(ROOT / module)
               if text not in known]
    assert not missing

"""Issue 12: a head edits one row of each inspection directory on a page (an item, an entity's
profile, an inspector), reached from the directories page. The pages write through the same services
as the import, so the same refusals come back (a zh-CN sentence, what was typed kept, nothing
written) and the same audit events are appended; a saved item is a new version and the old one
stays readable."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.models import AuditEvent
from processes.directory.codes import make_credit_code
from processes.inspections.models import EntityProfile, InspectionItem, Inspector
from tests.web.inspections_flow import SHOPS, setup_inspections

ITEM = {"based_on": "1", "category": "public_place", "name": "公共场所卫生监督抽查",
        "legal_basis": "《公共场所卫生管理条例》第三条、第十四条",
        "checklist": "卫生许可证\n从业人员健康合格证明\n顾客用品用具清洗消毒\n空气质量检测报告"}


@pytest.fixture
def world(app: Flask, session: Session) -> Session:
    setup_inspections(session)
    return session


def _audited(session: Session, action: str) -> list[dict[str, Any]]:
    session.expire_all()
    return [e.data for e in session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                            .order_by(AuditEvent.id))]


def _based_on(browser: Any, url: str) -> str:
    """The form's record of when the row was last saved (sent back with the edit)."""
    found = re.search(r'name="based_on" value="([^"]*)"', browser.get(url).get_data(as_text=True))
    assert found is not None
    return found.group(1)


def test_the_directories_page_links_to_the_edit_pages(world: Session, as_user: Any) -> None:
    page = as_user("head.a").get("/inspections/directories").get_data(as_text=True)
    for href in ("/inspections/directory-edit/items", "/inspections/directory-edit/entities",
                 "/inspections/directory-edit/inspectors"):
        assert f'href="{href}"' in page
    items = as_user("head.a").get("/inspections/directory-edit/items").get_data(as_text=True)
    assert 'href="/inspections/directory-edit/items/GG-001"' in items


def test_saving_an_item_makes_a_new_version_and_keeps_the_old_one(world: Session, as_user: Any) -> None:
    head = as_user("head.a")
    before = len(_audited(world, "inspection_item_saved"))
    saved = head.post("/inspections/directory-edit/items/GG-001", ITEM)
    assert saved.status_code == 302
    world.expire_all()
    versions = list(world.scalars(select(InspectionItem).where(InspectionItem.code == "GG-001")
                                  .order_by(InspectionItem.version)))
    assert [(v.version, v.active) for v in versions] == [(1, False), (2, True)]
    assert versions[0].checklist == ["卫生许可证", "从业人员健康合格证明", "顾客用品用具清洗消毒"]
    assert versions[1].checklist[-1] == "空气质量检测报告" and versions[1].created_by == "head.a"
    assert _audited(world, "inspection_item_saved")[before:] == [
        {"code": "GG-001", "version": 2, "category": "public_place"}]
    page = head.get("/inspections/directory-edit/items/GG-001").get_data(as_text=True)
    assert 'data-version="1"' in page and 'data-version="2"' in page
    assert "《公共场所卫生管理条例》第三条</td>" in page  # version 1's legal basis, still readable
    assert "空气质量检测报告" in page


def test_a_wrong_item_is_refused_with_what_was_typed_and_nothing_written(world: Session, as_user: Any) -> None:
    head = as_user("head.a")
    before = len(_audited(world, "inspection_item_saved"))
    for form, sentence in (({"checklist": " \n "}, "检查内容至少一项"), ({"legal_basis": ""}, "请填写检查依据"),
                           ({"category": "moon_base"}, "专业类别moon_base不存在")):
        refused = head.post("/inspections/directory-edit/items/GG-001", {**ITEM, **form})
        text = refused.get_data(as_text=True)
        assert refused.status_code == 422 and sentence in text, sentence
        assert ITEM["name"] in text
    unchanged = head.post("/inspections/directory-edit/items/GG-001",
                          {**ITEM, "legal_basis": "《公共场所卫生管理条例》第三条",
                           "checklist": "卫生许可证\n从业人员健康合格证明\n顾客用品用具清洗消毒"})
    assert unchanged.status_code == 422 and "未作修改" in unchanged.get_data(as_text=True)
    world.expire_all()
    assert world.scalar(select(func.count()).select_from(InspectionItem)) == 1
    assert len(_audited(world, "inspection_item_saved")) == before
    assert as_user("officer.a").post("/inspections/directory-edit/items/GG-001", ITEM).status_code == 403


def test_a_head_edits_an_entitys_profile_but_not_its_risk_level(world: Session, as_user: Any) -> None:
    head, shop = as_user("head.a"), SHOPS[0]
    page = head.get(f"/inspections/directory-edit/entities?credit_code={shop}").get_data(as_text=True)
    assert "渭滨区第1洗浴中心" in page and 'id="profile-form"' in page and "/inspections/risk?credit_code=" in page
    form = {"credit_code": shop, "status": "inactive", "credit_grade": "c", "complaint_count": "3",
            "last_inspected_on": "2026-03-02", "region_code": "610302", "latitude": "34.3712",
            "longitude": "107.2371", "risk_level": "high",
            "based_on": _based_on(head, f"/inspections/directory-edit/entities?credit_code={shop}")}
    assert head.post("/inspections/directory-edit/entities", form).status_code == 302
    world.expire_all()
    row = world.get(EntityProfile, shop)
    assert row is not None
    assert (row.status, row.credit_grade, row.complaint_count, str(row.last_inspected_on), row.latitude,
            row.longitude) == ("inactive", "C", 3, "2026-03-02", "34.3712", "107.2371")
    assert row.risk_level == "normal"  # only the risk ledger sets it
    event = _audited(world, "inspection_entity_profile_changed")[-1]
    assert event["credit_code"] == shop and event["status"] == "inactive" and event["complaint_count"] == 3


def test_a_wrong_profile_is_refused_and_other_units_entities_are_not_found(world: Session, as_user: Any) -> None:
    head, shop = as_user("head.a"), SHOPS[1]
    before = len(_audited(world, "inspection_entity_profile_changed"))
    good = {"credit_code": shop, "status": "active", "credit_grade": "B", "complaint_count": "1",
            "last_inspected_on": "", "region_code": "610302", "latitude": "34.37", "longitude": "107.23",
            "based_on": _based_on(head, f"/inspections/directory-edit/entities?credit_code={shop}")}
    for form, sentence in (({"latitude": "134.5"}, "坐标应在-90到90之间"),
                           ({"complaint_count": "-2"}, "投诉举报次数应为不小于0的整数"),
                           ({"credit_grade": "E"}, "信用等级应为A、B、C或者D"),
                           ({"last_inspected_on": "2026-02-30"}, "日期格式应为YYYY-MM-DD")):
        refused = head.post("/inspections/directory-edit/entities", {**good, **form})
        text = refused.get_data(as_text=True)
        assert refused.status_code == 422 and sentence in text, sentence
        assert 'value="107.23"' in text  # what was typed is kept
    world.expire_all()
    row = world.get(EntityProfile, shop)
    assert row is not None and row.credit_grade == "B" and row.complaint_count == 0 and row.latitude is None
    assert len(_audited(world, "inspection_entity_profile_changed")) == before
    other = as_user("head.b")
    assert "本单位" in other.get(f"/inspections/directory-edit/entities?credit_code={shop}").get_data(as_text=True)
    assert other.post("/inspections/directory-edit/entities", good).status_code == 404


def test_a_head_edits_an_inspectors_certificate_and_conflicts(world: Session, as_user: Any) -> None:
    head = as_user("head.a")
    relative = make_credit_code("610302", "MA7R00001", "92")
    form = {"certificate_no": "ZF-6103-0099", "valid_from": "2025-01-01", "valid_until": "2031-06-30",
            "specialties": ["public_place", "drinking_water"], "relatives_at": SHOPS[2],
            "former_employers": f"{SHOPS[3]}\n{relative}", "active": "1",
            "based_on": _based_on(head, "/inspections/directory-edit/inspectors/officer.a2")}
    assert head.post("/inspections/directory-edit/inspectors/officer.a2", form).status_code == 302
    world.expire_all()
    row = world.get(Inspector, "officer.a2")
    assert row is not None and row.certificate_no == "ZF-6103-0099" and str(row.certificate_valid_until) == "2031-06-30"
    assert row.specialties == ["drinking_water", "public_place"] and row.relatives_at == [SHOPS[2]]
    assert row.former_employers == sorted([SHOPS[3], relative]) and row.active
    event = _audited(world, "inspection_inspector_saved")[-1]
    assert event == {"user_id": "officer.a2", "certificate_no": "ZF-6103-0099", "valid_until": "2031-06-30",
                     "specialties": ["drinking_water", "public_place"], "conflicts": 3}
    page = head.get("/inspections/directory-edit/inspectors/officer.a2").get_data(as_text=True)
    assert "ZF-6103-0099" in page and SHOPS[2] in page


def test_a_wrong_inspector_is_refused_and_nothing_is_written(world: Session, as_user: Any) -> None:
    head = as_user("head.a")
    before = len(_audited(world, "inspection_inspector_saved"))
    good = {"certificate_no": "ZF-new", "valid_from": "2025-01-01", "valid_until": "2031-06-30",
            "specialties": ["public_place"], "relatives_at": "", "former_employers": "", "active": "1",
            "based_on": _based_on(head, "/inspections/directory-edit/inspectors/officer.a2")}
    for form, sentence in (({"valid_until": "2024-12-31"}, "执法证有效期截止日期不能早于起始日期"),
                           ({"relatives_at": "91610302MA7Q0000X1"}, "91610302MA7Q0000X1："),
                           ({"specialties": []}, "此项为必填项"),
                           ({"certificate_no": " "}, "此项为必填项")):
        refused = head.post("/inspections/directory-edit/inspectors/officer.a2", {**good, **form})
        text = refused.get_data(as_text=True)
        assert refused.status_code == 422 and sentence in text, sentence
        assert 'value="2025-01-01"' in text
    world.expire_all()
    row = world.get(Inspector, "officer.a2")
    assert row is not None and row.certificate_no == "ZF-officer.a2" and row.relatives_at == []
    assert len(_audited(world, "inspection_inspector_saved")) == before
    assert as_user("head.b").get("/inspections/directory-edit/inspectors/officer.a2").status_code == 404
    assert as_user("officer.a").get("/inspections/directory-edit/inspectors").status_code == 403


def test_a_head_who_chose_english_reads_the_edit_pages_and_refusals_in_english(world: Session, as_user: Any) -> None:
    head = as_user("head.a")
    with head.client.session_transaction() as state:
        state["lang"] = "en"
    page = head.get(f"/inspections/directory-edit/entities?credit_code={SHOPS[0]}").get_data(as_text=True)
    assert "Risk level" in page and ">Active<" in page and "Deregistered or closed" in page
    refused = head.post("/inspections/directory-edit/entities",
                        {"credit_code": SHOPS[0], "status": "active", "complaint_count": "x",
                         "based_on": _based_on(head, f"/inspections/directory-edit/entities?credit_code={SHOPS[0]}")})
    assert refused.status_code == 422
    assert "The number of complaints must be a whole number of at least 0" in refused.get_data(as_text=True)
    item = head.post("/inspections/directory-edit/items/GG-001", {**ITEM, "checklist": ""})
    assert item.status_code == 422 and "Save as a new version" in item.get_data(as_text=True)
    assert "Enter at least one checklist point" in item.get_data(as_text=True)
    roster = head.post("/inspections/directory-edit/inspectors/officer.a2",
                       {"certificate_no": "", "valid_from": "2025-01-01", "valid_until": "2031-06-30",
                        "specialties": ["public_place"],
                        "based_on": _based_on(head, "/inspections/directory-edit/inspectors/officer.a2")})
    assert roster.status_code == 422 and "This field is required" in roster.get_data(as_text=True)


def test_a_head_adds_an_item_and_a_staff_member_of_the_unit_to_the_roster(world: Session, as_user: Any) -> None:
    head = as_user("head.a")
    new = {**ITEM, "based_on": "", "code": "SY-001", "category": "drinking_water", "name": "生活饮用水卫生监督抽查",
           "legal_basis": "《生活饮用水卫生监督管理办法》第四条", "checklist": "卫生许可批件|水质检测报告"}
    duplicate = head.post("/inspections/directory-edit/items/new", {**new, "code": "GG-001"})
    assert duplicate.status_code == 422 and "该事项编码已在清单中" in duplicate.get_data(as_text=True)
    assert 'value="生活饮用水卫生监督抽查"' in duplicate.get_data(as_text=True)
    assert head.post("/inspections/directory-edit/items/new", new).status_code == 302
    world.expire_all()
    added = world.scalar(select(InspectionItem).where(InspectionItem.code == "SY-001"))
    assert added is not None and (added.version, added.checklist) == (1, ["卫生许可批件", "水质检测报告"])
    assert world.scalar(select(func.count()).select_from(InspectionItem).where(InspectionItem.code == "GG-001")) == 1
    assert _audited(world, "inspection_item_saved")[-1] == {"code": "SY-001", "version": 1,
                                                            "category": "drinking_water"}

    roster = head.get("/inspections/directory-edit/inspectors").get_data(as_text=True)
    assert 'href="/inspections/directory-edit/inspectors/reviewer.a"' in roster  # 渭滨 staff not yet listed
    assert "/inspections/directory-edit/inspectors/officer.b" not in roster  # another unit's staff
    assert head.get("/inspections/directory-edit/inspectors/officer.b").status_code == 404
    assert world.get(Inspector, "reviewer.a") is None
    form = {"certificate_no": "ZF-6103-0100", "valid_from": "2026-01-01", "valid_until": "2030-12-31",
            "specialties": ["drinking_water"], "relatives_at": "", "former_employers": "", "active": "1",
            "based_on": ""}
    assert head.post("/inspections/directory-edit/inspectors/reviewer.a", form).status_code == 302
    world.expire_all()
    row = world.get(Inspector, "reviewer.a")
    assert row is not None and row.unit_id == "610302" and row.specialties == ["drinking_water"]
    assert _audited(world, "inspection_inspector_saved")[-1]["user_id"] == "reviewer.a"


def test_an_edit_of_an_item_someone_changed_meanwhile_is_not_saved_over_it(world: Session, as_user: Any) -> None:
    first, second = as_user("head.a"), as_user("head.a")
    assert 'name="based_on" value="1"' in second.get("/inspections/directory-edit/items/GG-001").get_data(as_text=True)
    assert first.post("/inspections/directory-edit/items/GG-001", ITEM).status_code == 302  # version 2
    late = {**ITEM, "name": "公共场所卫生监督抽查（住宿场所）"}
    stale = second.post("/inspections/directory-edit/items/GG-001", late)
    text = stale.get_data(as_text=True)
    assert stale.status_code == 409 and "已有人保存了该事项的第2版" in text
    assert 'value="公共场所卫生监督抽查（住宿场所）"' in text and 'name="based_on" value="2"' in text
    world.expire_all()
    assert world.scalar(select(func.max(InspectionItem.version)).where(InspectionItem.code == "GG-001")) == 2
    assert second.post("/inspections/directory-edit/items/GG-001", {**late, "based_on": "2"}).status_code == 302
    world.expire_all()
    newest = world.scalar(select(InspectionItem).where(InspectionItem.active, InspectionItem.code == "GG-001"))
    assert newest is not None and (newest.version, newest.name) == (3, "公共场所卫生监督抽查（住宿场所）")


def test_a_profile_or_inspector_someone_saved_meanwhile_is_not_overwritten(world: Session, as_user: Any) -> None:
    first, second, shop = as_user("head.a"), as_user("head.a"), SHOPS[4]
    url = f"/inspections/directory-edit/entities?credit_code={shop}"
    form = {"credit_code": shop, "status": "active", "credit_grade": "A", "complaint_count": "0",
            "last_inspected_on": "", "region_code": "610302", "latitude": "", "longitude": ""}
    opened = _based_on(second, url)
    assert first.post("/inspections/directory-edit/entities",
                      {**form, "complaint_count": "5", "based_on": _based_on(first, url)}).status_code == 302
    stale = second.post("/inspections/directory-edit/entities", {**form, "credit_grade": "D", "based_on": opened})
    text = stale.get_data(as_text=True)
    assert stale.status_code == 409 and "已有人保存了这条记录" in text and 'id="saved-now"' in text
    assert '<option selected>D</option>' in text  # what was typed is kept
    world.expire_all()
    row = world.get(EntityProfile, shop)
    assert row is not None and (row.credit_grade, row.complaint_count) == ("A", 5)

    roster = "/inspections/directory-edit/inspectors/officer.a"
    person = {"certificate_no": "ZF-2", "valid_from": "2025-01-01", "valid_until": "2031-06-30",
              "specialties": ["public_place"], "relatives_at": "", "former_employers": "", "active": "1"}
    opened = _based_on(second, roster)
    assert first.post(roster, {**person, "based_on": _based_on(first, roster)}).status_code == 302
    stale = second.post(roster, {**person, "certificate_no": "ZF-3", "based_on": opened})
    assert stale.status_code == 409 and 'value="ZF-3"' in stale.get_data(as_text=True)
    world.expire_all()
    assert world.get(Inspector, "officer.a").certificate_no == "ZF-2"  # type: ignore[union-attr]

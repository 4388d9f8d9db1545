"""Case pages, the diagram, entity pages (一户一档), starting a case, and guessing other units' URLs."""

from __future__ import annotations

import json
import re
import uuid
from html import unescape
from typing import Any

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import ProcessDefinition, ProcessInstance
from engine.xmlsafe import parse_xml
from processes.directory.codes import make_credit_code
from tests.web.conftest import COUNTY_A, ENTITY_A, ENTITY_A2, ENTITY_B, ready_task, start_lead
from web.diagram import BPMN, BPMNDI, process_xml

VALID = {"source": "inspection", "summary": "超范围执业", "facts": "开展医疗美容。", "kinds": ["beyond_scope"],
         "amount": "30000"}


def test_case_page_has_header_tasks_diagram_data_and_timeline(as_user: Any, session: Session) -> None:
    instance = start_lead(session)
    officer = as_user("officer.a")
    task = ready_task(session, instance.id)
    officer.post(f"/tasks/{task.id}", VALID)
    html = officer.get(f"/cases/{instance.id}").get_data(as_text=True)
    assert "L-1" in html and "康宁诊所" in html and "办理中" in html and "负责人审批" in html
    completed = json.loads(unescape(re.search(r'data-completed="([^"]*)"', html).group(1)))  # type: ignore[union-attr]
    current = json.loads(unescape(re.search(r'data-current="([^"]*)"', html).group(1)))  # type: ignore[union-attr]
    assert "register" in completed and current == ["approve"]
    assert "启动案件" in html and "完成任务" in html and "超范围执业" in html  # timeline and key facts
    assert "bpmn-navigated-viewer.production.min.js" in html and "case.js" in html


def test_diagram_gets_a_layout_when_the_file_has_none(as_user: Any, session: Session) -> None:
    instance = start_lead(session)
    response = as_user("officer.a").get(f"/cases/{instance.id}/diagram.bpmn")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    root = parse_xml(response.data, "diagram.bpmn")
    shapes = {el.get("bpmnElement") for el in root.iter(f"{{{BPMNDI}}}BPMNShape")}
    edges = {el.get("bpmnElement") for el in root.iter(f"{{{BPMNDI}}}BPMNEdge")}
    assert {"start", "register", "serious", "approve", "decide", "end_done", "end_minor"} <= shapes
    assert {"lane_officer", "lane_head"} <= shapes  # lanes drawn inside a generated pool
    lanes = {el.get("id"): el.get("name") for el in root.iter(f"{{{BPMN}}}lane")}
    assert lanes == {"lane_officer": "执法人员", "lane_head": "负责人"}  # role labels, not codes
    assert edges == {"f1", "f2", "f_serious", "f_minor", "f3", "f4"}
    definition = session.scalar(select(ProcessDefinition).where(ProcessDefinition.process_key == "case_lead"))
    assert definition is not None
    again = process_xml(definition)
    assert parse_xml(again, "again.bpmn").find(f".//{{{BPMNDI}}}BPMNPlane") is not None
    # a file that has its own diagram is served unchanged
    with_di = etree.tostring(root)
    definition.sources = {"lead.bpmn": with_di.decode()}
    assert process_xml(definition).count(b"BPMNShape") == with_di.count(b"BPMNShape")


def test_other_units_cases_are_not_found(as_user: Any, session: Session) -> None:
    theirs = start_lead(session, "officer.b", ENTITY_B, "L-B")
    mine = start_lead(session)
    officer = as_user("officer.a")
    for url in (f"/cases/{theirs.id}", f"/cases/{theirs.id}/diagram.bpmn", f"/cases/{uuid.uuid4()}",
                "/cases/..%2F..%2Fetc%2Fpasswd", f"/entities/{ENTITY_B}", "/entities/XXXXXXXXXXXXXXXXXX"):
        response = officer.get(url)
        assert response.status_code == 404, url
        assert "仁和口腔" not in response.get_data(as_text=True)
    assert as_user("officer.p").get(f"/cases/{theirs.id}").status_code == 200  # the province sees the subtree
    assert as_user("head.b").get(f"/cases/{mine.id}").status_code == 404
    assert as_user("admin").get(f"/cases/{theirs.id}").status_code == 200


def test_entity_page_lists_every_visible_case(as_user: Any, session: Session) -> None:
    start_lead(session, key="L-1")
    start_lead(session, key="L-2")
    html = as_user("officer.a").get(f"/entities/{ENTITY_A}").get_data(as_text=True)
    assert "康宁诊所" in html and "L-1" in html and "L-2" in html and "登记案源" in html
    listing = as_user("officer.a").get("/entities?q=康宁").get_data(as_text=True)
    assert ENTITY_A in listing and ENTITY_B not in listing


def test_start_a_case_from_the_ui(as_user: Any, session: Session) -> None:
    officer = as_user("officer.a")
    page = officer.get("/cases/new").get_data(as_text=True)
    assert "case_lead" in page
    assert 'name="business_key"' not in page  # case numbers are never typed
    missing = officer.post("/cases/new", {"process": "case_lead", "entity": ENTITY_B})
    assert missing.status_code == 422 and "您的管辖范围内没有该单位" in missing.get_data(as_text=True)
    unknown = officer.post("/cases/new", {"process": "drop_tables", "entity": ENTITY_A})
    assert unknown.status_code == 422 and "请选择流程" in unknown.get_data(as_text=True)
    started = officer.post("/cases/new", {"process": "case_lead", "entity": ENTITY_A, "business_key": "AY-1"})
    assert started.status_code == 302
    instance = session.get(ProcessInstance, started.headers["Location"].rsplit("/", 1)[1])
    assert instance is not None and instance.unit_id == COUNTY_A and instance.entity_id == ENTITY_A
    assert instance.business_key and re.fullmatch(r"\d{8}-[0-9A-F]{6}", instance.business_key)  # not "AY-1"
    again = officer.post("/cases/new", {"process": "case_lead", "entity": ENTITY_A})
    other = session.get(ProcessInstance, again.headers["Location"].rsplit("/", 1)[1])
    assert other is not None and other.business_key != instance.business_key
    assert as_user("reviewer.a").get("/cases/new").status_code == 403


def test_a_case_is_started_for_an_entity_typed_by_its_name(as_user: Any, session: Session) -> None:
    from sqlalchemy import func

    from processes.directory.services import create_entity

    similar = make_credit_code("610302", "MA6X8K22B", "92")
    create_entity(session, similar, "康宁口腔诊所", "medical", COUNTY_A)
    session.commit()
    officer = as_user("officer.a")
    by_name = officer.post("/cases/new", {"process": "case_lead", "entity": " 康宁诊所 "})
    assert by_name.status_code == 302, by_name.get_data(as_text=True)
    instance = session.get(ProcessInstance, by_name.headers["Location"].rsplit("/", 1)[1])
    assert instance is not None and instance.entity_id == ENTITY_A and instance.entity_name == "康宁诊所"
    by_part = officer.post("/cases/new", {"process": "case_lead", "entity": "自来水"})  # one entity matches
    part = session.get(ProcessInstance, by_part.headers["Location"].rsplit("/", 1)[1])
    assert part is not None and part.entity_id == ENTITY_A2

    count = session.scalar(select(func.count()).select_from(ProcessInstance))
    several = officer.post("/cases/new", {"process": "case_lead", "entity": "康宁"})
    text = unescape(several.get_data(as_text=True))
    assert several.status_code == 422
    assert "请输入所指单位的统一社会信用代码" in text and f"康宁诊所（{ENTITY_A}）" in text \
        and f"康宁口腔诊所（{similar}）" in text
    foreign = officer.post("/cases/new", {"process": "case_lead", "entity": "仁和口腔门诊部"})  # another county's
    assert foreign.status_code == 422 and "您的管辖范围内没有该单位" in foreign.get_data(as_text=True)
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(ProcessInstance)) == count  # nothing started


def test_register_an_entity(as_user: Any, session: Session) -> None:
    officer = as_user("officer.a")
    bad = officer.post("/entities/new", {"credit_code": "91350100M000100Y44", "name": "某公司",
                                         "category": "medical", "unit_id": COUNTY_A})
    assert bad.status_code == 422 and "校验位不正确" in bad.get_data(as_text=True)
    code = make_credit_code("610302", "MA6X00001")
    evil = "<b>洗浴</b>'; --"
    ok = officer.post("/entities/new", {"credit_code": code, "name": evil, "category": "public_place",
                                        "unit_id": COUNTY_A, "licence_numbers": "A-1，B-2"})
    assert ok.status_code == 302
    html = officer.get(f"/entities/{code}").get_data(as_text=True)
    assert "&lt;b&gt;洗浴&lt;/b&gt;&#39;; --" in html and "A-1、B-2" in html
    elsewhere = officer.post("/entities/new", {"credit_code": make_credit_code("610303", "MA6X00002"),
                                               "name": "x", "category": "medical", "unit_id": "610303"})
    assert elsewhere.status_code == 422


def test_diagram_labels_follow_the_users_language(as_user: Any, session: Session) -> None:
    instance = start_lead(session)
    officer = as_user("officer.a")
    assert officer.post("/lang", {"lang": "en", "next": "/inbox"}).status_code == 302
    root = parse_xml(officer.get(f"/cases/{instance.id}/diagram.bpmn").data, "diagram.bpmn")
    lanes = {el.get("id"): el.get("name") for el in root.iter(f"{{{BPMN}}}lane")}
    assert lanes == {"lane_officer": "Enforcement officers", "lane_head": "Head"}

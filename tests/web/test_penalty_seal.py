"""The case page shows each outward document's electronic seal: who sealed it and whether it verifies."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from cryptography import x509
from flask import Flask
from sqlalchemy.orm import Session

import signing
from engine import Actor
from processes.penalty import start_case
from processes.penalty.documents import generate, pdf_rendering
from processes.penalty.rules import load_rules
from tests.web.conftest import COUNTY_A, Browser
from tests.web.penalty_flow import setup_penalty


def test_case_page_lists_the_decision_as_sealed_by_the_unit(session: Session,
                                                            as_user: Callable[[str], Browser]) -> None:
    setup_penalty(session)  # the CA and each unit's seal certificate
    actor = Actor.of("officer.a", ["officer"], [COUNTY_A])
    case = start_case(session, actor, unit_id=COUNTY_A, unit_name="渭滨区卫生监督所", unit_short_name="渭滨")
    with pdf_rendering(True):
        decision = generate(session, case, load_rules(), "decision",
                            {"decision": {"decided_on": "2026-12-01", "facts": "使用未取得护士执业证书的人员"},
                             "penalty": {"text": "警告", "fine": 0}}, {}, date(2026, 12, 1))
        report = generate(session, case, load_rules(), "filing_report",
                          {"filing": {"summary": "案情"}, "approval": {"approved": True}}, {}, date(2026, 12, 1))
    instance_id = case.instance_id
    session.commit()

    page = as_user("officer.a").get(f"/cases/{instance_id}").get_data(as_text=True)
    row = page[page.index(f'/penalty/documents/{decision.id}"'):]
    row = row[:row.index("</tr>")]
    assert "已签章" in row and "渭滨区卫生监督所" in row and "验证有效" in row
    internal = page[page.index(f'/penalty/documents/{report.id}"'):]
    assert "已签章" not in internal[:internal.index("</tr>")]  # an internal record carries no seal
    api = as_user("officer.a").api("GET", f"/api/v1/cases/{instance_id}").get_json()
    seals = {d["doc_type"]: d["seal"] for d in api["penalty"]["documents"]}
    assert seals["decision"]["status"] == "valid" and seals["decision"]["signer_name"] == "渭滨区卫生监督所"
    assert seals["filing_report"] is None


def test_anyone_can_download_the_root_a_pdf_reader_must_trust(session: Session, app: Flask) -> None:
    client = app.test_client()
    assert client.get("/public/weijian-root.cer").status_code == 404  # no CA yet
    setup_penalty(session)
    session.commit()
    response = client.get("/public/weijian-root.cer")
    assert response.status_code == 200 and response.mimetype == "application/pkix-cert"
    assert x509.load_der_x509_certificate(response.data) == signing.ca_certificate(session)

"""The public disclosure site of double-random inspections: plans, results, penalty decisions, the
entity page with its QR code and door poster, anyone's draw check; rate limits; and the guard
that no staff name, internal note or personal data reaches any public page."""

from __future__ import annotations

import hashlib
import zlib
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update
from sqlalchemy.orm import Session

from engine.settings import Settings
from processes.inspections.disclosure import mask_person
from processes.inspections.models import Draw
from tests.web.conftest import STAFF
from tests.web.decision_flow import disclose_decision
from tests.web.inspections_flow import (
    NOTES,
    SHOPS,
    approved_plan,
    draft_plan,
    finish,
    inspections_of,
    organisation_decision,
    person_decision,
    setup_inspections,
    submit,
)


@pytest.fixture
def disclosed(app: Flask, session: Session) -> dict[str, Any]:
    """A published plan whose first drawn entity passed and second got 责令改正, a draft plan, an
    individual's decision and a decision against the first drawn entity."""
    setup_inspections(session)
    plan, draw = approved_plan(session)
    rows = inspections_of(session, draw)
    finish(session, rows[0], "compliant")
    assert rows[0].instance_id
    submit(session, rows[0].instance_id, "inspections.disclose", "head.a", {"content_checked": True})  # 公示
    finish(session, rows[1], "correction")
    draft = draft_plan(session)
    person = disclose_decision(session, person_decision(session))  # 公示行政处罚决定
    company = disclose_decision(session, organisation_decision(session, rows[0].credit_code, rows[0].entity_name))
    return {"plan": plan, "draw": draw, "rows": inspections_of(session, draw), "draft": draft,
            "person": person, "company": company}


def test_mask_person_keeps_only_the_family_name() -> None:
    assert mask_person("王小明") == "王某" and mask_person(" 欧 ") == "欧某" and mask_person(None) == "某"


def test_published_plans_and_their_draw_checks_are_listed(app: Flask, disclosed: dict[str, Any]) -> None:
    client = app.test_client()
    home = client.get("/public/").get_data(as_text=True)
    assert "/public/inspections/plans" in home and "/public/inspections/decisions" in home
    page = client.get("/public/inspections/plans").get_data(as_text=True)
    assert disclosed["plan"].code in page and disclosed["draft"].code not in page
    assert f"/public/inspections/draws/{disclosed['draw'].id}/verify" in page


def test_results_show_entity_code_items_date_result_and_handling(app: Flask, disclosed: dict[str, Any]) -> None:
    passed, corrected = disclosed["rows"][0], disclosed["rows"][1]
    page = app.test_client().get("/public/inspections/results").get_data(as_text=True)
    for row in (passed, corrected):
        assert row.entity_name in page and row.credit_code in page
    assert "公共场所卫生监督抽查" in page and "合格" in page and "责令限期改正" in page
    assert str(corrected.correction_due) in page
    found = app.test_client().get("/public/inspections/results", query_string={"q": passed.entity_name})
    assert passed.entity_name in found.get_data(as_text=True) and corrected.entity_name not in found.get_data(
        as_text=True)
    assert app.test_client().get("/public/inspections/results?page=x").status_code == 200


def test_decisions_anonymise_an_individual_and_show_an_organisation(app: Flask, disclosed: dict[str, Any]) -> None:
    page = app.test_client().get("/public/inspections/decisions").get_data(as_text=True)
    assert disclosed["person"] in page and "王某" in page and "王小明" not in page and "清姜路" not in page
    assert disclosed["company"] in page and disclosed["rows"][0].credit_code in page
    assert "孙建国" not in page and "警告" in page


def test_a_revoked_decision_is_withdrawn(app: Flask, session: Session, disclosed: dict[str, Any]) -> None:
    from sqlalchemy import select

    from processes.penalty.models import PenaltyCase

    case = session.scalar(select(PenaltyCase).where(PenaltyCase.case_number == disclosed["company"]))
    assert case is not None
    case.execution_status = "revoked"  # what the revocation record sets (checks_execution)
    session.commit()
    page = app.test_client().get("/public/inspections/decisions").get_data(as_text=True)
    assert disclosed["company"] not in page and disclosed["person"] in page


def test_the_entity_page_carries_a_qr_code_of_its_own_address(app: Flask, disclosed: dict[str, Any]) -> None:
    from web.packages.inspections_public import qr_svg

    row = disclosed["rows"][0]
    client = app.test_client()
    response = client.get(f"/public/inspections/entities/{row.credit_code.lower()}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and row.entity_name in page and "合格" in page
    assert disclosed["company"] in page  # its disclosed decision
    url = f"http://localhost/public/inspections/entities/{row.credit_code}"
    image = f'src="/public/inspections/entities/{row.credit_code}/qr.svg"'
    assert image in page  # the QR code is an image of its own, loaded lazily
    qr = client.get(f"/public/inspections/entities/{row.credit_code.lower()}/qr.svg")
    assert qr.status_code == 200 and qr.content_type.startswith("image/svg+xml")
    assert "max-age=86400" in qr.headers["Cache-Control"]
    with app.test_request_context():
        assert qr.get_data(as_text=True) == str(qr_svg(url))  # it encodes the page's absolute address
    assert client.get("/public/inspections/entities/NOSUCHENTITY/qr.svg").status_code == 404
    assert any(f"{grade}级" in page for grade in "ABCD")
    assert client.get("/public/inspections/entities/NOSUCHENTITY").status_code == 404
    no_results = client.get(f"/public/inspections/entities/{SHOPS[-1]}")
    assert no_results.status_code == 200


def test_the_door_poster_is_a_pdf(app: Flask, disclosed: dict[str, Any]) -> None:
    response = app.test_client().get(f"/public/inspections/entities/{disclosed['rows'][0].credit_code}/poster.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")


def test_anyone_recomputes_a_draw_and_a_tampered_snapshot_is_shown_as_different(
        app: Flask, session: Session, disclosed: dict[str, Any]) -> None:
    draw = disclosed["draw"]
    client = app.test_client()
    page = client.get(f"/public/inspections/draws/{draw.id}/verify").get_data(as_text=True)
    assert 'class="verdict ok"' in page and draw.seed in page and draw.entities_hash in page
    assert all(r.entity_name in page for r in disclosed["rows"])
    snapshot = client.get(f"/public/inspections/draws/{draw.id}/snapshot.json")
    assert hashlib.sha256(snapshot.data).hexdigest() == draw.entities_hash
    assert b"user_id" not in snapshot.data  # the inspector half is not published
    session.refresh(draw)
    raw = zlib.decompress(draw.snapshot).replace(b'"weight":1', b'"weight":7', 1)
    session.execute(update(Draw).where(Draw.id == draw.id).values(snapshot=zlib.compress(raw)))  # behind the model
    session.commit()
    tampered = client.get(f"/public/inspections/draws/{draw.id}/verify").get_data(as_text=True)
    assert 'class="verdict bad"' in tampered and 'id="problems"' in tampered
    assert client.get("/public/inspections/draws/nope/verify").status_code == 404
    assert client.get("/public/inspections/draws/nope/snapshot.json").status_code == 404


def test_no_staff_name_internal_note_or_personal_data_on_any_public_page(app: Flask,
                                                                       disclosed: dict[str, Any]) -> None:
    client = app.test_client()
    draw, rows = disclosed["draw"], disclosed["rows"]
    urls = ["/public/", "/public/inspections/plans", "/public/inspections/results", "/public/inspections/decisions",
            "/public/inspections/changes",
            f"/public/inspections/draws/{draw.id}/verify", f"/public/inspections/draws/{draw.id}/snapshot.json",
            *(f"/public/inspections/entities/{r.credit_code}" for r in rows)]
    forbidden = [name for _login, name, *_rest in STAFF] + [login for login, *_rest in STAFF] + [
        NOTES, "内部意见", "王小明", "清姜路", "孙建国", "ZF-officer", "C-A-1"]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.get_data(as_text=True)
        leaked = [word for word in forbidden if word in text]
        assert leaked == [], (url, leaked)


def test_public_pages_are_rate_limited_per_address(web_db_url: str, tmp_path: Path) -> None:
    from web.app import create_app

    app = create_app(Settings(database_url=web_db_url), {"TESTING": True, "UPLOAD_DIR": str(tmp_path / "u"),
                                                        "PUBLIC_LIMITS": {"page": "3/minute"}})
    client = app.test_client()
    codes = [client.get("/public/inspections/plans").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    other = app.test_client().get("/public/inspections/results", environ_base={"REMOTE_ADDR": "10.2.3.4"})
    assert other.status_code == 200

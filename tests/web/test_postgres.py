"""The web app on PostgreSQL (row locks instead of SQLite's versions): the same flows, the same answers."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from engine.dbconnect import make_engine
from engine.settings import Settings
from tests.engine_helpers import deploy_fixture
from tests.web.conftest import ENTITY_B, Browser, build_directory, ready_task, start_lead

pytestmark = pytest.mark.postgres


def test_inbox_claim_complete_and_other_units_on_postgres(pg_url: str, tmp_path: object) -> None:
    from celery import current_app as current_celery

    from web.app import create_app

    engine = make_engine(pg_url)
    with Session(engine, expire_on_commit=False) as session:
        build_directory(session)
        session.commit()
        deploy_fixture(session, "lead")
        mine = start_lead(session)
        theirs = start_lead(session, "officer.b", ENTITY_B, "L-B")
        task = ready_task(session, mine.id)
    previous = current_celery._get_current_object()
    app: Flask = create_app(Settings(database_url=pg_url), {"TESTING": True, "UPLOAD_DIR": str(tmp_path)})
    try:
        officer, colleague = Browser(app.test_client()), Browser(app.test_client())
        officer.login("officer.a")
        colleague.login("officer.a2")
        assert task.id in officer.get("/inbox?tab=claimable").get_data(as_text=True)
        assert officer.post(f"/tasks/{task.id}/claim").status_code == 302
        assert colleague.api("POST", f"/api/v1/tasks/{task.id}/claim").status_code == 409
        done = officer.post(f"/tasks/{task.id}", {"source": "other", "summary": "摘要", "facts": "事实",
                                                  "kinds": ["other"], "amount": "99.5"})
        assert done.status_code == 302
        assert officer.get(f"/cases/{theirs.id}").status_code == 404
        assert officer.client.get(f"/api/v1/cases/{mine.id}").json["facts"]["amount"] == 99.5
        # a NUL character is a clean 400 everywhere (PostgreSQL cannot store or compare it)
        for url in ("/inbox?q=a%00b", "/api/v1/tasks?q=%00", "/cases/abc%00def", "/api/v1/cases/x%00"):
            answer = officer.client.get(url)
            assert answer.status_code == 400, url
        assert officer.api("POST", f"/api/v1/tasks/{task.id}/claim", {"note": "a\u0000b"}).status_code == 400
        assert officer.post("/lang", {"lang": "en\x00", "next": "/inbox"}).status_code == 400
    finally:
        with app.app_context():
            from web.extensions import db

            db.engine.dispose()
        engine.dispose()
        previous.set_current()

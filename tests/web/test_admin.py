"""Administration pages, translations, the CLI commands for users, units and tokens."""

from __future__ import annotations

import re
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import AuditEvent
from processes.directory.models import Unit, User
from tests.web.conftest import COUNTY_A, PASSWORD, make_incident
from web.i18n import catalogs, stale_catalogs
from web.models import ApiToken


def test_admin_pages_are_for_admins_only(as_user: Any) -> None:
    admin, officer = as_user("admin"), as_user("officer.a")
    for url in ("/admin/", "/admin/users", "/admin/units", "/admin/tokens", "/admin/processes",
                "/admin/incidents", "/admin/audit", "/admin/users/new"):
        assert admin.get(url).status_code == 200, url
        assert officer.get(url).status_code == 403, url
    assert "全过程记录完整" in admin.get("/admin/audit").get_data(as_text=True)
    assert "case_lead" in admin.get("/admin/processes").get_data(as_text=True)


def test_users_and_roles(as_user: Any, session: Session) -> None:
    admin = as_user("admin")
    bad = admin.post("/admin/users/new", {"id": "x", "display_name": "新人", "unit_id": COUNTY_A,
                                          "roles": ["officer"], "password": PASSWORD})
    assert bad.status_code == 422 and "登录名" in bad.get_data(as_text=True)
    made = admin.post("/admin/users/new", {"id": "new.head", "display_name": "新负责人", "unit_id": COUNTY_A,
                                           "roles": ["head"], "password": PASSWORD})
    assert made.status_code == 302
    as_user("new.head")  # can sign in
    changed = admin.post("/admin/users/new.head", {"display_name": "新负责人", "unit_id": COUNTY_A,
                                                   "roles": ["head", "officer"], "certificate_no": "Z-9",
                                                   "active": "1"})
    assert changed.status_code == 302
    session.expire_all()
    user = session.get(User, "new.head")
    assert user is not None and user.roles == ["head", "officer"]
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "user_changed"))
    assert event is not None and event.actor == "admin" and event.data["after"]["roles"] == ["head", "officer"]
    admin.post("/admin/users/new.head", {"display_name": "x", "unit_id": COUNTY_A, "roles": ["head"]})
    session.expire_all()
    assert session.get(User, "new.head").active is False  # type: ignore[union-attr]


def test_units_and_tokens(as_user: Any, session: Session) -> None:
    admin = as_user("admin")
    bad = admin.post("/admin/units", {"id": "610304", "name": "陈仓区", "level": "county",
                                      "region_code": "620304", "parent_id": "610300"})
    assert bad.status_code == 422 and "上级单位的区划" in bad.get_data(as_text=True)
    ok = admin.post("/admin/units", {"id": "610304", "name": "陈仓区卫生监督所", "level": "county",
                                     "region_code": "610304", "parent_id": "610300", "short_name": "陈仓"})
    assert ok.status_code == 302
    assert session.get(Unit, "610304").path == "/610000/610300/610304/"  # type: ignore[union-attr]
    page = admin.post("/admin/tokens", {"user_id": "officer.a", "name": "外部系统"}).get_data(as_text=True)
    token = re.search(r'<code id="new-token">([^<]+)</code>', page).group(1)  # type: ignore[union-attr]
    row = session.scalar(select(ApiToken))
    assert row is not None and token not in (row.token_hash, row.prefix)
    assert admin.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json["id"] == "officer.a"
    admin.post(f"/admin/tokens/{row.id}/revoke")
    assert admin.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_incidents_page_retries_and_resolves(as_user: Any, session: Session) -> None:
    from engine.models import OutboxJob

    _instance_id, job_id = make_incident(session)
    admin = as_user("admin")
    page = admin.get("/admin/incidents").get_data(as_text=True)
    assert job_id in page and "the document service is down" in page
    bad = admin.post(f"/admin/incidents/{job_id}/resolve", {"result": "{not json", "note": "x"})
    assert "JSON" in admin.get(bad.location).get_data(as_text=True)
    admin.post(f"/admin/incidents/{job_id}/retry")  # eager Celery: the job runs right after the commit
    session.expire_all()
    job = session.get(OutboxJob, job_id)
    assert job is not None and job.status == "done"  # the service is back up
    assert "没有未处理的异常" in admin.get("/admin/incidents").get_data(as_text=True)
    assert as_user("officer.a").post(f"/admin/incidents/{job_id}/retry").status_code == 403


def test_catalogs_are_compiled_and_complete() -> None:
    from babel.messages.pofile import read_po

    assert catalogs(), "the Chinese catalog is missing"
    assert stale_catalogs() == [], "run `weijian i18n compile` and commit the .mo"
    for po in catalogs():
        with po.open("rb") as fh:
            untranslated = [m.id for m in read_po(fh) if m.id and not m.string]
        assert untranslated == [], untranslated


@pytest.fixture
def cli_env(web_db_url: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", web_db_url)
    monkeypatch.setenv("WEIJIAN_UPLOAD_DIR", str(tmp_path / "cli-uploads"))
    return web_db_url


def test_cli_users_units_tokens(cli_env: str, session: Session) -> None:
    from web.cli import main

    runner = CliRunner()
    unit = runner.invoke(main, ["units", "create", "610305", "--name", "某区", "--level", "county",
                                "--region", "610305", "--parent", "610300"])
    assert unit.exit_code == 0, unit.output
    made = runner.invoke(main, ["users", "create", "cli.officer", "--name", "命令行", "--unit", "610305",
                                "--roles", "officer", "--certificate", "C-9", "--password", PASSWORD])
    assert made.exit_code == 0 and "cli.officer" in made.output
    dup = runner.invoke(main, ["users", "create", "cli.officer", "--name", "x", "--unit", "610305",
                               "--roles", "officer", "--certificate", "C-9", "--password", PASSWORD])
    assert dup.exit_code == 1 and "已存在" in dup.output
    token = runner.invoke(main, ["users", "token", "cli.officer", "--name", "外部"])
    assert token.exit_code == 0 and token.output.strip().startswith("wj_")
    assert session.get(User, "cli.officer") is not None

"""Probes, metrics, request ids and production-mode settings of the web app (the real app, real database)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text, update
from sqlalchemy.orm import Session

from engine import deploy, start
from engine.actor import SYSTEM
from engine.db import utcnow
from engine.models import OutboxJob, ProcessInstance, TimerRow
from engine.settings import Settings
from tests.tracing import TRACED, TRACED_BPMN
from tests.web.conftest import COUNTY_A, actor, make_incident, ready_task, start_lead


def _metric(body: str, name: str, labels: str = "") -> float:
    found = re.search(rf"^{re.escape(name)}{re.escape(labels)} (\S+)$", body, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


@pytest.fixture
def restore_celery() -> Iterator[None]:
    from celery import current_app as current_celery

    from integrations.celery_app import celery_app

    previous = current_celery._get_current_object()
    yield
    (previous if previous is not None else celery_app).set_current()


def _app(settings: Settings, tmp_path: Path, **config: Any) -> Flask:
    from web.app import create_app

    return create_app(settings, {"TESTING": True, "UPLOAD_DIR": str(tmp_path / "uploads"), **config})


def test_healthz_and_readyz(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json == {"status": "ready", "checks": {"database": "ok", "migrations": "ok",
                                                        "redis": "not configured"}}


def test_readyz_names_a_schema_behind_the_migrations(app: Flask, session: Session) -> None:
    heads = [row[0] for row in session.execute(text("SELECT version_num FROM alembic_version"))]
    session.execute(text("DELETE FROM alembic_version WHERE version_num = :v"), {"v": heads[0]})
    session.commit()
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 503
    assert answer.json["checks"]["migrations"] == "behind" and answer.json["checks"]["database"] == "ok"
    assert heads[0] in answer.json["reasons"][0] and "weijian db upgrade" in answer.json["reasons"][0]


def test_readyz_names_unreachable_database_and_redis(tmp_path: Path, restore_celery: None) -> None:
    missing_db = f"sqlite:///{tmp_path}/no-such-folder/weijian.db"
    app = _app(Settings(database_url=missing_db, redis_url="redis://127.0.0.1:1/0"), tmp_path)
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 503
    assert answer.json["checks"] == {"database": "unreachable", "redis": "unreachable"}
    reasons = " | ".join(answer.json["reasons"])
    assert "database unreachable" in reasons and "Redis unreachable" in reasons
    assert app.test_client().get("/healthz").status_code == 200  # liveness never asks the database


@pytest.mark.redis
def test_readyz_with_redis(web_db_url: str, redis_url: str, tmp_path: Path, restore_celery: None) -> None:
    answer = _app(Settings(database_url=web_db_url, redis_url=redis_url), tmp_path).test_client().get("/readyz")
    assert answer.status_code == 200 and answer.json["checks"]["redis"] == "ok"


def test_metrics_report_backlog_incidents_stalled_and_timer_lag(app: Flask, session: Session) -> None:
    client = app.test_client()
    empty = client.get("/metrics")
    assert empty.status_code == 200 and empty.mimetype == "text/plain"
    assert _metric(empty.text, "weijian_outbox_pending_jobs") == 0.0
    instance_id, _job = make_incident(session)
    lead = start_lead(session)
    now = utcnow()
    for n in range(3):
        session.add(OutboxJob(id=f"pending-{n}", instance_id=lead.id, task_id="t", element_id="e", operator="x",
                              params={}, status="pending", next_attempt_at=now))
    session.add(TimerRow(instance_id=lead.id, task_id="timer-1", element_id="timer", due_at=now - timedelta(minutes=5)))
    session.add(TimerRow(instance_id=lead.id, task_id="timer-2", element_id="timer", due_at=now + timedelta(days=1)))
    session.execute(update(ProcessInstance).where(ProcessInstance.id == instance_id).values(status="stalled"))
    session.commit()
    body = client.get("/metrics").text
    assert _metric(body, "weijian_outbox_pending_jobs") == 3.0
    assert _metric(body, "weijian_open_incidents") == 1.0
    assert _metric(body, "weijian_stalled_instances") == 1.0
    assert 300 <= _metric(body, "weijian_timer_lag_seconds") < 400
    assert "weijian_scheduler_leader" in body


def test_metrics_token(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEIJIAN_METRICS_TOKEN", "s3cret-scrape")
    client = app.test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"}).status_code == 200


def test_a_completion_is_timed_and_its_job_runs_under_the_request_id(app: Flask, session: Session,
                                                                     as_user: Any) -> None:
    deploy(session, {"traced.bpmn": TRACED_BPMN}, SYSTEM)
    session.commit()
    instance = start(session, "traced", actor(session, "officer.a"), {}, unit_id=COUNTY_A)
    session.commit()
    officer = as_user("officer.a")
    labels = '{channel="api",outcome="ok"}'
    before = _metric(officer.get("/metrics").text, "weijian_task_completion_duration_seconds_count", labels)
    TRACED.clear()
    done = officer.api("POST", f"/api/v1/tasks/{ready_task(session, instance.id).id}/complete", json={"data": {}},
                       headers={"X-Request-ID": "trace-web-42"})
    assert done.status_code == 200, done.json
    assert done.headers["X-Request-ID"] == "trace-web-42"
    assert TRACED == ["trace-web-42"]  # the eager job ran after the commit, under the request's id
    session.expire_all()
    assert ready_task(session, instance.id).task_name == "after"
    after = _metric(officer.get("/metrics").text, "weijian_task_completion_duration_seconds_count", labels)
    assert after == before + 1


def test_production_mode_settings(web_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  restore_celery: None) -> None:
    from web.server import ProductionConfigError

    monkeypatch.setenv("WEIJIAN_ENV", "production")
    monkeypatch.delenv("WEIJIAN_SECURE_COOKIES", raising=False)
    with pytest.raises(ProductionConfigError, match=r"secrets\.token_hex\(32\)"):
        _app(Settings(database_url=web_db_url), tmp_path)
    monkeypatch.delenv("WEIJIAN_COMPLAINT_KEYS", raising=False)
    with pytest.raises(ProductionConfigError, match=r"WEIJIAN_COMPLAINT_KEYS.*Fernet\.generate_key"):
        _app(Settings(database_url=web_db_url, secret_key="x" * 64), tmp_path)  # identities under the dev key
    from cryptography.fernet import Fernet

    monkeypatch.setenv("WEIJIAN_COMPLAINT_KEYS", Fernet.generate_key().decode())
    app = _app(Settings(database_url=web_db_url, secret_key="x" * 64), tmp_path)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    response = app.test_client().get("/login")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    monkeypatch.setenv("WEIJIAN_SECURE_COOKIES", "0")  # e.g. plain HTTP on loopback (make cluster)
    plain = _app(Settings(database_url=web_db_url, secret_key="x" * 64), tmp_path)
    assert plain.config["SESSION_COOKIE_SECURE"] is False


def test_development_mode_has_no_hsts_and_plain_cookies(app: Flask) -> None:
    response = app.test_client().get("/login")
    assert "Strict-Transport-Security" not in response.headers
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])

"""Fixtures for the web tests: a migrated SQLite copy with a small directory, the real Flask app,
and a client that signs in and carries the CSRF token like a browser.

The directory (units, staff with argon2 hashes, entities) is built once into a template file
and copied per test, so password hashing is paid once. Processes are deployed per test: the
engine caches parsed specs by definition id, and other tests' databases reuse the same ids.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine import Actor, start
from engine.models import HumanTask, ProcessInstance
from engine.settings import Settings
from processes.directory.codes import make_credit_code
from processes.directory.models import User
from processes.directory.services import actor_for, create_entity, create_unit, create_user
from tests.engine_helpers import deploy_fixture

PASSWORD = "correct-horse-42"
PROVINCE, CITY, COUNTY_A, COUNTY_B = "610000", "610300", "610302", "610303"
ENTITY_A = make_credit_code("610302", "MA6X8K21A", "92")
ENTITY_A2 = make_credit_code("610302", "22057813X", "91")
ENTITY_B = make_credit_code("610303", "MA6Y1T4R0", "92")
STAFF = [  # login, name, unit, roles, certificate
    ("officer.a", "张伟", COUNTY_A, ["officer"], "C-A-1"),
    ("officer.a2", "李娜", COUNTY_A, ["officer"], "C-A-2"),
    ("head.a", "赵磊", COUNTY_A, ["chief_head", "head", "officer"], "C-A-3"),
    ("reviewer.a", "陈静", COUNTY_A, ["legal_reviewer"], None),
    ("officer.b", "刘洋", COUNTY_B, ["officer"], "C-B-1"),
    ("head.b", "马慧", COUNTY_B, ["chief_head", "head", "officer"], "C-B-2"),
    ("officer.p", "吴敏", PROVINCE, ["officer"], "C-P-1"),
    ("admin", "管理员", PROVINCE, ["admin"], None),
]


def build_directory(session: Session) -> None:
    create_unit(session, PROVINCE, "陕西省卫生监督所", "province", "610000", None, "陕")
    session.flush()
    create_unit(session, CITY, "宝鸡市卫生监督所", "city", "610300", PROVINCE, "宝")
    session.flush()
    create_unit(session, COUNTY_A, "渭滨区卫生监督所", "county", "610302", CITY, "渭滨")
    create_unit(session, COUNTY_B, "金台区卫生监督所", "county", "610303", CITY, "金台")
    session.flush()
    for login, name, unit, roles, cert in STAFF:
        create_user(session, login, name, unit, roles, PASSWORD, cert)
    create_entity(session, ENTITY_A, "康宁诊所", "medical", COUNTY_A, address="经二路18号")
    create_entity(session, ENTITY_A2, "第二自来水公司", "drinking_water", COUNTY_A)
    create_entity(session, ENTITY_B, "仁和口腔门诊部", "medical", COUNTY_B)


@pytest.fixture(scope="session")
def _web_template(_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from engine.dbconnect import make_engine

    path = tmp_path_factory.mktemp("web-template") / "web.db"
    shutil.copyfile(_sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    with Session(engine) as session:
        build_directory(session)
        session.commit()
    engine.dispose()
    return path


@pytest.fixture
def web_db_url(_web_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "web.db"
    shutil.copyfile(_web_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def app(web_db_url: str, tmp_path: Path) -> Iterator[Flask]:
    from celery import current_app as current_celery

    from integrations.celery_app import celery_app
    from web.app import create_app
    from web.extensions import db

    previous = current_celery._get_current_object()
    app = create_app(Settings(database_url=web_db_url), {
        "TESTING": True, "UPLOAD_DIR": str(tmp_path / "uploads"), "UPLOAD_MAX_BYTES": 100_000,
        "MAX_CONTENT_LENGTH": 300_000, "LOGIN_MAX_FAILURES": 3, "INBOX_PAGE_SIZE": 5})
    with app.app_context():
        deploy_fixture(db.session, "lead")
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    (previous if previous is not None else celery_app).set_current()


@pytest.fixture
def session(app: Flask, web_db_url: str) -> Iterator[Session]:
    """A session of its own on the app's database, like a second process would have.

    Not the app's ``db.session``: holding an app context open during a test would make every
    test-client request share it (and its ``g``), which no real request does.
    """
    from engine.dbconnect import make_engine

    engine = make_engine(web_db_url)
    with Session(engine, expire_on_commit=False) as own:
        yield own
    engine.dispose()


def actor(session: Session, login: str) -> Actor:
    user = session.get(User, login)
    assert user is not None
    return actor_for(session, user)


def start_lead(session: Session, login: str = "officer.a", entity: str = ENTITY_A, key: str = "L-1",
               unit: str | None = None) -> ProcessInstance:
    who = actor(session, login)
    instance = start(session, "case_lead", who, {}, key, unit_id=unit or who.primary_unit,
                     entity_id=entity, entity_name={ENTITY_A: "康宁诊所", ENTITY_A2: "第二自来水公司",
                                                    ENTITY_B: "仁和口腔门诊部"}[entity])
    session.commit()
    return instance


def ready_task(session: Session, instance_id: str) -> HumanTask:
    task = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.status == "ready"))
    assert task is not None
    return task


def make_incident(session: Session) -> tuple[str, str]:
    """A service task whose operator fails every attempt: (instance id, outbox job id) of the incident."""
    from engine import JobFailed, record_failure, run_job
    from engine.models import OutboxJob
    from tests.operators import FAIL

    deploy_fixture(session, "service")
    FAIL["on"] = True
    try:
        instance = start(session, "with_service", actor(session, "officer.a"), {"name": "李四"}, unit_id=COUNTY_A)
        session.commit()
        job = session.scalar(select(OutboxJob).where(OutboxJob.instance_id == instance.id))
        assert job is not None
        for _ in range(job.max_attempts):
            with pytest.raises(JobFailed):
                run_job(session, job.id)
            session.rollback()
            record_failure(session, job.id, "the document service is down")
            session.commit()
    finally:
        FAIL["on"] = False
    assert job.status == "incident"
    return instance.id, job.id


CSRF_RE = re.compile(r'name="csrf-token" content="([^"]+)"')


@dataclass
class Browser:
    """A test client that behaves like a signed-in browser: it sends the page's CSRF token."""

    client: FlaskClient
    token: str = ""

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        response = self.client.get(url, **kwargs)
        found = CSRF_RE.search(response.get_data(as_text=True)) if response.mimetype == "text/html" else None
        if found:
            self.token = found.group(1)
        return response

    def post(self, url: str, data: dict[str, Any] | None = None, csrf: bool = True, **kwargs: Any) -> TestResponse:
        if not self.token:
            self.get("/login")
        body = dict(data or {})
        if csrf:
            body.setdefault("csrf_token", self.token)
        response = self.client.post(url, data=body, **kwargs)
        found = CSRF_RE.search(response.get_data(as_text=True)) if response.mimetype == "text/html" else None
        if found:
            self.token = found.group(1)
        elif response.status_code in (301, 302, 303):
            self.token = ""  # signing in or out starts a new session: the next page brings a new token
        return response

    def api(self, method: str, url: str, json: Any = None, **kwargs: Any) -> TestResponse:
        headers = {"X-CSRFToken": self.token, **kwargs.pop("headers", {})}
        return self.client.open(url, method=method, json=json, headers=headers, **kwargs)

    def login(self, login: str, password: str = PASSWORD) -> TestResponse:
        self.get("/login")
        response = self.post("/login", {"username": login, "password": password})
        self.get("/account")
        return response


@pytest.fixture
def browser(app: Flask) -> Browser:
    return Browser(app.test_client())


@pytest.fixture
def as_user(app: Flask) -> Any:
    """``as_user("officer.a")``: a new signed-in browser (several may be open at once)."""

    def make(login: str) -> Browser:
        b = Browser(app.test_client())
        response = b.login(login)
        assert response.status_code == 302, response.get_data(as_text=True)
        return b

    return make

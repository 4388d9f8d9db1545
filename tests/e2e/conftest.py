"""End-to-end fixtures: the real app served by werkzeug in a thread, and Debian's Chromium.

The server runs against its own migrated SQLite file with the test directory and the case-lead
process deployed. Chromium is ``/usr/bin/chromium`` (never a downloaded browser); without it the
tests skip, except under ``CI=true`` where that is a failure. Screenshots go to
``tests/e2e/artifacts/`` (ignored by git) for people to look at.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from engine.dbconnect import make_engine
from engine.settings import Settings
from tests.engine_helpers import deploy_fixture
from tests.web.conftest import build_directory

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).parent / "artifacts"


@dataclass
class LiveServer:
    url: str
    db_url: str

    def session(self) -> Session:
        return Session(make_engine(self.db_url), expire_on_commit=False)


@pytest.fixture(scope="module")
def live_server(_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    from celery import current_app as current_celery

    from web.app import create_app

    folder = tmp_path_factory.mktemp("e2e")
    shutil.copyfile(_sqlite_template, folder / "e2e.db")
    db_url = f"sqlite:///{folder / 'e2e.db'}"
    engine = make_engine(db_url)
    with Session(engine) as session:
        build_directory(session)
        session.commit()
        deploy_fixture(session, "lead")
    engine.dispose()
    previous = current_celery._get_current_object()
    app = create_app(Settings(database_url=db_url, secret_key="e2e-secret"),
                     {"UPLOAD_DIR": str(folder / "uploads")})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    yield LiveServer(f"http://127.0.0.1:{server.server_port}", db_url)
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()
    with app.app_context():
        from web.extensions import db

        db.engine.dispose()
    previous.set_current()


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true: the browser is required)")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()

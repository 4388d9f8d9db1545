"""Two settings the README documents take effect: ``WEIJIAN_JOB_MAX_RETRIES`` (attempts of a service
task without its own retry element) and ``WEIJIAN_XML_MAX_BYTES`` (largest BPMN/DMN file)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import start
from engine.models import OutboxJob
from tests.engine_helpers import OFFICER, deploy_fixture
from tests.operators import CALLS, FAIL


def test_job_max_retries_sets_the_attempts_of_a_service_task(db_session: Session,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    CALLS.clear()
    FAIL["on"] = False
    deploy_fixture(db_session, "service")
    start(db_session, "with_service", OFFICER, {"name": "张三"})
    monkeypatch.setenv("WEIJIAN_JOB_MAX_RETRIES", "2")
    start(db_session, "with_service", OFFICER, {"name": "李四"})
    db_session.commit()
    assert sorted(j.max_attempts for j in db_session.scalars(select(OutboxJob))) == [2, 5]


def test_xml_max_bytes_sets_the_largest_file_accepted() -> None:
    code = ("from engine.xmlsafe import parse_xml; from engine.errors import UnsafeXml\n"
            "try:\n    parse_xml(b'<a>' + b' ' * 2000 + b'</a>', 'x.bpmn')\nexcept UnsafeXml as exc:\n"
            "    print('refused', exc.message)\nelse:\n    print('accepted')")
    small = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True,
                           env={**os.environ, "WEIJIAN_XML_MAX_BYTES": "1000"})
    assert small.stdout.startswith("refused") and "1000-byte limit" in small.stdout
    default = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True,
                             env={k: v for k, v in os.environ.items() if k != "WEIJIAN_XML_MAX_BYTES"})
    assert default.stdout.strip() == "accepted"

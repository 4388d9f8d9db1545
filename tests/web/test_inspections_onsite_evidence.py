"""The on-site task page: several evidence files (photos, videos, PDFs) uploaded with the form,
stored by SHA-256 and kept on the record; a file of a refused type writes nothing."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from engine.clock import china_today
from processes.inspections.models import Inspection
from tests.web.inspections_flow import NOTES, approved_plan, inspections_of, ready, setup_inspections, submit

JPG = b"\xff\xd8\xff\xe0" + b"photo of the washroom" * 20
PDF = b"%PDF-1.4\n" + b"air quality report" * 20


@pytest.fixture
def row(app: Flask, session: Session) -> Inspection:
    setup_inspections(session)
    _plan, draw = approved_plan(session)
    row = inspections_of(session, draw)[0]
    assert row.instance_id
    for _user in list(row.inspectors):
        submit(session, row.instance_id, "inspections.declare", "", {"conflict": False})
    return row


def _post(session: Session, as_user: Any, row: Inspection, files: list[tuple[bytes, str]]) -> Any:
    assert row.instance_id
    task = ready(session, row.instance_id, "inspections.onsite")[0]
    form: dict[str, Any] = {"checked_on": china_today().isoformat(), "co_inspector_present": "true",
                            "findings": NOTES, "outcome": "compliant", "representative": "signed",
                            "evidence": [(io.BytesIO(content), name) for content, name in files]}
    return as_user(task.assignee).post(f"/tasks/{task.id}", form, content_type="multipart/form-data")


def test_several_evidence_files_are_kept_by_their_sha256(session: Session, as_user: Any, row: Inspection) -> None:
    answer = _post(session, as_user, row, [(JPG, "门口照片.jpg"), (PDF, "检测报告.pdf")])
    assert answer.status_code in (302, 303), answer.get_data(as_text=True)[:2000]
    session.expire_all()
    kept = session.get(Inspection, row.id).findings["onsite"]["evidence"]  # type: ignore[union-attr]
    assert [(f["file_name"], f["sha256"]) for f in kept] == [
        ("门口照片.jpg", hashlib.sha256(JPG).hexdigest()), ("检测报告.pdf", hashlib.sha256(PDF).hexdigest())]


def test_a_file_of_a_refused_type_is_named_and_nothing_is_written(session: Session, as_user: Any,
                                                                  row: Inspection) -> None:
    answer = _post(session, as_user, row, [(JPG, "门口照片.jpg"), (b"MZ\x90\x00 not evidence", "tool.exe")])
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert "文件类型不允许" in page, page[:3000]
    session.expire_all()
    assert "onsite" not in session.get(Inspection, row.id).findings  # type: ignore[union-attr]
    assert ready(session, row.instance_id or "", "inspections.onsite")

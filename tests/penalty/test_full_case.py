"""A full ordinary case through the real engine: lead to archive, with the deliberation signed by
three members with their own keys (passphrases), real PDFs, and the archive's manifest checked.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import timedelta

import pytest
from marshmallow import ValidationError
from pypdf import PdfReader
from sqlalchemy import select

import signing
from engine import audit_history, verify_audit
from processes.penalty import archives_for_entity, documents_of, load_blob, sign_deliberation
from processes.penalty.models import CaseArchive
from tests.penalty.driver import NAMES, PenaltyWorld, passphrase


def _pdf_text(content: bytes) -> str:
    """The PDF's text without whitespace (titles are letter-spaced)."""
    text = "".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages)
    return "".join(text.split())


def test_an_ordinary_case_runs_from_lead_to_archive(world: PenaltyWorld) -> None:
    world.pdf = True
    world.set_day("2025-09-01")
    case_id = world.start()
    world.run_until(case_id, "sign_record")
    signers = sorted(t.assignee or "" for t in world.ready(case_id, "sign_record"))
    assert signers == ["head1", "officer1", "officer3"]

    with world.factory() as session, pytest.raises(ValidationError) as wrong:
        sign_deliberation(session, case_id, "officer1", "not-the-passphrase", now=world.now)
    assert "签名口令不正确" in str(wrong.value.messages)
    for user_id in signers:  # each member signs with their own key, unlocked by their passphrase
        with world.factory() as session:
            sign_deliberation(session, case_id, user_id, passphrase(user_id), now=world.now)
            session.commit()
    world.drain()

    world.run_until(case_id, "approve_closing")
    world.submit(case_id, "approve_closing")
    case = world.case(case_id)
    assert world.instance(case_id).status == "completed"
    assert case.status == "closed" and case.case_number == "宝卫医罚〔2025〕1号"
    assert world.instance(case_id).business_key == case.case_number  # the inbox shows the case number
    assert case.execution_status == "paid" and case.paid_fen == 500_000

    with world.factory() as session:
        assert verify_audit(session).ok
        verification = signing.verify_record(session, case.deliberation_record_id or "")
        assert verification.complete and len(verification.signatures) == 3
        docs = {d.doc_type: d for d in documents_of(session, case_id)}
        assert {"filing_report", "interview_record", "site_record", "investigation_report", "deliberation_record",
                "prior_notice", "decision", "service_receipt", "closing_report"} <= set(docs)
        # every document's SHA-256 is in the hash-chained audit trail
        audited = {str(e.data["result"].get("sha256") or e.data["result"].get("document_sha256"))
                   for e in audit_history(session, case.instance_id)
                   if e.action == "service_task_completed" and isinstance(e.data.get("result"), dict)}
        assert {d.sha256 for d in docs.values()} <= audited

        decision = load_blob(session, docs["decision"].sha256)
        text = _pdf_text(decision)
        for expected in ("行政处罚决定书", "宝卫医罚〔2025〕1号", "宝山区康宁诊所", "罚款人民币5,000.00元",
                         "申请行政复议", "提起行政诉讼", "上海市宝山区卫生健康委员会"):
            assert expected in text, expected  # Chinese text came out: no tofu boxes
        assert NAMES["head1"] in _pdf_text(load_blob(session, docs["deliberation_record"].sha256))

        archive = session.scalar(select(CaseArchive).where(CaseArchive.case_id == case_id))
        assert archive is not None
        assert [a.id for a in archives_for_entity(session, credit_code=case.credit_code)] == [archive.id]
        content = load_blob(session, archive.sha256)
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        manifest_bytes = package.read("manifest.json")
        manifest = json.loads(manifest_bytes)
        assert hashlib.sha256(manifest_bytes).hexdigest() == archive.manifest_sha256
        names = set(package.namelist())
        for entry in manifest["files"]:
            assert hashlib.sha256(package.read(entry["path"])).hexdigest() == entry["sha256"]
        assert names == {e["path"] for e in manifest["files"]} | {"manifest.json"}
    assert any(n.startswith("signatures/") and n.endswith(".xml") and "signature-" in n for n in names)
    assert "audit/audit-trail.json" in names and "case-card.json" in names
    assert sum(n.startswith("documents/") for n in names) == len(docs)


def test_passphrase_guessing_is_slowed_and_audited(world: PenaltyWorld) -> None:
    from sqlalchemy import func

    from engine.models import AuditEvent

    world.set_day("2025-09-01")
    case_id = world.start()
    world.run_until(case_id, "sign_record")
    for attempt in range(5):
        with world.factory() as session, pytest.raises(ValidationError) as wrong:
            sign_deliberation(session, case_id, "officer1", f"guess-{attempt}", now=world.now)
        assert "签名口令不正确" in str(wrong.value.messages)
    with world.factory() as session, pytest.raises(ValidationError) as waiting:  # even the right one waits
        sign_deliberation(session, case_id, "officer1", passphrase("officer1"), now=world.now)
    assert "尝试次数过多" in str(waiting.value.messages)
    with world.factory() as session:
        failed = session.scalar(select(func.count()).select_from(AuditEvent)
                                .where(AuditEvent.action == "signing_unlock_failed"))
        assert failed == 5  # every failed unlock is on the audit chain, despite the rollbacks
        assert verify_audit(session).ok
    with world.factory() as session:  # after the wait the member signs
        sign_deliberation(session, case_id, "officer1", passphrase("officer1"),
                          now=world.now + timedelta(minutes=2))
        session.commit()

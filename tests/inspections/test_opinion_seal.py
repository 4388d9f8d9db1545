"""The 卫生监督意见书 is an outward document: as a PDF it carries the unit's seal (PAdES), verified
against the Weijian root; the unit's name comes from the directory."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import timedelta

import pytest

import signing
from processes.inspections.models import Inspection
from processes.penalty import documents
from processes.penalty.seal import seal_report
from processes.penalty.storage import load_blob
from tests.inspections.driver import HEAD, UNIT, InspectionWorld

CA_PASSPHRASE = "inspections-test-ca-passphrase"


def test_opinion_pdf_is_sealed_by_the_unit(world: InspectionWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    with world.factory() as session:
        signing.init_ca(session, ca_passphrase=CA_PASSPHRASE)
        signing.issue_seal_certificate(session, UNIT, "上海市宝山区卫生健康委员会", ca_passphrase=CA_PASSPHRASE,
                                       validity=timedelta(days=30))
        session.commit()
    real = documents.pdf_rendering

    def always_pdf(_enabled: bool) -> AbstractContextManager[None]:  # the driver asks for HTML; we want the PDF
        return real(True)

    monkeypatch.setattr(documents, "pdf_rendering", always_pdf)
    world.add_entities(40)
    world.add_inspectors(["officer2", "officer3", "officer4", "officer5"])
    row = world.inspections(world.draw(world.plan({"public_place": {"count": 1}})))[0]
    assert row.instance_id
    world.declare_all(row.instance_id)
    world.onsite(row.instance_id, "correction", correction_due="2025-09-15")
    world.submit(row.instance_id, "review", {"approved": True}, actor=HEAD)
    with world.factory() as session:
        done = session.get(Inspection, row.id)
        assert done is not None and done.opinion_sha256
        pdf = load_blob(session, done.opinion_sha256)
        report = seal_report(session, done.opinion_sha256, pdf)
    assert pdf.startswith(b"%PDF-")
    assert report.status is signing.SealStatus.VALID, report.detail
    assert report.signer_name == "上海市宝山区卫生健康委员会" and report.unit_id == UNIT

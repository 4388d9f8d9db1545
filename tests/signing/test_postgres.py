"""The same signing flow on PostgreSQL (bytea, timestamptz), schema from the migrations."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from signing import (
    Reason,
    ServerKeySigner,
    create_record,
    get_record,
    init_ca,
    issue_certificate,
    sign_record,
    verify_record,
)

from .conftest import MEMBERS, deliberation, passphrase_of

pytestmark = pytest.mark.postgres


def test_sign_and_verify_on_postgresql(pg_url: str) -> None:
    engine = create_engine(pg_url)
    try:
        with Session(engine) as session:
            init_ca(session, ca_passphrase="pg-root-passphrase")
            for user_id, name, _role in MEMBERS:
                issue_certificate(session, user_id, name, passphrase_of(user_id),
                                  ca_passphrase="pg-root-passphrase")
            record_id = create_record(session, deliberation()).id
            session.commit()
            for user_id, _name, _role in MEMBERS:
                signer = ServerKeySigner.for_user(session, user_id, passphrase_of(user_id))
                assert sign_record(session, record_id, user_id, signer).valid
            session.commit()

        with Session(engine) as session:
            verification = verify_record(session, record_id)
            assert verification.complete
            assert all(r.signing_time is not None and r.signing_time.tzinfo for r in verification.signatures)
            record = get_record(session, record_id)
            record.record_xml = record.record_xml.replace("伍仟元".encode(), "伍万元".encode(), 1)
            session.commit()

        with Session(engine) as session:
            reasons = {r.reason for r in verify_record(session, record_id).signatures}
            assert reasons == {Reason.RECORD_CHANGED}
    finally:
        engine.dispose()

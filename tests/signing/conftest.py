"""Fixtures for the signing tests: one real PKI and signed records, built once per run.

Opening a PKCS#12 costs ~0.1 s by design (600,000 PBKDF2 rounds), so the CA, the members'
certificates and a few signed records are made once in a migrated SQLite template; each test
gets its own copy of that file (so it can tamper with rows freely) and the already-unlocked
signers. Nothing is mocked: the same migrations, keys and signxml as production.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session

from migrations.runner import upgrade
from signing import (
    DeliberationData,
    Evidence,
    Member,
    ServerKeySigner,
    create_record,
    init_ca,
    issue_certificate,
    sign_record,
)

CA_PASSPHRASE = "agency-root-passphrase"
MEMBERS = (("wang", "王志强", "主持人"), ("li", "李娜", "承办人"), ("zhao", "赵敏", "法制审核员"))
OUTSIDER = ("qian", "钱多多")


def passphrase_of(user_id: str) -> str:
    return f"{user_id}-签名口令-2026"


def deliberation(case_number: str = "宝卫医罚〔2026〕12号", facts: str | None = None) -> DeliberationData:
    return DeliberationData(
        case_ref="case-0012",
        case_number=case_number,
        entity_name="宝山区康宁诊所",
        entity_credit_code="92310113MA1K3Y8L2T",
        facts_found=facts or ("经查，当事人于2026年9月至10月间使用未取得执业医师资格的人员"
                              "从事诊疗活动，共计3人次。"),
        evidence=(
            Evidence("现场笔录", "site-record.pdf", "3f" * 32),
            Evidence("询问笔录（王某）", "interview-wang.pdf", "a1b2c3d4" * 8),
        ),
        legal_basis="《医疗机构管理条例》第二十七条、第四十八条",
        proposed_penalty="警告，并处罚款人民币伍仟元整",
        members=tuple(Member(uid, name, role, "同意承办人意见") for uid, name, role in MEMBERS),
        conclusion="合议一致同意：给予警告，并处罚款人民币伍仟元整。",
        deliberation_date=date(2026, 11, 20),
    )


def _session_on(path: Path) -> tuple[Session, Engine]:
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _fk(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA foreign_keys=ON")

    return Session(engine, expire_on_commit=False), engine


@dataclass
class PkiTemplate:
    path: Path
    signers: dict[str, ServerKeySigner]
    foreign_signer: ServerKeySigner
    signed_record: str
    other_record: str
    unsigned_record: str


@dataclass
class World:
    """One test's copy of the template: a session plus the ids and unlocked signers."""

    session: Session
    signers: dict[str, ServerKeySigner]
    foreign_signer: ServerKeySigner
    signed_record: str
    other_record: str
    unsigned_record: str


@pytest.fixture(scope="session")
def pki_template(tmp_path_factory: pytest.TempPathFactory) -> PkiTemplate:
    base = tmp_path_factory.mktemp("signing")
    migrated = base / "migrated.db"
    upgrade(f"sqlite:///{migrated}")

    foreign_path = base / "foreign.db"
    shutil.copyfile(migrated, foreign_path)
    session, engine = _session_on(foreign_path)
    with session:  # another agency's CA, with the same name as ours
        init_ca(session, ca_passphrase="another-agency-root")
        issue_certificate(session, "wang", "王志强", passphrase_of("wang"),
                          ca_passphrase="another-agency-root")
        foreign_signer = ServerKeySigner.for_user(session, "wang", passphrase_of("wang"))
        session.commit()
    engine.dispose()

    path = base / "pki.db"
    shutil.copyfile(migrated, path)
    session, engine = _session_on(path)
    with session:
        init_ca(session, ca_passphrase=CA_PASSPHRASE)
        for user_id, name in [(m[0], m[1]) for m in MEMBERS] + [OUTSIDER]:
            issue_certificate(session, user_id, name, passphrase_of(user_id), ca_passphrase=CA_PASSPHRASE)
        signers = {uid: ServerKeySigner.for_user(session, uid, passphrase_of(uid))
                   for uid in [m[0] for m in MEMBERS] + [OUTSIDER[0]]}
        signed = create_record(session, deliberation()).id
        other = create_record(session, deliberation("宝卫医罚〔2026〕13号")).id
        unsigned = create_record(session, deliberation("宝卫医罚〔2026〕14号")).id
        for user_id, _name, _role in MEMBERS:
            assert sign_record(session, signed, user_id, signers[user_id]).valid
        assert sign_record(session, other, "wang", signers["wang"]).valid
        session.commit()
    engine.dispose()
    return PkiTemplate(path, signers, foreign_signer, signed, other, unsigned)


@pytest.fixture
def world(pki_template: PkiTemplate, tmp_path: Path) -> Iterator[World]:
    path = tmp_path / "pki.db"
    shutil.copyfile(pki_template.path, path)
    session, engine = _session_on(path)
    with session:
        yield World(session, pki_template.signers, pki_template.foreign_signer, pki_template.signed_record,
                    pki_template.other_record, pki_template.unsigned_record)
    engine.dispose()

"""Directory: credit codes (GB 32100-2015), region codes, the unit tree, staff, sign-in lockout, demo data."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.db import utcnow
from engine.models import ProcessInstance
from processes.demo_data import load_demo
from processes.directory.codes import credit_code_problem, make_credit_code, region_code_problem
from processes.directory.models import Entity, User
from processes.directory.services import (
    DirectoryError,
    SignInRefused,
    actor_for,
    authenticate,
    create_entity,
    create_unit,
    create_user,
    subtree_ids,
)
from tests.web.conftest import COUNTY_A, COUNTY_B, PASSWORD, PROVINCE

KNOWN_VALID = "91350100M000100Y43"  # the example printed in GB 32100-2015 commentary


@pytest.mark.parametrize("code", [KNOWN_VALID, KNOWN_VALID.lower(), make_credit_code("610302", "MA6X8K21A", "92")])
def test_valid_credit_codes(code: str) -> None:
    assert credit_code_problem(code) is None


@pytest.mark.parametrize(("code", "why"), [
    ("91350100M000100Y44", "校验位"),   # wrong check character
    ("91350100M000100Y4", "18位"),     # too short
    ("91350100M0001O0Y43", "字符"),     # letter O is not in the alphabet
    ("9135A100M000100Y43", "字符"),     # region part must be digits
    ("", "18位"),
])
def test_invalid_credit_codes_are_named(code: str, why: str) -> None:
    problem = credit_code_problem(code)
    assert problem is not None and why in problem


def test_every_single_character_change_is_caught() -> None:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    for i in range(17):
        for ch in alphabet:
            if ch == KNOWN_VALID[i] or (2 <= i < 8 and not ch.isdigit()):
                continue
            changed = KNOWN_VALID[:i] + ch + KNOWN_VALID[i + 1:]
            assert credit_code_problem(changed) is not None, changed


@pytest.mark.parametrize(("code", "level", "parent", "ok"), [
    ("610000", "province", None, True), ("610300", "city", "610000", True), ("610302", "county", "610300", True),
    ("610302", "city", "610000", False), ("620100", "city", "610000", False), ("61030", None, None, False),
    ("610300", "county", "610300", False), ("610402", "county", "610300", False),
])
def test_region_codes(code: str, level: str | None, parent: str | None, ok: bool) -> None:
    assert (region_code_problem(code, level, parent) is None) is ok


def test_unit_tree_and_subtree_actor(session: Session) -> None:
    assert set(subtree_ids(session, PROVINCE)) == {PROVINCE, "610300", COUNTY_A, COUNTY_B}
    assert subtree_ids(session, COUNTY_A) == [COUNTY_A]
    provincial = actor_for(session, session.get(User, "officer.p"))  # type: ignore[arg-type]
    assert COUNTY_B in provincial.unit_ids and provincial.roles == {"officer"} and not provincial.is_admin
    admin = actor_for(session, session.get(User, "admin"))  # type: ignore[arg-type]
    assert admin.is_admin
    with pytest.raises(DirectoryError) as exc:
        create_unit(session, "X1", "某县", "county", "610402", "610300")
    assert exc.value.field == "region_code"
    with pytest.raises(DirectoryError):
        create_unit(session, "X2", "某市", "city", "610500", None)  # a city needs a parent


def test_staff_validation_and_argon2(session: Session) -> None:
    user = session.get(User, "officer.a")
    assert user is not None and user.password_hash.startswith("$argon2id$")
    with pytest.raises(DirectoryError, match="执法证号"):
        create_user(session, "new.officer", "新人", COUNTY_A, ["officer"], PASSWORD, None)
    with pytest.raises(DirectoryError, match="未知角色"):
        create_user(session, "new.one", "新人", COUNTY_A, ["superuser"], PASSWORD, None)
    with pytest.raises(DirectoryError, match="密码"):
        create_user(session, "new.two", "新人", COUNTY_A, ["head"], "short", None)
    with pytest.raises(DirectoryError, match="登录名"):
        create_user(session, "Robert'); DROP TABLE dir_user;--", "x", COUNTY_A, ["head"], PASSWORD, None)


def test_sign_in_throttle_waits_instead_of_locking(session: Session) -> None:
    now = utcnow()
    for _ in range(3):
        with pytest.raises(SignInRefused) as refused:
            authenticate(session, "officer.a", "wrong", source="10.0.0.1", max_failures=3, now=now)
        assert refused.value.reason == "bad_credentials"
    with pytest.raises(SignInRefused) as refused:  # even the right password waits out the back-off
        authenticate(session, "officer.a", PASSWORD, source="10.0.0.1", max_failures=3, now=now)
    assert refused.value.reason == "throttled" and refused.value.locked_until == now + timedelta(seconds=30)
    other = authenticate(session, "officer.a", PASSWORD, source="10.0.0.2", max_failures=3, now=now)
    assert other.id == "officer.a"  # the owner elsewhere is not locked out
    later = now + timedelta(seconds=31)
    with pytest.raises(SignInRefused):  # the next miss doubles the wait
        authenticate(session, "officer.a", "wrong", source="10.0.0.1", max_failures=3, now=later)
    with pytest.raises(SignInRefused) as refused:
        authenticate(session, "officer.a", PASSWORD, source="10.0.0.1", max_failures=3, now=later)
    assert refused.value.locked_until == later + timedelta(seconds=60)
    user = authenticate(session, "officer.a", PASSWORD, source="10.0.0.1", max_failures=3,
                        now=later + timedelta(seconds=61))
    assert user.id == "officer.a"
    with pytest.raises(SignInRefused) as refused:
        authenticate(session, "nobody", PASSWORD)
    assert refused.value.reason == "bad_credentials"


def test_entities_need_a_valid_code_and_a_known_unit(session: Session) -> None:
    with pytest.raises(DirectoryError, match="校验位"):
        create_entity(session, "91350100M000100Y44", "某公司", "medical", COUNTY_A)
    create_entity(session, KNOWN_VALID, "甲", "medical", COUNTY_A)
    session.flush()
    with pytest.raises(DirectoryError, match="已登记"):
        create_entity(session, KNOWN_VALID, "乙", "medical", COUNTY_A)
    with pytest.raises(DirectoryError, match="监督类别"):
        create_entity(session, make_credit_code("610302", "ABCDEFGH1"), "丙", "casino", COUNTY_A)


def test_demo_data_is_idempotent(session: Session) -> None:
    first = load_demo(session)
    session.commit()
    counts = [session.scalar(select(func.count()).select_from(t)) for t in (User, Entity, ProcessInstance)]
    second = load_demo(session)
    session.commit()
    assert "already loaded" in second and "weijian-demo" in first
    assert [session.scalar(select(func.count()).select_from(t)) for t in (User, Entity, ProcessInstance)] == counts
    assert counts[2] == 3  # case_lead is deployed in this database: three demo leads

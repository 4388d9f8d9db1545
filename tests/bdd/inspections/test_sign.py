"""随机抽取记录的电子签名: steps for sign.feature (processes.inspections.draw_record over signing;
real keys under real passphrases, the agency root and its CRL, frozen scenario time)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

import signing
from processes.directory.services import DirectoryError
from processes.inspections import draw as draws
from processes.inspections import draw_record, service
from processes.inspections.models import Draw, DrawImmutableError
from tests.inspections.driver import HEAD, NAMES, WITNESS, InspectionWorld

scenarios("sign.feature")

CA = "bdd-inspections-ca-passphrase"


def secret(user: str) -> str:
    return f"{user}-抽取记录签名口令"


@given(parsers.parse('机构根证书已建立，"{users}"持有签名证书'))
def pki(world: InspectionWorld, users: str) -> None:
    issued = world.now - timedelta(days=30)
    with world.factory() as session:
        signing.init_ca(session, ca_passphrase=CA, now=issued)
        for user in users.split(","):
            signing.issue_certificate(session, user, NAMES[user], secret(user), ca_passphrase=CA, now=issued)
        session.commit()


@when(parsers.parse("抽取一份{count:d}户的计划"))
def drawn(world: InspectionWorld, ctx: dict[str, Any], count: int) -> None:
    ctx["draws"].append(world.draw(world.plan({"public_place": {"count": count}})))


@when(parsers.parse('按需要见证人的计划锁定快照，见证人录入公开随机数"{value}"'))
def witnessed(world: InspectionWorld, ctx: dict[str, Any], value: str) -> None:
    ctx["draws"].append(world.draw(world.plan(seed_source="witnessed", witness_id=WITNESS.user_id)))
    with world.factory() as session:
        draw = session.get(Draw, ctx["draws"][-1])
        assert draw is not None
        draws.perform_draw(session, WITNESS, draw, public_value=value, now=world.now)
        session.commit()


def _sign(world: InspectionWorld, ctx: dict[str, Any], user: str, passphrase: str) -> None:
    with world.factory() as session:
        try:
            draw_record.sign_draw(session, ctx["draws"][-1], user, passphrase, now=world.now)
        except DirectoryError as exc:
            session.rollback()
            world.errors.append(exc)
        else:
            session.commit()


@when(parsers.parse('"{user}"用自己的口令签署抽取记录'))
def sign_own(world: InspectionWorld, ctx: dict[str, Any], user: str) -> None:
    _sign(world, ctx, user, secret(user))


@when(parsers.parse('"{user}"用错误的口令签署抽取记录'))
def sign_wrong(world: InspectionWorld, ctx: dict[str, Any], user: str) -> None:
    _sign(world, ctx, user, "not my passphrase")


def _verification(world: InspectionWorld, draw_id: str) -> signing.RecordVerification:
    with world.factory() as session:
        found = draw_record.verification(session, draw_id)
        assert found is not None, "no draw record was made"
        return found[1]


@then(parsers.parse('抽取记录有{count:d}个有效签名，签名人为"{a}"（"{role_a}"）和"{b}"（"{role_b}"）'))
def both_valid(world: InspectionWorld, ctx: dict[str, Any], count: int, a: str, role_a: str, b: str,
               role_b: str) -> None:
    verification = _verification(world, ctx["draws"][-1])
    assert verification.complete and len(verification.signatures) == count
    assert {(r.signer_user_id, r.role) for r in verification.signatures} == {(a, role_a), (b, role_b)}
    assert all(r.certificate_serial and r.signing_time for r in verification.signatures)


@then("抽取记录载明种子承诺、公开的种子、快照哈希和抽中的每一户")
def states_everything(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    draw = world.draw_row(ctx["draws"][-1])
    with world.factory() as session:
        record = draw_record.record_of(session, draw.id)
        assert record is not None
        xml = record.record_xml.decode()
    assert draw.seed and draw.seed_hash and draw.result
    for value in (draw.seed, draw.seed_hash, draw.snapshot_hash, draw.entities_hash, draw.commitment_hash,
                  draw.algorithm, *(e["credit_code"] for e in draw.result["entities"])):
        assert value in xml, value


@then(parsers.parse('抽取记录中"{user}"的签名有效，角色为"{role}"'))
def witness_valid(world: InspectionWorld, ctx: dict[str, Any], user: str, role: str) -> None:
    reports = {r.signer_user_id: r for r in _verification(world, ctx["draws"][-1]).signatures}
    assert reports[user].valid and reports[user].role == role


@when("有人把保存的抽取记录中第1户换成了名录库中未抽中的一户")
def tamper(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    draw = world.draw_row(ctx["draws"][-1])
    assert draw.result
    drawn = {e["credit_code"] for e in draw.result["entities"]}
    first = draw.result["entities"][0]["credit_code"]
    with world.factory() as session:
        other = next(c for c in ctx["codes"] if c not in drawn)
        record = draw_record.record_of(session, draw.id)
        assert record is not None
        record.record_xml = record.record_xml.replace(first.encode(), other.encode(), 1)
        session.commit()


@then("抽取记录的2个签名均无效，原因是记录在签名后被修改")
def both_invalid(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    reports = _verification(world, ctx["draws"][-1]).signatures
    assert len(reports) == 2 and all(r.reason is signing.Reason.RECORD_CHANGED for r in reports)


@when("有人试图直接修改抽取结果")
def edit(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    with world.factory() as session:
        draw = session.get(Draw, ctx["draws"][-1])
        assert draw is not None and draw.result
        draw.result = {**draw.result, "entities": draw.result["entities"][:1]}
        with pytest.raises(DrawImmutableError) as refused:
            session.commit()
        world.errors.append(DirectoryError(str(refused.value), "draw"))


@when(parsers.parse('负责人以"{reason}"为由重新抽取'))
def redraw(world: InspectionWorld, ctx: dict[str, Any], reason: str) -> None:
    with world.factory() as session:
        new = service.redraw(session, HEAD, ctx["draws"][-1], reason, now=world.now)
        session.commit()
        ctx["draws"].append(new.id)


@then(parsers.parse("原抽取记录的{count:d}个签名仍然有效"))
def old_still_valid(world: InspectionWorld, ctx: dict[str, Any], count: int) -> None:
    verification = _verification(world, ctx["draws"][-2])
    assert verification.complete and len(verification.signatures) == count


@then(parsers.parse('新抽取记录载明被替代的抽取和理由"{reason}"'))
def new_names_old(world: InspectionWorld, ctx: dict[str, Any], reason: str) -> None:
    with world.factory() as session:
        record = draw_record.record_of(session, ctx["draws"][-1])
        assert record is not None
        xml = record.record_xml.decode()
    assert ctx["draws"][-2] in xml and reason in xml and "<PreviousDrawId>" in xml

"""The signed draw record: what a finished draw states, who signs it, and signing with a passphrase.

Why two signers: 国办发〔2015〕58号 asks for a draw that leaves a full electronic trail, and a draw
witnessed by a second person is the practice of the 双随机 rules. The **planner** signs as 抽取人
(计划制定人): the plan's creator, who answers for the plan the draw executes, whether the draw was
run by the process right after approval, by the scheduler, or as a re-draw. The **witness** signs
as 见证人: the draw's witness when a witness entered the public seed value, else the head who
approved the plan (the person who authorised the draw stands as its witness, so every draw
carries a second signature; [practice], documented in the README); if that head is the planner,
the user who ran the draw when that is someone else, else the record has the planner only.

The record is made once per draw (``signing_record.case_ref = "draw:<draw id>"``) from the stored
draw row, which cannot change any more (``models._draw_is_never_edited``): a re-draw is a new draw
with a record of its own naming the draw it replaces and why, and the old record keeps verifying.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

import signing
from engine import audit
from engine.calendar import CHINA_TZ
from processes.directory import throttle
from processes.directory.models import ENTITY_CATEGORIES, Entity, Unit, User
from processes.directory.services import DirectoryError
from signing.draw_records import SUBJECT_PREFIX
from signing.models import DeliberationRecord, StoredSignature

from . import sampling
from .models import Draw, Plan
from .plans import WEIGHT_LABELS

PLANNER_ROLE = "抽取人（计划制定人）"
WITNESS_ROLE = "见证人"
HEAD_WITNESS_ROLE = "见证人（审批负责人）"
SIGNING_THROTTLE = throttle.Policy(free=5, base_seconds=60, max_seconds=30 * 60)
"""[practice] as for deliberation signatures (OWASP ASVS 2.2): five free tries, then a growing wait."""


def _names(session: Session, user_ids: set[str]) -> dict[str, str]:
    return dict(session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids))).all())


def signers(session: Session, draw: Draw, plan: Plan) -> list[signing.DrawSigner]:
    """Planner and witness of a draw (see the module docstring for who they are)."""
    planner = plan.created_by
    witness, role = (draw.witness_id, WITNESS_ROLE) if draw.witness_id else (plan.approved_by, HEAD_WITNESS_ROLE)
    if witness == planner and draw.committed_by != planner and session.get(User, draw.committed_by) is not None:
        witness, role = draw.committed_by, WITNESS_ROLE  # e.g. the head who ran a re-draw of their own plan
    people = [(planner, PLANNER_ROLE)] + ([(witness, role)] if witness and witness != planner else [])
    names = _names(session, {u for u, _r in people})
    return [signing.DrawSigner(user_id=u, name=names.get(u, u), role=r) for u, r in people]


def record_data(session: Session, draw: Draw) -> signing.DrawRecordData:
    """The draw as its record states it, read from the stored (immutable) draw row."""
    plan = session.get(Plan, draw.plan_id)
    if plan is None or draw.status == "committed" or draw.result is None or draw.drawn_at is None:
        raise DirectoryError("抽取尚未完成，不能生成抽取记录", "draw")
    unit = session.get(Unit, plan.unit_id)
    result = draw.result
    drawn = list(result.get("entities") or [])
    assignments: dict[str, list[str]] = result.get("assignments") or {}
    entity_names = dict(session.execute(select(Entity.credit_code, Entity.name).where(
        Entity.credit_code.in_([e["credit_code"] for e in drawn]))).all())
    people = _names(session, {u for users in assignments.values() for u in users})
    entities = [signing.DrawnEntity(credit_code=e["credit_code"], name=entity_names.get(e["credit_code"], "—"),
                                    category=ENTITY_CATEGORIES.get(e["category"], e["category"]),
                                    inspectors=tuple((u, people.get(u, u))
                                                     for u in assignments.get(e["credit_code"], [])))
                for e in drawn]
    return signing.DrawRecordData(
        draw_id=draw.id, plan_code=plan.code, plan_title=plan.title, unit_name=unit.name if unit else plan.unit_id,
        period=draw.period, seq=draw.seq, algorithm=draw.algorithm,
        parameters_json=sampling.canonical(draw.params).decode("utf-8"),
        seed_source=draw.seed_source, seed_hash=draw.seed_hash or "", seed=draw.seed or "",
        entities_hash=draw.entities_hash, snapshot_hash=draw.snapshot_hash, commitment_hash=draw.commitment_hash,
        result_hash=draw.result_hash or "", drawn_at=draw.drawn_at.astimezone(CHINA_TZ),
        entities=entities, signers=signers(session, draw, plan),
        previous_draw_id=draw.supersedes_id, redraw_reason=draw.reason if draw.supersedes_id else None)


PARAMETER_LABELS: dict[str, str] = {
    "default_ratio": "默认抽取比例", "min_per_category": "每类至少抽取数", "weights": "抽取权重",
    **WEIGHT_LABELS, "weights_changed": "本计划自定的权重（与规则的默认值不同）",
    "recent_months": "近期已检查的排除期（月）",
    "frequency_cap": "每年随机检查次数上限", "min_inspectors": "每个对象至少检查人员数",
    "min_specialists": "至少专业人员数", "previous_inspector_months": "检查过该对象的人员回避期（月）",
    "pair_months": "共同检查过的人员不同组期限（月）", "categories": "抽查类别", "ratio": "抽取比例",
    "count": "抽取数量", "scope_units": "抽查范围（单位）", "algorithm": "算法", "numpy": "NumPy 版本",
    "fixed_entities": "固定检查对象名单", "{}": "按默认比例", "correction_max_days": "最长整改期限（日）",
}
"""The Chinese names of a plan's parameters (``rules.Rules.as_params`` and ``plans.create_plan``)
on the draw record's page; the signed record keeps the keys (its bytes never change)."""


def parameter_labels(session: Session, draw_id: str) -> dict[str, str]:
    """``PARAMETER_LABELS`` with the draw's category codes and scope units by name, for
    ``signing.render_html(..., labels=)``."""
    draw = session.get(Draw, draw_id)
    units = [str(u) for u in ((draw.params or {}).get("scope_units") or [])] if draw is not None else []
    names = dict(session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(units))).all()) if units else {}
    return {**ENTITY_CATEGORIES, **{str(k): str(v) for k, v in names.items()}, **PARAMETER_LABELS}


def subject(draw_id: str) -> str:
    return f"{SUBJECT_PREFIX}{draw_id}"


def record_of(session: Session, draw_id: str) -> DeliberationRecord | None:
    """The draw's signed record, if it was made."""
    records = signing.records_for_case(session, subject(draw_id))
    return records[0] if records else None


def ensure_record(session: Session, draw: Draw, *, now: datetime | None = None) -> DeliberationRecord:
    """The draw's record, made on first need (the first signature) from the stored draw."""
    existing = record_of(session, draw.id)
    if existing is not None:
        return existing
    return signing.create_draw_record(session, record_data(session, draw), now=now)


def pending_signers(session: Session, draw: Draw) -> list[str]:
    """Who still has to sign (all signers while no record exists yet)."""
    record = record_of(session, draw.id)
    if record is None:
        plan = session.get(Plan, draw.plan_id)
        return [s.user_id for s in signers(session, draw, plan)] if plan and draw.status != "committed" else []
    signed = set(session.scalars(select(StoredSignature.user_id).where(
        StoredSignature.record_id == record.id)))
    return [m.user_id for m in signing.members(session, record.id) if m.user_id not in signed]


def sign_draw(session: Session, draw_id: str, user_id: str, passphrase: str, *,
              now: datetime | None = None) -> signing.SignatureReport:
    """``user_id`` signs the draw's record with their own key, unlocked by ``passphrase``.

    Refusals raise ``DirectoryError`` with the reason in Chinese (nothing is signed): not a
    signer, already signed, too many attempts, wrong passphrase (counted and audited like a
    deliberation signature, and committed so a rollback does not erase them), no certificate,
    or a signature that did not verify.
    """
    draw = session.get(Draw, draw_id)
    if draw is None:
        raise DirectoryError("没有这次抽取", "draw")
    if user_id not in pending_signers(session, draw):
        plan = session.get(Plan, draw.plan_id)
        if draw.status != "committed" and plan and user_id in {s.user_id for s in signers(session, draw, plan)}:
            raise DirectoryError("你已经签过名", "passphrase")
        raise DirectoryError("你不是这次抽取记录的签名人", "passphrase")
    key = f"sign:{user_id}"
    refused = throttle.reserve(session, {key: SIGNING_THROTTLE}, now)
    session.commit()
    if refused is not None:
        retry = refused.retry_at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")
        raise DirectoryError(f"签名口令尝试次数过多，请在{retry}后再试", "passphrase")
    try:
        signer = signing.ServerKeySigner.for_user(session, user_id, passphrase)
    except signing.PassphraseError:
        audit.append(session, user_id, "signing_unlock_failed", now=now, data={"draw": draw_id})
        session.commit()
        raise DirectoryError("签名口令不正确", "passphrase") from None
    except signing.NoCertificateError:
        raise DirectoryError("你还没有有效的签名证书，请联系管理员签发", "passphrase") from None
    throttle.clear(session, key)
    record = ensure_record(session, draw, now=now)
    report = signing.sign_record(session, record.id, user_id, signer, now=now)
    if not report.valid:
        reason = report.reason.label_zh if report.reason else report.detail
        raise DirectoryError(f"签名未通过验证：{reason}", "passphrase")
    audit.append(session, user_id, "inspection_draw_signed", now=now,
                 data={"draw": draw_id, "record": record.id, "signature": report.signature_id,
                       "certificate_serial": report.certificate_serial})
    return report


def verification(session: Session, draw_id: str) -> tuple[DeliberationRecord,
                                                        signing.RecordVerification] | None:
    """The draw's record and every stored signature checked again from the stored bytes."""
    record = record_of(session, draw_id)
    if record is None:
        return None
    return record, signing.verify_record(session, record.id)


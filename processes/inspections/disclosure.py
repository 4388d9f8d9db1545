"""What the public disclosure site (一公开) may show: published plans, disclosed inspection
results, disclosed penalty decisions, an entity's record, and a draw's public re-verification.

Why a module of its own that returns plain dictionaries: the public pages must never reach for a
row and print whatever it holds. Everything public goes through one of these functions, which
pick the fields the law asks to publish (国发〔2019〕5号: plan, entity, items, date, result,
handling; 行政处罚法 Art. 48: the decision) and nothing else: no inspector or staff names, no
findings or opinions (internal notes), no natural person's name, ID number or address (an
individual party shows as 张某).

An inspection result is disclosed once the head completed the process's explicit step 公示检查结果
(``disclosed_on``; due 20 working days after ``result_on``, the task's overdue notice is the 督办),
or once a 责令改正 opinion was issued (the handling is public while the correction runs). A
penalty decision is disclosed once the head completed its step 公示行政处罚决定
(``decision_disclosure``: due 7 working days after the decision, overdue = 督办; a head may decide
不予公开 with a reason) and withdrawn when revoked (``execution_status == "revoked"``).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import Select, bindparam, or_, select
from sqlalchemy.orm import Session

from processes.directory.models import ENTITY_CATEGORIES, Entity, Unit

from . import public_changes, sampling
from .forms import OUTCOME_NAMES
from .models import Draw, EntityProfile, Inspection, InspectionItem, Plan, PublicChange
from .plans import KINDS

RESULT_NAMES = {**OUTCOME_NAMES, "not_found": "查无此户（已关闭）"}
CREDIT_GRADES = {"A": "A级（守信）", "B": "B级（基本守信）", "C": "C级（失信）", "D": "D级（严重失信）"}


def mask_person(name: str | None) -> str:
    """An individual party as the public sees them: the family name and 某 (张伟 -> 张某)."""
    clean = (name or "").strip()
    return f"{clean[0]}某" if clean else "某"


def published_plans(session: Session, *, limit: int = 100) -> list[dict[str, Any]]:
    """Published plans, newest first (a schedule's period plans too: each is a plan of its own)."""
    units = dict(session.execute(select(Unit.id, Unit.name)).all())
    rows = session.scalars(select(Plan).where(Plan.status == "published")
                           .order_by(Plan.published_at.desc(), Plan.code).limit(limit))
    out = []
    for plan in rows:
        categories = []
        for code, spec in sorted((plan.params.get("categories") or {}).items()):
            amount = (f"{spec['count']}户" if spec.get("count") else
                      f"{float(spec.get('ratio') or plan.params.get('default_ratio', '0.05')) * 100:g}%")
            categories.append({"category": ENTITY_CATEGORIES.get(code, code),
                               "amount": "固定名单" if plan.fixed_entities is not None else amount})
        draws = session.scalars(select(Draw).where(Draw.plan_id == plan.id, Draw.status != "committed")
                                .order_by(Draw.period, Draw.seq))
        out.append({"id": plan.id, "code": plan.code, "title": plan.title, "kind": KINDS.get(plan.kind, plan.kind),
                    "unit": units.get(plan.unit_id, ""), "window_start": plan.window_start,
                    "window_end": plan.window_end, "categories": categories,
                    "published_on": plan.published_at.date() if plan.published_at else None,
                    "draws": [{"id": d.id, "period": d.period, "seq": d.seq, "superseded": d.status == "superseded",
                               "drawn": len((d.result or {}).get("entities", []))} for d in draws]})
    return out


def _disclosed() -> Any:
    return (Inspection.status != "cancelled") & or_(Inspection.disclosed_on.is_not(None),
                                                   Inspection.opinion_sha256.is_not(None))


def _handling(row: Any) -> str:
    if row.outcome == "correction":
        if row.reinspection == "corrected":
            return "责令改正，复查已整改到位"
        if row.reinspection == "not_corrected":
            return "责令改正，逾期未整改，已移送立案查处"
        return f"责令限期改正（期限至{row.correction_due.isoformat()}）" if row.correction_due else "责令限期改正"
    if row.outcome == "violation":
        return "涉嫌违法，已移送立案查处"
    if row.outcome == "not_found":
        return "检查对象已关闭或者查无此户"
    return "未发现问题"


@lru_cache(maxsize=1)
def _results_select() -> Select[*tuple[Any, ...]]:
    """Results with their plan and whether a public change exists, before filters (built once)."""
    has_change = (select(PublicChange.id).where(PublicChange.item_kind == public_changes.RESULT,
                                                PublicChange.item_id == Inspection.id).exists())
    return (select(Inspection.id, Inspection.entity_name, Inspection.credit_code, Inspection.category,
                   Inspection.checked_on, Inspection.outcome, Inspection.reinspection, Inspection.correction_due,
                   Plan.code.label("plan_code"), Plan.title.label("plan_title"), Plan.item_ids.label("plan_items"),
                   has_change.label("has_change"))
            .join(Plan, Plan.id == Inspection.plan_id, isouter=True).where(_disclosed()))


def _ordered_page(stmt: Select[*tuple[Any, ...]], *order: Any) -> Select[*tuple[Any, ...]]:
    return stmt.order_by(*order).limit(bindparam("limit")).offset(bindparam("offset"))


@lru_cache(maxsize=1)
def _entity_results_select() -> Select[*tuple[Any, ...]]:
    return _ordered_page(_results_select().where(Inspection.credit_code == bindparam("credit_code")),
                         Inspection.checked_on.desc(), Inspection.id)


@lru_cache(maxsize=1)
def _items_select() -> Select[*tuple[Any, ...]]:
    return (select(InspectionItem.id, InspectionItem.name, InspectionItem.category)
            .where(InspectionItem.id.in_(bindparam("ids", expanding=True))).order_by(InspectionItem.id))


def disclosed_results(session: Session, *, credit_code: str | None = None, query: str | None = None,
                      limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    """Disclosed inspection results, newest first: entity, credit code, items, date, result, handling.

    Why columns, not rows, statements built once, and no query that cannot find anything: an
    entity's page (what a door QR code opens) is the public site's busiest, and most entities have
    no result or no change. One statement reads the results with their plan and whether any public
    change exists; the item names and the changes are read only when there is something to read."""
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    if credit_code and not query:
        stmt, params["credit_code"] = _entity_results_select(), credit_code
    else:
        stmt = _results_select()
        if credit_code:
            stmt = stmt.where(Inspection.credit_code == credit_code)
        if query:
            stmt = stmt.where(or_(Inspection.entity_name.contains(query, autoescape=True),
                                  Inspection.credit_code == query.upper()))
        stmt = _ordered_page(stmt, Inspection.checked_on.desc(), Inspection.id)
    rows = session.execute(stmt, params).all()
    if not rows:
        return []
    item_ids = sorted({i for row in rows for i in (row.plan_items or [])})
    items = session.execute(_items_select(), {"ids": item_ids}).all() if item_ids else []
    changed = [row.id for row in rows if row.has_change]
    changes = public_changes.changes_by_item(session, changed) if changed else {}
    out = []
    for row in rows:
        in_plan = row.plan_items or []
        names = [i.name for i in items if i.id in in_plan and i.category == row.category]
        marks = changes.get(row.id, [])
        withdrawn = any(m["withdrawn"] for m in marks)  # the mark stays public, the result does not
        out.append({"entity_name": row.entity_name, "credit_code": row.credit_code,
                    "category": ENTITY_CATEGORIES.get(row.category, row.category), "item_names": names,
                    "checked_on": row.checked_on,
                    "result": "" if withdrawn else RESULT_NAMES.get(row.outcome or "", row.outcome or ""),
                    "outcome": "" if withdrawn else row.outcome, "handling": "" if withdrawn else _handling(row),
                    "plan_code": row.plan_code or "", "plan_title": row.plan_title or "",
                    "withdrawn": withdrawn, "changes": marks})
    return out


@lru_cache(maxsize=1)
def _decisions_select() -> Select[*tuple[Any, ...]]:
    """Decided penalty cases the head disclosed and not revoked, newest first, before the entity
    filter (built once). The disclosure row is joined by its primary key (the case id)."""
    from processes.penalty.models import PenaltyCase

    from .decision_models import DISCLOSED, DecisionDisclosure

    return select(PenaltyCase.case_number, PenaltyCase.decided_on, PenaltyCase.party_type, PenaltyCase.entity_name,
                  PenaltyCase.credit_code, PenaltyCase.category, PenaltyCase.legal_basis,
                  PenaltyCase.decided_penalty, PenaltyCase.unit_name).join(
        DecisionDisclosure, (DecisionDisclosure.case_id == PenaltyCase.id) & (DecisionDisclosure.status == DISCLOSED)
    ).where(PenaltyCase.decided_on.is_not(None), PenaltyCase.case_number.is_not(None),
            or_(PenaltyCase.execution_status.is_(None), PenaltyCase.execution_status != "revoked"))


@lru_cache(maxsize=2)
def _decisions_page(by_entity: bool) -> Select[*tuple[Any, ...]]:
    from processes.penalty.models import PenaltyCase

    stmt = _decisions_select()
    if by_entity:
        stmt = stmt.where(PenaltyCase.party_type != "person", or_(PenaltyCase.credit_code == bindparam("credit_code"),
                                                                  PenaltyCase.entity_id == bindparam("credit_code")))
    return _ordered_page(stmt, PenaltyCase.decided_on.desc(), PenaltyCase.case_number)


def disclosed_decisions(session: Session, *, credit_code: str | None = None, limit: int = 50,
                        offset: int = 0) -> list[dict[str, Any]]:
    """Disclosed penalty decisions not revoked (行政处罚法 Art. 48), an individual party anonymised."""
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    if credit_code:
        params["credit_code"] = credit_code
    return [public_decision(case) for case in session.execute(_decisions_page(bool(credit_code)), params)]


def public_decision(case: Any) -> dict[str, Any]:
    """What the public reads of one decision (a case row or a selected row): number, date, party
    (an individual as 张某, without credit code), category, basis, penalty, authority. The head's
    disclosure task shows exactly this before it is published."""
    from processes.penalty.forms import CATEGORY_NAMES

    person = case.party_type == "person"
    return {"number": case.case_number, "decided_on": case.decided_on,
            "party": mask_person(case.entity_name) if person else (case.entity_name or ""),
            "credit_code": "" if person else (case.credit_code or ""),
            "category": CATEGORY_NAMES.get(case.category or "", ""), "legal_basis": case.legal_basis or "",
            "penalty": (case.decided_penalty or {}).get("text", ""), "authority": case.unit_name}


def decision_periods(session: Session) -> list[dict[str, Any]]:
    """The disclosure periods of penalty decisions as the public page states them, read from
    ``rules.toml`` (with the administrators' changes) with their label ([law]/[unconfirmed]) and
    source, so the page and the rule agree."""
    from .rule_store import effective_rules

    rules = effective_rules(session)
    return [{"key": "decision_workdays", "days": rules.decision_workdays,
             "source": rules.disclosure_sources.get("decision_workdays", "")},
            {"key": "decision_withdraw_workdays", "days": rules.decision_withdraw_workdays,
             "source": rules.disclosure_sources.get("decision_withdraw_workdays", "")}]


@dataclass
class EntityRecord:
    credit_code: str
    name: str
    category: str
    address: str
    credit_grade: str
    status: str
    results: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)


@lru_cache(maxsize=1)
def _entity_select() -> Select[*tuple[Any, ...]]:
    return (select(Entity.credit_code, Entity.name, Entity.category, Entity.address, EntityProfile.credit_grade,
                   EntityProfile.status)
            .join(EntityProfile, EntityProfile.credit_code == Entity.credit_code, isouter=True)
            .where(Entity.credit_code == bindparam("credit_code")))


def entity_record(session: Session, credit_code: str) -> EntityRecord | None:
    """An entity's public page: identity as registered, credit grade, results and decisions."""
    entity = session.execute(_entity_select(), {"credit_code": credit_code}).first()
    if entity is None:
        return None
    grade = entity.credit_grade
    status = {"active": "正常经营", "inactive": "停业", "closed": "已关闭"}.get(entity.status or "active", "正常经营")
    return EntityRecord(entity.credit_code, entity.name, ENTITY_CATEGORIES.get(entity.category, entity.category),
                        entity.address or "", CREDIT_GRADES.get(grade or "", "未评定"), status,
                        disclosed_results(session, credit_code=credit_code, limit=100),
                        disclosed_decisions(session, credit_code=credit_code, limit=100))


@dataclass
class PublicVerification:
    """Anyone's check of a draw: the published entity snapshot against its committed hash, and
    the drawn entities recomputed from it, the revealed seed and the published parameters."""

    draw_id: str
    plan_code: str
    algorithm: str
    period: str
    seed: str | None
    seed_hash: str | None
    entities_hash: str
    snapshot_hash: str
    commitment_hash: str
    identical: bool = False
    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    drawn: list[dict[str, Any]] = field(default_factory=list)


def public_snapshot(session: Session, draw_id: str) -> bytes | None:
    """The entity half of a draw's snapshot as stored (canonical JSON; no personal data)."""
    draw = session.get(Draw, draw_id)
    if draw is None or draw.status == "committed":
        return None
    entities, _sep, _matching = zlib.decompress(draw.snapshot).partition(b"\n")
    return entities


def public_params(draw: Draw) -> dict[str, Any]:
    """The parameters the entity draw reads (inspector matching settings are not needed)."""
    keep = ("algorithm", "categories", "default_ratio", "min_per_category", "fixed_entities")
    return {k: v for k, v in draw.params.items() if k in keep}


def verify_public(session: Session, draw_id: str) -> PublicVerification | None:
    """Recompute the entity draw from the stored snapshot's entity half, the seed and the algorithm."""
    draw = session.get(Draw, draw_id)
    if draw is None or draw.status == "committed":
        return None
    plan = session.get(Plan, draw.plan_id)
    report = PublicVerification(draw.id, plan.code if plan else "", draw.algorithm, draw.period, draw.seed,
                                draw.seed_hash, draw.entities_hash, draw.snapshot_hash, draw.commitment_hash)
    try:
        raw = zlib.decompress(draw.snapshot)
    except zlib.error:
        report.problems.append("快照数据无法读取")
        return report
    entities_part, _sep, matching_part = raw.partition(b"\n")
    actual = sampling.sha256_hex(entities_part)
    if actual != draw.entities_hash:
        report.problems.append(f"检查对象快照哈希不符：承诺值 {draw.entities_hash}，实际 {actual}")
    else:
        report.checked.append(f"检查对象快照哈希一致：{actual}")
    combined = sampling.sha256_hex(f"{actual}:{sampling.sha256_hex(matching_part)}")
    if combined != draw.snapshot_hash:
        report.problems.append(f"快照总哈希不符：承诺值 {draw.snapshot_hash}，实际 {combined}")
    if draw.seed is None or draw.seed_hash != sampling.sha256_hex(draw.seed):
        report.problems.append("随机种子与事先公布的种子哈希不符")
    else:
        report.checked.append(f"随机种子的SHA-256与事先公布的一致：{draw.seed_hash}")
    if draw.algorithm != sampling.ALGORITHM:
        report.problems.append(f"算法版本不同：抽取时 {draw.algorithm}，本程序 {sampling.ALGORITHM}")
        return report
    try:
        snapshot = sampling.Snapshot(orjson.loads(entities_part)["entities"], [], {})
        recomputed = sampling.draw_entities(snapshot, draw.seed or "", draw.params)
    except (ValueError, KeyError, TypeError) as exc:
        report.problems.append(f"快照无法解析：{type(exc).__name__}")
        return report
    stored = list((draw.result or {}).get("entities") or [])
    for n in range(max(len(stored), len(recomputed))):
        a = stored[n] if n < len(stored) else None
        b = recomputed[n] if n < len(recomputed) else None
        if a != b:
            report.problems.append(f"第{n + 1}个：记录为 {a and a['credit_code']}，重新计算为 {b and b['credit_code']}")
    names = dict(session.execute(select(Entity.credit_code, Entity.name).where(
        Entity.credit_code.in_([e["credit_code"] for e in recomputed]))).all())
    report.drawn = [{"credit_code": e["credit_code"], "name": names.get(e["credit_code"], ""),
                     "category": ENTITY_CATEGORIES.get(e["category"], e["category"]),
                     "same": n < len(stored) and stored[n] == e} for n, e in enumerate(recomputed)]
    if not report.problems:
        report.checked.append(f"重新计算抽中的{len(recomputed)}个检查对象与记录完全一致")
    report.identical = not report.problems
    return report


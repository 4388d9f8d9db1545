"""A plan's draw in the database: snapshot the pools, commit, draw, verify, re-draw, replace.

Why commit first: the snapshot hash, the plan parameters, the algorithm version and the seed's
SHA-256 (or, for a witnessed public value, the fact that none is known yet) are stored before any
entity is picked, so nobody can try seeds until the list suits them. ``verify_draw`` recomputes
the draw from the stored snapshot bytes, the revealed seed and ``sampling.run`` and reports
either "identical" or every place it differs, including a snapshot whose bytes no longer match
the committed hash. Draw rows are never edited: a re-draw is a new row with a reason.

Who is eligible (what the snapshot holds, as of the draw day):
* entities of the plan's categories in its scope units, status active, not inspected within
  ``recent_months``, fewer than ``frequency_cap`` random inspections this calendar year, weighted
  by risk level x credit grade x complaints (``Weights.weight``; complaints are those about the
  entity received within ``complaints_months`` before the draw day, counted by the packages that
  answer ``registry.complaints_about_entities``, or the profile's imported count when that is
  larger); a national task's fixed list
  instead, unfiltered and unweighted;
* inspectors of the scope units and of the planning unit (a city plan over two counties is
  inspected by the city's inspectors too), active, with an enforcement certificate valid over the whole
  inspection window, not on leave on the draw day nor for half the window or more; specialists
  for the plan categories they list as specialties; conflicts are their relatives' and former
  employers' credit codes;
* history: each eligible entity's inspectors within ``previous_inspector_months`` and every pair
  that inspected together within ``pair_months`` (from earlier, not superseded draws).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import combinations
from typing import Any

import numpy as np
from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import Actor, audit
from engine.calendar import CHINA_TZ
from engine.clock import china_today
from engine.db import utcnow
from processes.directory.models import Entity
from processes.directory.services import DirectoryError
from processes.registry import complaints_about_entities

from . import sampling
from .models import Draw, EntityProfile, Inspection, Inspector, InspectorLeave, Plan, Replacement
from .rules import Weights


@dataclass
class Verification:
    draw_id: str
    identical: bool
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)


def _history(session: Session, plan: Plan, on: date, codes: set[str]) -> dict[str, Any]:
    previous_from = on - relativedelta(months=int(plan.params["previous_inspector_months"]))
    pairs_from = on - relativedelta(months=int(plan.params["pair_months"]))
    earliest = min(previous_from, pairs_from)
    rows = session.execute(select(Inspection.credit_code, Inspection.inspectors, Draw.drawn_at)
                           .join(Draw, Draw.id == Inspection.draw_id)
                           .where(Draw.status == "drawn", Inspection.status != "cancelled",
                                  Draw.drawn_at.is_not(None)))
    previous: dict[str, set[str]] = {}
    pairs: set[tuple[str, str]] = set()
    for code, inspectors, drawn_at in rows:
        day = china_today(drawn_at)
        if day < earliest:
            continue
        if day >= previous_from and code in codes:
            previous.setdefault(code, set()).update(inspectors)
        if day >= pairs_from:
            pairs.update(tuple(sorted(p)) for p in combinations(inspectors, 2))  # type: ignore[misc]
    return {"pairs": [list(p) for p in sorted(pairs)], "previous": {c: sorted(v) for c, v in sorted(previous.items())}}


def eligible_entities(session: Session, plan: Plan, on: date) -> list[dict[str, Any]]:
    params = plan.params
    if plan.fixed_entities is not None:
        found = dict(session.execute(select(Entity.credit_code, Entity.category)
                                     .where(Entity.credit_code.in_(plan.fixed_entities))).all())
        return [{"category": found[c], "credit_code": c, "weight": 1} for c in sorted(plan.fixed_entities)]
    weights = Weights(**params["weights"])
    recent = on - relativedelta(months=int(params["recent_months"]))
    counts = dict(session.execute(
        select(Inspection.credit_code, func.count()).join(Draw, Draw.id == Inspection.draw_id)
        .where(Draw.status == "drawn", Inspection.status != "cancelled",
               Draw.drawn_at >= datetime(on.year, 1, 1, tzinfo=CHINA_TZ),
               Draw.drawn_at < datetime(on.year + 1, 1, 1, tzinfo=CHINA_TZ))
        .group_by(Inspection.credit_code)).all())
    cap = int(params["frequency_cap"])
    received = complaints_about_entities(session, on - relativedelta(months=weights.complaints_months), on)
    rows = session.execute(
        select(Entity.credit_code, Entity.category, EntityProfile.status, EntityProfile.risk_level,
               EntityProfile.credit_grade, EntityProfile.complaint_count, EntityProfile.last_inspected_on)
        .outerjoin(EntityProfile, EntityProfile.credit_code == Entity.credit_code)
        .where(Entity.unit_id.in_(params["scope_units"]), Entity.category.in_(list(params["categories"])))
        .order_by(Entity.credit_code))
    out = []
    for code, category, status, risk, grade, complaints, last in rows:
        if (status or "active") != "active" or (last is not None and last > recent) or counts.get(code, 0) >= cap:
            continue
        out.append({"category": category, "credit_code": code,
                    "weight": weights.weight(risk or "normal", grade, max(complaints or 0, received.get(code, 0)))})
    return out


def eligible_inspectors(session: Session, plan: Plan, on: date) -> list[dict[str, Any]]:
    half = (plan.window_end - plan.window_start).days // 2 + 1
    away: set[str] = set()
    for user_id, starts, ends in session.execute(select(InspectorLeave.user_id, InspectorLeave.starts_on,
                                                        InspectorLeave.ends_on)):
        overlap = (min(ends, plan.window_end) - max(starts, plan.window_start)).days + 1
        if starts <= on <= ends or overlap >= half:
            away.add(user_id)
    categories = set(plan.params["categories"])
    out = []
    for inspector in session.scalars(select(Inspector).where(
            Inspector.active, Inspector.unit_id.in_({*plan.params["scope_units"], plan.unit_id}),
            Inspector.certificate_valid_from <= max(on, plan.window_start),
            Inspector.certificate_valid_until >= plan.window_end).order_by(Inspector.user_id)):
        if inspector.user_id in away:
            continue
        out.append({"conflicts": sorted({*inspector.relatives_at, *inspector.former_employers}),
                    "specialist_for": sorted(categories & set(inspector.specialties)), "user_id": inspector.user_id})
    return out


def build_snapshot(session: Session, plan: Plan, on: date) -> sampling.Snapshot:
    entities = eligible_entities(session, plan, on)
    return sampling.Snapshot(entities, eligible_inspectors(session, plan, on),
                             _history(session, plan, on, {e["credit_code"] for e in entities}))


def draw_params(plan: Plan) -> dict[str, Any]:
    params = {**plan.params, "algorithm": sampling.ALGORITHM, "numpy": np.__version__}
    if plan.fixed_entities is not None:
        params["fixed_entities"] = list(plan.fixed_entities)
    return params


def commitment(draw: Draw) -> str:
    return sampling.sha256_hex(sampling.canonical({
        "algorithm": draw.algorithm, "params": draw.params, "period": draw.period, "plan_id": draw.plan_id,
        # a witnessed value is unknown at commit time: the commitment holds no seed hash then
        "seed_hash": draw.seed_hash if draw.seed_source == "generated" else None,
        "seed_source": draw.seed_source, "seq": draw.seq,
        "snapshot_hash": draw.snapshot_hash}))


def commit_draw(session: Session, actor: Actor, plan: Plan, *, period: str = "", now: datetime | None = None,
                supersedes: Draw | None = None, reason: str | None = None) -> Draw:
    """Snapshot the pools and commit to them (and to the seed's hash when the system makes it)."""
    now = now or utcnow()
    if plan.status != "published":
        raise DirectoryError("计划经负责人批准发布后才能抽取", "plan")
    snapshot = build_snapshot(session, plan, china_today(now))
    entities_hash, matching_hash, snapshot_hash = snapshot.hashes()
    seed = secrets.token_hex(32) if plan.seed_source == "generated" else None
    seq = (supersedes.seq + 1) if supersedes else 1
    draw = Draw(id=str(uuid.uuid4()), plan_id=plan.id, period=period, seq=seq, status="committed",
                algorithm=sampling.ALGORITHM, params=draw_params(plan), snapshot=zlib.compress(snapshot.encode(), 6),
                entities_hash=entities_hash, matching_hash=matching_hash, snapshot_hash=snapshot_hash,
                seed_source=plan.seed_source, seed_hash=sampling.sha256_hex(seed) if seed else None, seed=seed,
                commitment_hash="", supersedes_id=supersedes.id if supersedes else None, reason=reason,
                committed_by=actor.user_id, committed_at=now, witness_id=plan.witness_id)
    draw.commitment_hash = commitment(draw)
    session.add(draw)
    session.flush()
    audit.append(session, actor.user_id, "inspection_draw_committed", now=now, data={
        "draw": draw.id, "plan": plan.id, "period": period, "seq": seq, "snapshot_hash": snapshot_hash,
        "seed_hash": draw.seed_hash, "commitment_hash": draw.commitment_hash, "entities": len(snapshot.entities),
        "inspectors": len(snapshot.inspectors)})
    return draw


def perform_draw(session: Session, actor: Actor, draw: Draw, *, public_value: str | None = None,
                 now: datetime | None = None) -> Draw:
    """Reveal the seed (the system's, or the witness's public value) and draw."""
    now = now or utcnow()
    if draw.status != "committed":
        raise DirectoryError("该次抽取已经完成，不能再次抽取", "draw")
    if draw.seed_source == "witnessed":
        value = (public_value or "").strip()
        if not value:
            raise DirectoryError("请录入公开随机数", "public_value")
        if actor.user_id != draw.witness_id:
            raise DirectoryError("只有计划指定的见证人可以录入公开随机数", "public_value")
        draw.seed, draw.seed_hash = value, sampling.sha256_hex(value)
    snapshot = sampling.Snapshot.decode(zlib.decompress(draw.snapshot))
    result = sampling.run(snapshot, draw.seed or "", draw.params)
    draw.result, draw.result_hash = result, sampling.sha256_hex(sampling.canonical(result))
    draw.status, draw.drawn_at = "drawn", now
    audit.append(session, actor.user_id, "inspection_draw_performed", now=now, data={
        "draw": draw.id, "seed_hash": draw.seed_hash, "result_hash": draw.result_hash,
        "drawn": len(result["entities"]), "unmatched": len(result["unmatched"])})
    return draw


def verify_draw(session: Session, draw_id: str) -> Verification:
    """Recompute a draw from what is stored; ``identical`` or every place it differs."""
    draw = session.get(Draw, draw_id)
    if draw is None:
        raise DirectoryError(f"抽取记录{draw_id}不存在", "draw")
    report = Verification(draw_id, identical=False)
    problems, checked = report.problems, report.checked
    try:
        raw = zlib.decompress(draw.snapshot)
    except zlib.error:
        problems.append("snapshot: stored bytes are not a compressed snapshot")
        return report
    e, m, s = sampling.hashes_of_stored(raw)
    for name, stored, actual in (("entities_hash", draw.entities_hash, e), ("matching_hash", draw.matching_hash, m),
                                 ("snapshot_hash", draw.snapshot_hash, s)):
        (checked if stored == actual else problems).append(
            f"{name}: committed {stored}" + ("" if stored == actual else f", stored snapshot hashes to {actual}"))
    if commitment(draw) != draw.commitment_hash:
        problems.append(f"commitment_hash: stored {draw.commitment_hash}, recomputed {commitment(draw)}")
    else:
        checked.append(f"commitment_hash: {draw.commitment_hash}")
    if draw.status == "committed" or draw.seed is None:
        problems.append("result: not drawn yet")
        return report
    if draw.seed_hash != sampling.sha256_hex(draw.seed):
        problems.append(f"seed: its SHA-256 is {sampling.sha256_hex(draw.seed)}, committed {draw.seed_hash}")
    if draw.algorithm != sampling.ALGORITHM:
        problems.append(f"algorithm: drawn with {draw.algorithm}, this program runs {sampling.ALGORITHM}")
        return report
    try:
        snapshot = sampling.Snapshot.decode(raw)
        recomputed = sampling.run(snapshot, draw.seed, draw.params)
    except (ValueError, KeyError, TypeError) as exc:
        problems.append(f"snapshot: cannot be read ({type(exc).__name__}: {exc})")
        return report
    kept = draw.result or {}
    problems.extend(sampling.differences(kept, recomputed))
    if draw.result_hash != sampling.sha256_hex(sampling.canonical(kept)):
        problems.append("result_hash: the stored result no longer hashes to the recorded result_hash")
    problems.extend(_replacement_problems(session, draw, snapshot))
    if not problems:
        checked.append(f"result: {len(recomputed['entities'])} entities and their inspectors recomputed identically")
    report.identical = not problems
    return report


def replacement_seed(draw: Draw, inspection_id: str, n: int) -> str:
    return hashlib.sha256(f"{draw.seed}|replace|{inspection_id}|{n}".encode()).hexdigest()


def draw_loads(session: Session, draw_id: str) -> dict[str, int]:
    loads: dict[str, int] = {}
    for inspectors in session.scalars(select(Inspection.inspectors).where(Inspection.draw_id == draw_id)):
        for user in inspectors:
            loads[user] = loads.get(user, 0) + 1
    return loads


def replace_inspector(session: Session, inspection: Inspection, user_id: str, reason: str,
                      now: datetime | None = None) -> Replacement:
    """A recorded replacement draw after ``user_id`` declared a conflict (国发〔2019〕5号: recusal)."""
    draw = session.get(Draw, inspection.draw_id)
    assert draw is not None
    earlier = list(session.scalars(select(Replacement).where(Replacement.inspection_id == inspection.id)
                                   .order_by(Replacement.id)))
    keep = [u for u in inspection.inspectors if u != user_id]
    exclude = sorted({user_id, *(r.replaced for r in earlier)})
    loads = draw_loads(session, draw.id)
    seed = replacement_seed(draw, inspection.id, len(earlier) + 1)
    snapshot = sampling.Snapshot.decode(zlib.decompress(draw.snapshot))
    entity = {"category": inspection.category, "credit_code": inspection.credit_code}
    new = sampling.replacement(snapshot, seed, draw.params, entity, keep, exclude, loads)
    row = Replacement(inspection_id=inspection.id, replaced=user_id, replacement=new, reason=reason, seed=seed,
                      inputs={"keep": keep, "exclude": exclude, "loads": loads}, created_at=now or utcnow())
    session.add(row)
    if new is not None:
        inspection.inspectors = [new if u == user_id else u for u in inspection.inspectors]
    session.flush()
    audit.append(session, "system", "inspection_inspector_replaced", now=now, data={
        "inspection": inspection.id, "replaced": user_id, "replacement": new, "seed": seed})
    return row


def _replacement_problems(session: Session, draw: Draw, snapshot: sampling.Snapshot) -> list[str]:
    problems = []
    rows = session.execute(select(Replacement, Inspection).join(Inspection, Inspection.id == Replacement.inspection_id)
                           .where(Inspection.draw_id == draw.id).order_by(Replacement.id))
    counts: dict[str, int] = {}
    for replacement, inspection in rows:
        counts[inspection.id] = counts.get(inspection.id, 0) + 1
        if replacement.seed != replacement_seed(draw, inspection.id, counts[inspection.id]):
            problems.append(f"replacement {replacement.id}: seed does not follow from the draw's seed")
            continue
        inputs = replacement.inputs
        again = sampling.replacement(snapshot, replacement.seed, draw.params,
                                     {"category": inspection.category, "credit_code": inspection.credit_code},
                                     inputs["keep"], inputs["exclude"], inputs["loads"])
        if again != replacement.replacement:
            problems.append(f"replacement {replacement.id}: stored {replacement.replacement}, recomputed {again}")
    return problems

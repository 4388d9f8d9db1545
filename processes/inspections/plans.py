"""Annual, quarterly and national plans: what is drawn, how much, how weighted, when inspected.

Why the plan holds a full copy of the parameters: the draw and anyone re-verifying it read the
plan's ``params``, never ``rules.toml`` as it is today. A national task (国家随机监督抽查计划) comes
with a fixed entity list the province may not alter: it is stored once, locked, and the draw
takes it as given (inspectors are still matched by lot).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import Actor, audit, start
from engine.db import utcnow
from processes.directory.codes import normalize_credit_code
from processes.directory.models import ENTITY_CATEGORIES, Entity, Unit
from processes.directory.services import DirectoryError

from .directories import scope_units
from .models import Draw, Inspection, InspectionItem, Plan
from .rule_store import effective_rules
from .rules import Rules

KINDS = {"annual": "年度抽查计划", "quarterly": "季度抽查计划", "national": "国家随机监督抽查任务"}
SEED_SOURCES = {"generated": "系统生成随机种子", "witnessed": "见证人录入公开随机数"}
PLAN_PROCESS = "inspection_plan"
LOCKED = "国家随机监督抽查任务的检查对象名单已锁定，不能修改"
NATIONAL_UNWEIGHTED = "国家随机监督抽查任务的检查对象名单已给定，不按权重抽取"

MULTIPLIER = (1, 100)
WEIGHT_BOUNDS: dict[str, tuple[int, int]] = {
    "risk_normal": MULTIPLIER, "risk_high": MULTIPLIER, "credit_a": MULTIPLIER, "credit_b": MULTIPLIER,
    "credit_c": MULTIPLIER, "credit_d": MULTIPLIER, "credit_none": MULTIPLIER, "complaints_factor": MULTIPLIER,
    "complaints_threshold": (1, 1000), "complaints_months": (1, 60)}
"""[practice] What a plan may set for each key of ``rules.toml`` [weights] (its own weights, 58号文件:
对投诉举报多、有不良记录的加大抽查力度; the document leaves the intensity to the agency). Whole numbers
only: the snapshot and the canonical JSON of a draw hold no floats. No multiplier below 1: a weight
of 0 would mean an entity can never be drawn, an exclusion in disguise (exclusions are their own,
listed parameters); 100 keeps one grade from swamping a category (a D-grade entity 100 times as
likely as an A-grade one is already near-certain in a category of a few hundred). Complaints are
counted over at most 60 months, the threshold is at most 1000."""
WEIGHT_LABELS = {
    "risk_normal": "风险等级“常态”", "risk_high": "风险等级“高风险”", "credit_a": "信用等级A（守信）",
    "credit_b": "信用等级B", "credit_c": "信用等级C（一般失信）", "credit_d": "信用等级D（严重失信）",
    "credit_none": "尚无信用等级", "complaints_threshold": "投诉数阈值（统计期内）",
    "complaints_factor": "投诉数达到阈值的权重倍数", "complaints_months": "投诉数的统计期（月）"}
"""The Chinese names of the weight keys (the same as on the draw record, ``draw_record.PARAMETER_LABELS``)."""


def _ratio(value: Any, category: str) -> str:
    try:
        ratio = Decimal(str(value))
    except InvalidOperation as exc:
        raise DirectoryError(f"{category}的抽查比例应为0到1之间的小数", "categories") from exc
    if not Decimal(0) < ratio <= Decimal(1):
        raise DirectoryError(f"{category}的抽查比例应为0到1之间的小数", "categories")
    return str(ratio)


def check_categories(categories: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """``{category: {"ratio": "0.05"}}`` or ``{category: {"count": 10}}`` (or ``{}``: the default)."""
    if not categories:
        raise DirectoryError("请至少选择一个专业类别", "categories")
    out: dict[str, dict[str, Any]] = {}
    for category, given in categories.items():
        if category not in ENTITY_CATEGORIES:
            raise DirectoryError(f"专业类别{category}不存在", "categories")
        spec = dict(given or {})
        if spec.get("count") is not None:
            count = spec["count"]
            if not isinstance(count, int) or isinstance(count, bool) or count < 1:
                raise DirectoryError(f"{category}的抽查数量应为正整数", "categories")
            out[category] = {"count": count}
        elif spec.get("ratio") is not None:
            out[category] = {"ratio": _ratio(spec["ratio"], category)}
        else:
            out[category] = {}
    return out


def _weight(key: str, value: Any) -> int:
    low, high = WEIGHT_BOUNDS[key]
    number: int | None = value if isinstance(value, int) and not isinstance(value, bool) else None
    if isinstance(value, str) and value.strip().lstrip("+").isdigit():
        number = int(value.strip())
    if number is None or not low <= number <= high:
        raise DirectoryError(f"权重“{WEIGHT_LABELS[key]}”应为{low}到{high}之间的整数", f"weight_{key}")
    return number


def apply_weights(params: dict[str, Any], weights: Mapping[str, Any], defaults: Mapping[str, int], kind: str) -> None:
    """The plan's own weights over ``params["weights"]``; ``weights_changed`` lists the keys that
    differ from ``defaults`` (the rules in force), so the approval, the plan page and the draw
    record say which weights the plan set. A blank value goes back to the default; nothing is
    changed when one value is wrong. A national task's list is given: it has no weights to set."""
    if kind == "national":
        raise DirectoryError(NATIONAL_UNWEIGHTED, "weights")
    chosen = dict(params["weights"])
    for key, value in weights.items():
        if key not in WEIGHT_BOUNDS:
            raise DirectoryError(f"权重{key}不存在", "weights")
        if value is None or (isinstance(value, str) and not value.strip()):
            chosen[key] = defaults[key]
        else:
            chosen[key] = _weight(key, value)
    params["weights"] = chosen
    changed = sorted(k for k, v in chosen.items() if defaults.get(k) != v)
    if changed:
        params["weights_changed"] = changed
    else:
        params.pop("weights_changed", None)


def check_scope(session: Session, unit: Unit, scope: Sequence[str]) -> list[str]:
    """The chosen units, each the planning unit or one below it (a county plans for its own
    supervision area, not a neighbour's); the draw covers them and every unit below them."""
    chosen = list(dict.fromkeys(u for u in scope if u))
    for unit_id in chosen:
        row = session.get(Unit, unit_id)
        if row is None:
            raise DirectoryError(f"抽查范围中的单位{unit_id}不存在", "scope")
        if not row.path.startswith(unit.path):
            raise DirectoryError(f"抽查范围中的“{row.name}”不是制定计划的单位或者其下级单位", "scope")
    return chosen


def create_plan(session: Session, actor: Actor, *, title: str, kind: str, unit_id: str, window_start: date,
                window_end: date, categories: Mapping[str, Mapping[str, Any]] | None = None,
                scope: Sequence[str] | None = None, fixed_entities: Sequence[str] | None = None,
                exclusions: Mapping[str, int] | None = None, weights: Mapping[str, Any] | None = None,
                seed_source: str = "generated", witness_id: str | None = None, schedule_id: int | None = None,
                code: str | None = None, rules: Rules | None = None) -> Plan:
    """A draft plan; the rules in force are copied into ``params`` with the plan's own choices
    (categories, scope units, exclusions, weights: ``WEIGHT_BOUNDS``)."""
    if kind not in KINDS:
        raise DirectoryError("计划类型应为年度、季度或者国家任务", "kind")
    if not (title or "").strip():
        raise DirectoryError("请填写计划名称", "title")
    unit = session.get(Unit, unit_id)
    if unit is None or not unit.active:
        raise DirectoryError("制定计划的单位不存在或者已停用", "unit_id")
    if window_end < window_start:
        raise DirectoryError("检查时段的结束日期不能早于开始日期", "window_end")
    if seed_source not in SEED_SOURCES:
        raise DirectoryError("随机种子来源不正确", "seed_source")
    if seed_source == "witnessed" and not witness_id:
        raise DirectoryError("见证人录入公开随机数的，须指定见证人", "witness_id")
    params = (rules or effective_rules(session)).as_params()
    if weights:
        apply_weights(params, weights, dict(params["weights"]), kind)
    for key, value in (exclusions or {}).items():
        if key not in ("recent_months", "frequency_cap") or not isinstance(value, int) or value < 0:
            raise DirectoryError(f"排除条件{key}不正确", "exclusions")
        params[key] = value
    fixed: list[str] | None = None
    if kind == "national":
        fixed = _fixed_list(session, fixed_entities or ())
        cats = sorted({session.get(Entity, c).category for c in fixed})  # type: ignore[union-attr]
        params["categories"] = {c: {} for c in cats}
    else:
        if fixed_entities:
            raise DirectoryError("只有国家随机监督抽查任务有固定的检查对象名单", "fixed_entities")
        params["categories"] = check_categories(categories or {})
    params["scope_units"] = scope_units(session, check_scope(session, unit, scope or []) or [unit_id])
    items = session.scalars(select(InspectionItem.id).where(InspectionItem.active, InspectionItem.category.in_(
        list(params["categories"])))).all()
    plan = Plan(id=str(uuid.uuid4()), code=code or f"{kind[0].upper()}{window_start:%Y%m%d}-{uuid.uuid4().hex[:6]}",
                title=title.strip(), kind=kind, unit_id=unit_id, params=params, fixed_entities=fixed,
                item_ids=sorted(items), window_start=window_start, window_end=window_end, seed_source=seed_source,
                witness_id=witness_id, status="draft", schedule_id=schedule_id, created_by=actor.user_id)
    session.add(plan)
    session.flush()
    audit.append(session, actor.user_id, "inspection_plan_created",
                 data={"plan": plan.id, "code": plan.code, "kind": kind, "fixed": len(fixed or [])})
    return plan


def _fixed_list(session: Session, codes: Sequence[str]) -> list[str]:
    clean = list(dict.fromkeys(normalize_credit_code(c) for c in codes if c))
    if not clean:
        raise DirectoryError("国家随机监督抽查任务须附检查对象名单", "fixed_entities")
    missing = [c for c in clean if session.get(Entity, c) is None]
    if missing:
        raise DirectoryError(f"名单中的单位不在检查对象名录库中：{'、'.join(missing[:10])}", "fixed_entities")
    return clean


def update_plan(session: Session, actor: Actor, plan_id: str, *, categories: Mapping[str, Mapping[str, Any]] | None
                = None, fixed_entities: Sequence[str] | None = None, window_end: date | None = None,
                weights: Mapping[str, Any] | None = None, scope: Sequence[str] | None = None) -> Plan:
    """Change a draft or returned plan; a national task's list never changes. ``weights`` are
    compared with the rules in force now (a blank value goes back to the rule)."""
    plan = get_plan(session, plan_id)
    if fixed_entities is not None and plan.kind == "national":
        raise DirectoryError(LOCKED, "fixed_entities")
    if plan.status not in ("draft", "returned"):
        raise DirectoryError("计划已提交或者已发布，不能修改", "plan")
    params = dict(plan.params)
    if categories is not None:
        if plan.kind == "national":
            raise DirectoryError(LOCKED, "categories")
        params["categories"] = check_categories(categories)
    if weights:
        apply_weights(params, weights, effective_rules(session).as_params()["weights"], plan.kind)
    if scope is not None:
        unit = session.get(Unit, plan.unit_id)
        assert unit is not None
        params["scope_units"] = scope_units(session, check_scope(session, unit, scope) or [plan.unit_id])
    if window_end is not None:
        if window_end < plan.window_start:
            raise DirectoryError("检查时段的结束日期不能早于开始日期", "window_end")
        plan.window_end = window_end
    plan.params = params
    audit.append(session, actor.user_id, "inspection_plan_changed", data={"plan": plan.id})
    return plan


def get_plan(session: Session, plan_id: str) -> Plan:
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise DirectoryError("抽查计划不存在", "plan")
    return plan


def plan_data(plan: Plan) -> dict[str, Any]:
    """What the approval process shows and reads."""
    return {"plan_id": plan.id, "code": plan.code, "title": plan.title, "kind": plan.kind,
            "window_start": plan.window_start.isoformat(), "window_end": plan.window_end.isoformat(),
            "categories": plan.params.get("categories"), "fixed_count": len(plan.fixed_entities or []),
            "seed_source": plan.seed_source, "witness_id": plan.witness_id or "", "created_by": plan.created_by,
            "scheduled": plan.schedule_id is not None}


def submit_plan(session: Session, actor: Actor, plan_id: str, *, now: datetime | None = None) -> Plan:
    """Send a draft to the head: starts the approval process (``inspection_plan.bpmn``)."""
    plan = get_plan(session, plan_id)
    if plan.status != "draft":
        raise DirectoryError("只有草稿状态的计划可以提交审批", "plan")
    instance = start(session, PLAN_PROCESS, actor, {"plan": plan_data(plan)}, business_key=f"抽查计划-{plan.code}",
                     unit_id=plan.unit_id, now=now)
    plan.instance_id, plan.status = instance.id, "submitted"
    return plan


def publish_plan(session: Session, plan_id: str, approved_by: str, now: datetime | None = None) -> Plan:
    """The head approved: the plan is published (国发〔2019〕5号: annual plans are public)."""
    plan = get_plan(session, plan_id)
    if plan.status != "published":
        plan.status, plan.approved_by, plan.published_at = "published", approved_by, now or utcnow()
        audit.append(session, approved_by or "system", "inspection_plan_published", data={"plan": plan.id}, now=now)
    return plan


# the plan page's completion line (Chinese domain text: English in ``domain.en.po``)
COMPLETION_LABELS = {"completion": "完成情况", "done_of": "已完成／抽中", "not_found": "其中查无下落（计为完成）"}


@dataclass(frozen=True)
class Completion:
    done: int  # inspections whose result is recorded, not-found included
    not_found: int  # of ``done``: entity not found at the address or closed (it counts as done)
    total: int  # inspections of the plan's current draws (a superseded draw's cancelled rows are not)


def completion(session: Session, plan_id: str) -> Completion:
    """How many of the plan's drawn inspections are done; an entity found closed or not found at
    its address counts toward completion (its result, 查无下落, is recorded and disclosed)."""
    rows = session.execute(select(Inspection.status, Inspection.outcome, func.count())
                           .join(Draw, Draw.id == Inspection.draw_id)
                           .where(Inspection.plan_id == plan_id, Draw.status == "drawn",
                                  Inspection.status != "cancelled")
                           .group_by(Inspection.status, Inspection.outcome))
    done = not_found = total = 0
    for status, outcome, n in rows:
        total += n
        if status == "done":
            done += n
            not_found += n if outcome == "not_found" else 0
    return Completion(done, not_found, total)

"""Service-task operators of the inspection processes (BPMN ``serviceTaskOperator`` ids).

They run through the engine's outbox in the job's transaction and return JSON that lands in the
task data and in the audit event ``service_task_completed``. Each is safe to run again after a
rolled-back attempt (nothing survives a failed job) and does nothing twice when its effect is
already there (a plan already published, a draw already made, a lead already opened).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select

from engine import SYSTEM, Actor, OperatorContext, operator
from engine.clock import china_today
from engine.scripting import load_calendar
from processes.directory.models import Unit, User

from . import directories, plans
from . import draw as draws
from .models import Draw, Inspection, Plan, Replacement
from .rule_store import effective_rules
from .service import _items, _people, start_inspections

_ENV = Environment(loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
                   autoescape=select_autoescape(["html"]))


def _inspection(ctx: OperatorContext, params: dict[str, Any]) -> Inspection:
    row = ctx.session.get(Inspection, params["inspection_id"], with_for_update=True)
    if row is None:
        raise LookupError(f"no inspection {params['inspection_id']}")
    return row


def _actor(session: Any, user_id: str) -> Actor:
    user = session.get(User, user_id) if user_id else None
    return Actor.of(user.id, list(user.roles or []), [user.unit_id]) if user is not None else SYSTEM


@operator("inspections.publish_plan", "发布经负责人批准的抽查计划")
def publish_plan(params: dict[str, Any], ctx: OperatorContext) -> dict[str, Any]:
    from .scheduling import run_requested  # (scheduling imports the service, which imports this module's peers)

    plan = plans.publish_plan(ctx.session, str(params["plan_id"]), str(params.get("approved_by") or ""), ctx.now)
    requested = run_requested(ctx.session, plan, now=ctx.now)  # "run now" pressed before the approval
    return {"plan_id": plan.id, "status": plan.status, "periods_drawn": [run.period for run in requested]}


@operator("inspections.commit_draw", "锁定名录快照，承诺随机种子的哈希值（先承诺后抽取）")
def commit_draw(params: dict[str, Any], ctx: OperatorContext) -> dict[str, Any]:
    plan = plans.get_plan(ctx.session, str(params["plan_id"]))
    draw = ctx.session.scalar(select(Draw).where(Draw.plan_id == plan.id, Draw.period == "",
                                                 Draw.status != "superseded").order_by(Draw.seq.desc()).limit(1))
    if draw is None:
        draw = draws.commit_draw(ctx.session, _actor(ctx.session, plan.approved_by or ""), plan, now=ctx.now)
    return {"draw_id": draw.id, "seed_source": draw.seed_source, "snapshot_hash": draw.snapshot_hash,
            "commitment_hash": draw.commitment_hash}


MAX_REDRAWS = 100  # a bound on following re-draws (each one is a head's reasoned act)


@operator("inspections.perform_draw", "公开随机种子，抽取检查对象和检查人员，派发检查任务")
def perform_draw(params: dict[str, Any], ctx: OperatorContext) -> dict[str, Any]:
    draw = ctx.session.get(Draw, str(params["draw_id"]), with_for_update=True)
    if draw is None:
        raise LookupError(f"no draw {params['draw_id']}")
    for _ in range(MAX_REDRAWS):  # re-drawn while its witness task was open: that task draws the newest
        if draw.status != "superseded":
            break
        newer = ctx.session.scalar(select(Draw).where(Draw.supersedes_id == draw.id).with_for_update())
        if newer is None:
            break
        draw = newer
    if draw.status == "committed":
        actor = _actor(ctx.session, str(params.get("witness") or "")) if draw.seed_source == "witnessed" else SYSTEM
        draws.perform_draw(ctx.session, actor, draw, public_value=str(params.get("public_value") or ""), now=ctx.now)
        start_inspections(ctx.session, draw, now=ctx.now)
    result = draw.result or {}
    return {"draw_id": draw.id, "result_hash": draw.result_hash, "drawn": len(result.get("entities", [])),
            "unmatched": len(result.get("unmatched", []))}


@operator("inspections.check_declarations", "核对利益冲突声明；有冲突的另行随机抽取检查人员并记录")
def check_declarations(params: dict[str, Any], ctx: OperatorContext) -> dict[str, Any]:
    row = _inspection(ctx, params)
    conflicted = [d for d in params.get("declarations") or [] if d.get("conflict")]
    new: list[str] = []
    unstaffed = False
    for declaration in conflicted:
        replacement = draws.replace_inspector(ctx.session, row, str(declaration["user_id"]),
                                              str(declaration.get("statement") or ""), now=ctx.now)
        if replacement.replacement is None:
            unstaffed = True
        else:
            new.append(replacement.replacement)
    if unstaffed:
        row.status = "unstaffed"
    people = _people(ctx.session, list(row.inspectors))
    return {"replaced": bool(new) and not unstaffed, "unstaffed": unstaffed,
            "declarers": [p for p in people if p["user_id"] in new], "inspectors": people, "lead": row.inspectors[0],
            "replacements": [r.id for r in ctx.session.scalars(select(Replacement).where(
                Replacement.inspection_id == row.id))]}


@operator("inspections.issue_opinion", "出具卫生监督意见书（PDF），责令限期改正")
def issue_opinion(params: dict[str, Any], ctx: OperatorContext) -> dict[str, Any]:
    from processes.penalty.documents import pdf_enabled
    from processes.penalty.seal import seal_image, sealed_pdf
    from processes.penalty.storage import store_blob

    row = _inspection(ctx, params)
    record = dict(params["record"])
    plan = ctx.session.get(Plan, row.plan_id)
    assert plan is not None
    unit = ctx.session.get(Unit, plan.unit_id)
    items = _items(ctx.session, plan, row.category)
    html = _ENV.get_template("opinion.html").render(
        number=f"{unit.short_name if unit else ''}卫监意〔{row.checked_on.year if row.checked_on else ''}〕"
               f"{row.id[:8]}", entity_name=row.entity_name, credit_code=row.credit_code,
        checked_on=record.get("checked_on"), items="；".join(i["name"] for i in items),
        problems=[line.strip() for line in (record.get("nonconforming") or "").splitlines() if line.strip()],
        findings=record.get("findings", ""), legal_basis="；".join(i["legal_basis"] for i in items) or "有关法律法规",
        correction_due=record.get("correction_due"), inspectors="、".join(p["name"] for p in _people(
            ctx.session, list(row.inspectors))), unit_name=unit.name if unit else "", today=china_today(ctx.now),
        seal_image=seal_image(unit.name) if unit and pdf_enabled() else None)
    if pdf_enabled() and unit is None:
        raise ValueError(f"plan {plan.id} names no unit: the 卫生监督意见书 cannot carry a seal")
    # an outward document: sealed by the unit like the penalty decisions (processes/penalty/seal.py)
    content, media = ((sealed_pdf(ctx.session, unit.id, html), "application/pdf") if pdf_enabled() and unit
                      else (html.encode(), "text/html"))
    row.opinion_sha256 = store_blob(ctx.session, content, media)
    row.correction_due = date.fromisoformat(str(record["correction_due"]))
    row.status = "correcting"
    return {"sha256": row.opinion_sha256, "media_type": media, "correction_due": row.correction_due.isoformat()}


@operator("inspections.open_penalty_lead", "涉嫌违法或者逾期未整改：移送行政处罚案源登记（双向关联）")
def open_penalty_lead(params: dict[str, Any], ctx: OperatorContext) -> dict[str, Any]:
    from processes.penalty import start_case

    row = _inspection(ctx, params)
    if row.penalty_case_id:
        return {"case_id": row.penalty_case_id, "already": True}
    plan = ctx.session.get(Plan, row.plan_id)
    assert plan is not None
    unit = ctx.session.get(Unit, plan.unit_id)
    assert unit is not None
    onsite = row.findings.get("onsite", {})
    reason = "逾期未整改" if row.reinspection == "not_corrected" else "现场检查发现涉嫌违法"
    # the filing period counts from discovery: the re-inspection that found it uncorrected, or the check
    found = (row.findings.get("reinspection", {}).get("reinspected_on") if row.reinspection == "not_corrected"
             else (row.checked_on.isoformat() if row.checked_on else None))
    case = start_case(ctx.session, SYSTEM, unit_id=unit.id, unit_name=unit.name,
                      unit_short_name=unit.short_name or unit.name[:1], now=ctx.now, prefill={
                          "entity_id": row.credit_code, "entity_name": row.entity_name, "credit_code": row.credit_code,
                          "source": "random_inspection", "inspection_id": row.id, "plan_code": plan.code,
                          "suspected_violation": f"{reason}：{onsite.get('findings', '')}",
                          **({"discovered_on": str(found)} if found else {})})
    case.source = "random_inspection"
    row.penalty_case_id = case.id
    level = effective_rules(ctx.session).risk_levels.get("inspection_penalty_lead")
    if level is not None:  # rules.toml [risk]; an agency's file without the key records no entry
        directories.open_risk(ctx.session, SYSTEM, row.credit_code, source="inspection", level=level,
                              reason=f"双随机抽查{reason}", on=china_today(ctx.now), source_ref=row.id)
    return {"case_id": case.id, "instance_id": case.instance_id}


@operator("inspections.record_result", "登记检查结果，计算公示期限（20个工作日）")
def record_result(params: dict[str, Any], ctx: OperatorContext) -> dict[str, Any]:
    row = _inspection(ctx, params)
    as_of = date.fromisoformat(str(params["as_of"]))
    row.result_on, row.status = as_of, "done"
    workdays = effective_rules(ctx.session).result_workdays
    row.disclosure_due = load_calendar(ctx.session).add_workdays(as_of, workdays).due
    profile = directories.profile_of(ctx.session, row.credit_code)
    if row.checked_on is not None and (profile.last_inspected_on is None or row.checked_on > profile.last_inspected_on):
        profile.last_inspected_on = row.checked_on
    if row.outcome == "not_found":
        profile.status = "closed"
    ctx.session.flush()
    return {"outcome": row.outcome, "result_on": as_of.isoformat(), "disclosure_due": row.disclosure_due.isoformat(),
            "penalty_case_id": row.penalty_case_id}

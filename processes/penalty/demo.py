"""Demo penalty cases (行政处罚) for ``weijian demo load``: the agency CA, signing certificates for the
members who deliberate, and four cases of 渭滨区 at different stages, driven through the same
services the web uses (``start_case``, ``submit_task``, ``sign_deliberation``; service tasks run
as the eager Celery relay would).

Idempotent: a case is keyed by its entity (one demo case per entity), a certificate by its user,
the CA by its existence. The CA passphrase comes from ``WEIJIAN_CA_PASSPHRASE`` (default
``DEMO_CA_PASSPHRASE``); every member's signing passphrase is ``DEMO_SIGNING_PASSPHRASE``.
The caller commits.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

import signing
from engine import Actor, due_jobs, run_job
from engine.calendar import CHINA_TZ
from engine.clock import now as engine_now
from engine.models import HumanTask, ProcessDefinition
from processes.directory.codes import make_credit_code
from processes.directory.models import Entity, Unit, User
from processes.directory.services import actor_for

DEMO_CA_PASSPHRASE = "weijian-demo-ca"  # noqa: S105 - documented demo value; set WEIJIAN_CA_PASSPHRASE in production
DEMO_SEAL_PASSPHRASE = "weijian-demo-seal"  # noqa: S105 - documented demo value (Makefile `run`); set WEIJIAN_SEAL_PASSPHRASE in production
DEMO_SIGNING_PASSPHRASE = "weijian-demo"  # noqa: S105 - documented demo value, printed by `weijian demo load`
UNIT = "610302"
CATEGORIES = {"medical": "medical", "public_place": "public_places", "drinking_water": "drinking_water",
              "school": "school"}  # directory category -> 专业类别 of the case number
OFFICERS = [("zhang.wei", "张伟"), ("li.na", "李娜")]
MEMBERS = [("zhao.lei", "赵磊", "主持人"), ("zhang.wei", "张伟", "承办人"), ("li.na", "李娜", "成员")]
SIGNERS = [login for login, _n, _r in MEMBERS]
ROLE_USERS = {"officer": "zhang.wei", "head": "zhao.lei", "legal_reviewer": "chen.jing"}
HEADS = ("zhao.lei", "yang.fan")  # a collective discussion's participants, each confirming the record
# entity (credit code) -> the task its demo case waits at (None: the lead is not registered yet)
STAGES: list[tuple[str, str | None, str]] = [
    (make_credit_code("610302", "MA6X8K21A", "92"), "serve_decision", "使用未取得护士执业证书的人员从事护理工作"),
    (make_credit_code("610302", "MA6X9C302", "91"), "sign_record", "未按规定对公共用品用具进行清洗消毒"),
    (make_credit_code("610302", "22057813X", "91"), "investigate", "供应的生活饮用水余氯不符合国家卫生标准"),
    (make_credit_code("610302", "43552101K", "12"), None, "学校教学环境采光照明不符合卫生标准"),
]


def ca_passphrase() -> str:
    return os.environ.get(signing.CA_PASSPHRASE_ENV) or DEMO_CA_PASSPHRASE


def seal_passphrase() -> str:
    return os.environ.get(signing.SEAL_PASSPHRASE_ENV) or DEMO_SEAL_PASSPHRASE


def load_pki(session: Session) -> list[str]:
    """The agency CA (once), a signing certificate for each deliberating demo user and a seal
    certificate for each active unit (once); documents are sealed under ``seal_passphrase()``."""
    made: list[str] = []
    try:
        signing.ca_certificate(session)
    except signing.CaNotInitializedError:
        signing.init_ca(session, ca_passphrase=ca_passphrase())
        made.append("agency CA")
    for login in SIGNERS:
        user = session.get(User, login)
        if user is None or signing.current_certificates(session, login):
            continue
        signing.issue_certificate(session, login, user.display_name, DEMO_SIGNING_PASSPHRASE,
                                  ca_passphrase=ca_passphrase())
        made.append(f"certificate {login}")
    for unit in session.scalars(select(Unit).where(Unit.active).order_by(Unit.id)):
        if signing.current_certificates(session, unit.id, kind=signing.SEAL):
            continue
        signing.issue_seal_certificate(session, unit.id, unit.name, passphrase=seal_passphrase(),
                                       ca_passphrase=ca_passphrase())
        made.append(f"seal certificate {unit.id}")
    session.flush()
    return made


def _today() -> date:
    return engine_now().astimezone(CHINA_TZ).date()


def _drain(session: Session) -> None:
    from processes.penalty.documents import pdf_rendering

    with pdf_rendering(os.environ.get("WEIJIAN_PENALTY_PDF", "1") != "0"):
        for _ in range(100):
            jobs = due_jobs(session)
            if not jobs:
                return
            for job_id in jobs:
                run_job(session, job_id)
                session.flush()
    raise RuntimeError("demo penalty case: service tasks keep coming")


def _form(session: Session, task: HumanTask, entity: Entity, violation: str) -> dict[str, Any]:
    from processes.penalty.models import CaseRecord, PenaltyCase

    day = _today().isoformat()
    case = session.scalar(select(PenaltyCase).where(PenaltyCase.instance_id == task.instance_id))
    assert case is not None
    penalty = {"penalty_kinds": ["warning", "fine"], "fine": 5000}
    name = task.task_name
    makers: dict[str, Callable[[], dict[str, Any]]] = {
        "register_lead": lambda: {
            "source": "inspection", "entity_name": entity.name, "party_type": "organisation",
            "credit_code": entity.credit_code, "legal_representative": entity.legal_representative or "",
            "registered_address": entity.address or "", "actual_address": entity.address or "",
            "region_code": UNIT, "category": CATEGORIES.get(entity.category, "medical"),
            "suspected_violation": violation, "violation_date": (_today() - timedelta(days=30)).isoformat(),
            "discovered_on": day, "accepted_on": day},
        "prepare_filing": lambda: {
            "officers": [{"user_id": u, "name": n, "certificate_no": _cert(session, u)} for u, n in OFFICERS],
            "summary": f"检查中发现当事人涉嫌{violation}。", "preliminary_basis": "相关卫生法律法规"},
        "approve_filing": lambda: {"approved": True, "opinion": "同意立案"},
        "declare_conflicts": lambda: {"no_conflict": True},
        "investigate": lambda: _investigation(session, case.id, CaseRecord, violation),
        "investigation_report": lambda: {
            "facts": f"当事人{violation}。", "evidence_summary": "询问笔录、现场笔录。",
            "legal_basis": "相关卫生法律法规",
            "outcome": "penalty", **penalty,
            "members": [{"user_id": u, "name": n, "role": r} for u, n, r in MEMBERS]},
        "record_opinion": lambda: {"outcome": "penalty", **penalty, "opinion": "事实清楚，同意承办人意见。"},
        "serve_prior_notice": lambda: {"served_on": day, "method": "direct",
                                       "receiver": entity.legal_representative or "当事人"},
        "await_reply": lambda: {"kind": "waive", "received_on": day, "waiver_signed": True},
        "review_statement": lambda: {"adopted": False, "reasons": "当事人所述理由不成立。", **penalty},
        "legal_review": lambda: {"passed": True, "opinion": "主体合法，事实清楚，程序合法，适用依据正确。"},
        "collective_discussion": lambda: {"conclusion": "penalty", "opinion": "同意", "minutes": "集体讨论同意。",
                                          "discussed_on": day,
                                          "participants": [{"user_id": "zhao.lei", "name": "赵磊"},
                                                           {"user_id": "yang.fan", "name": "杨帆"}]},
        "confirm_discussion": lambda: {"confirmed": True},
        "approve_decision": lambda: {"conclusion": "penalty", "opinion": "同意"},
        "draft_decision": lambda: {
            "decided_on": day, "facts": f"当事人{violation}。", "legal_basis": "相关卫生法律法规",
            "penalty_kinds": (case.notified_penalty or {}).get("kinds", []),
            "fine": (case.notified_penalty or {}).get("fine", 0),
            "performance": "自收到本决定书之日起十五日内缴至指定银行", "payee": "宝鸡市财政局非税收入专户",
            "reconsideration_body": "宝鸡市渭滨区人民政府", "court": "宝鸡市渭滨区人民法院"},
    }
    if name not in makers:
        raise RuntimeError(f"demo penalty case: no data for task {name}")
    return makers[name]()


def _cert(session: Session, login: str) -> str:
    user = session.get(User, login)
    return (user.certificate_no if user else None) or login


def _investigation(session: Session, case_id: str, record: Any, violation: str) -> dict[str, Any]:
    count = session.scalar(select(func.count()).select_from(record).where(record.case_id == case_id)) or 0
    base = {"officers": [u for u, _n in OFFICERS], "occurred_on": _today().isoformat(), "place": "现场"}
    if count == 0:
        return {**base, "kind": "interview", "interviewee": "法定代表人",
                "content": f"问：是否存在{violation}的情况？答：是。"}
    if count == 1:
        return {**base, "kind": "site", "content": f"现场检查发现当事人{violation}。"}
    return {"kind": "finish"}


def _run_until(session: Session, instance_id: str, target: str, entity: Entity, violation: str,
               actors: dict[str, Actor]) -> None:
    from processes.penalty import sign_deliberation, submit_task
    from processes.penalty.service import case_of_instance

    for _ in range(60):
        tasks = list(session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                             HumanTask.status == "ready")
                                     .order_by(HumanTask.created_at, HumanTask.id)))
        if target in {t.task_name for t in tasks}:
            return
        if not tasks:
            raise RuntimeError(f"demo penalty case stopped before {target}")
        task = tasks[0]
        login = task.assignee or ROLE_USERS.get(task.candidate_role or "officer", "zhang.wei")
        if task.task_name == "sign_record":
            sign_deliberation(session, case_of_instance(session, instance_id).id, login, DEMO_SIGNING_PASSPHRASE)
        else:
            submit_task(session, task.id, actors[login], _form(session, task, entity, violation))
        session.flush()
        _drain(session)
    raise RuntimeError(f"demo penalty case: {target} never became ready")


def load_penalty_cases(session: Session) -> list[str]:
    """Four penalty cases at different stages (skipped when the penalty process is not deployed)."""
    from .models import PenaltyCase
    from .service import start_case

    if session.scalar(select(ProcessDefinition.id).where(ProcessDefinition.process_key == "penalty_ordinary")
                      .limit(1)) is None:
        return []
    unit = session.get(Unit, UNIT)
    if unit is None:
        return []
    actors = {login: actor_for(session, user) for login in set(ROLE_USERS.values()) | set(SIGNERS) | set(HEADS)
              if (user := session.get(User, login)) is not None}
    made: list[str] = []
    for code, target, violation in STAGES:
        entity = session.get(Entity, code)
        if entity is None or session.scalar(select(PenaltyCase.id).where(or_(
                PenaltyCase.entity_id == entity.credit_code, PenaltyCase.credit_code == entity.credit_code))
                .limit(1)) is not None:
            continue
        case = start_case(session, actors["zhang.wei"], unit_id=unit.id, unit_name=unit.name,
                          unit_short_name=unit.short_name, procedure="ordinary",
                          prefill={"entity_id": entity.credit_code, "entity_name": entity.name})
        session.flush()
        _drain(session)
        if target is not None:
            _run_until(session, case.instance_id, target, entity, violation, actors)
        made.append(f"penalty case {entity.name} ({target or 'register_lead'})")
    return made


def describe() -> list[str]:
    """Lines for the demo summary."""
    return [f"signing passphrase of {', '.join(SIGNERS)} (deliberation members): {DEMO_SIGNING_PASSPHRASE!r}",
            f"agency CA passphrase: ${signing.CA_PASSPHRASE_ENV} or the demo default {DEMO_CA_PASSPHRASE!r}",
            f"units' seal passphrase: ${signing.SEAL_PASSPHRASE_ENV} or the demo default {DEMO_SEAL_PASSPHRASE!r} "
            "(the server needs the same value to seal documents; `make run` sets it)"]



def load(session: Session) -> list[str]:
    """The package's demo hook (``PACKAGE.load_demo``): the PKI first, then the cases.

    The demo cases' decisions are sealed while loading, so an unset ``WEIJIAN_SEAL_PASSPHRASE``
    takes the demo default for this process (demo installations only; production sets it).
    """
    os.environ.setdefault(signing.SEAL_PASSPHRASE_ENV, DEMO_SEAL_PASSPHRASE)
    return load_pki(session) + load_penalty_cases(session)

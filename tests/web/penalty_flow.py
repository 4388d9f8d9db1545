"""A penalty case driven through the web forms (HTML posts or a browser): the agency setup (penalty
bundle, CA, members' certificates) for the web test directory, and what a person types into
each task's form. Values are what an HTML form posts: strings, lists for multi-choices, JSON
text for the list-of-objects fields, ``FILE`` for an evidence upload.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import signing
from engine import deploy_directory
from engine.actor import SYSTEM
from engine.clock import china_today
from engine.models import HumanTask
from processes.directory.models import Unit
from processes.penalty.models import CaseRecord, PenaltyCase
from tests.web.conftest import ENTITY_A

PENALTY_DIR = Path(__file__).resolve().parents[2] / "processes" / "penalty"
CA_PASSPHRASE = "web-test-ca-passphrase-2026"
MEMBERS = {"head.a": ("赵磊", "主持人"), "officer.a": ("张伟", "承办人"), "officer.a2": ("李娜", "成员")}
ROLE_USERS = {"officer": "officer.a", "head": "head.a", "legal_reviewer": "reviewer.a"}
DEPUTY = "head.a3"  # the second head of county A, for collective discussions
FILE = "__file__"
EVIDENCE = b"%PDF-1.4\n% site photo record\n" + b"1" * 1500


def passphrase(login: str) -> str:
    return f"{login}-签名口令-2026"


def setup_penalty(session: Session) -> None:
    """Deploy the penalty bundle, create the agency CA, the members' signing certificates and the units' seals;
    and a deputy head in county A, since a collective discussion needs two of the unit's heads (Art. 57(2))."""
    from processes.directory.models import User
    from processes.directory.services import create_user
    from tests.web.conftest import COUNTY_A, PASSWORD

    deploy_directory(session, PENALTY_DIR, SYSTEM)
    if session.get(User, DEPUTY) is None:
        create_user(session, DEPUTY, "孙建", COUNTY_A, ["head", "officer"], PASSWORD, "C-A-4")
    now = datetime.now(UTC) - timedelta(days=1)
    signing.init_ca(session, ca_passphrase=CA_PASSPHRASE, now=now)
    for login, (name, _role) in MEMBERS.items():
        signing.issue_certificate(session, login, name, passphrase(login), ca_passphrase=CA_PASSPHRASE, now=now,
                                  validity=timedelta(days=800))
    for unit in session.scalars(select(Unit)):  # each unit's seal, under WEIJIAN_SEAL_PASSPHRASE
        signing.issue_seal_certificate(session, unit.id, unit.name, ca_passphrase=CA_PASSPHRASE, now=now,
                                       validity=timedelta(days=800))


def who(task: HumanTask) -> str:
    return task.assignee or ROLE_USERS[task.candidate_role or "officer"]


def ready_tasks(session: Session, instance_id: str) -> list[HumanTask]:
    session.expire_all()
    return list(session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                        HumanTask.status == "ready")
                                .order_by(HumanTask.created_at, HumanTask.id)))


def case_of(session: Session, instance_id: str) -> PenaltyCase:
    session.expire_all()
    case = session.scalar(select(PenaltyCase).where(PenaltyCase.instance_id == instance_id))
    assert case is not None
    return case


def form_data(session: Session, task: HumanTask, today: date | None = None) -> dict[str, Any]:
    """What the person doing ``task`` types into its form."""
    today = today or china_today()  # the agency's day: from 16:00 UTC it is tomorrow in China
    day = today.isoformat()
    name = task.task_name
    if name == "register_lead":
        return {"source": "inspection", "entity_name": "康宁诊所", "party_type": "organisation",
                "credit_code": ENTITY_A, "legal_representative": "何康宁", "registered_address": "经二路18号",
                "actual_address": "经二路18号", "region_code": "610302", "unit_category": "医疗机构",
                "licence_numbers": "PDY61030200001", "category": "medical",
                "suspected_violation": "使用非卫生技术人员从事医疗卫生技术工作",
                "violation_date": (today - timedelta(days=30)).isoformat(), "discovered_on": day, "accepted_on": day}
    if name == "prepare_filing":  # the people picker: names and certificates come from the directory
        return {"officers__user": ["officer.a", "officer.a2"],
                "summary": "检查中发现当事人涉嫌使用非卫生技术人员。",
                "preliminary_basis": "《护士条例》第二十一条"}
    if name in ("approve_filing", "approve_closing"):
        return {"approved": "true", "opinion": "同意"}
    if name == "declare_conflicts":
        return {"no_conflict": "true"}
    if name == "investigate":
        case = case_of(session, task.instance_id)
        count = len(list(session.scalars(select(CaseRecord.id).where(CaseRecord.case_id == case.id))))
        base = {"officers": ["officer.a", "officer.a2"], "occurred_on": day, "place": "康宁诊所诊室"}
        if count == 0:
            return {**base, "kind": "interview", "interviewee": "何康宁（法定代表人）",
                    "content": "问：诊所是否聘用了未取得执业资格的人员？答：有一名护士尚未取得护士执业证书。"}
        if count == 1:
            return {**base, "kind": "site", "content": "现场检查发现一名未取得护士执业证书的人员正在为患者输液。",
                    "files": FILE}
        return {"kind": "finish"}
    if name == "investigation_report":
        return {"facts": "当事人使用一名未取得护士执业证书的人员从事护理工作。",
                "evidence_summary": "询问笔录、现场笔录。",
                "legal_basis": "《护士条例》第二十一条、第二十八条", "outcome": "penalty",
                "penalty_kinds": ["warning", "fine"], "fine": "5000",
                "members__user": list(MEMBERS), "members__role": [role for _n, role in MEMBERS.values()]}
    if name == "record_opinion":
        return {"outcome": "penalty", "penalty_kinds": ["warning", "fine"], "fine": "5000",
                "opinion": "事实清楚，同意承办人意见。"}
    if name == "sign_record":
        return {"passphrase": passphrase(who(task))}
    if name == "serve_prior_notice":
        return {"served_on": day, "method": "direct", "receiver": "何康宁"}
    if name == "await_reply":
        return {"kind": "waive", "received_on": day, "waiver_signed": "true"}
    if name == "review_statement":
        return {"adopted": "false", "reasons": "当事人所述理由不成立。", "penalty_kinds": ["warning", "fine"],
                "fine": "5000"}
    if name == "legal_review":
        return {"passed": "true", "opinion": "主体合法，事实清楚，程序合法，适用依据正确。"}
    if name == "collective_discussion":
        return {"conclusion": "penalty", "opinion": "同意", "minutes": "集体讨论同意。", "discussed_on": day,
                "participants__user": ["head.a", DEPUTY]}
    if name == "confirm_discussion":
        return {"confirmed": "true"}
    if name == "approve_decision":
        return {"conclusion": "penalty", "opinion": "同意"}
    if name == "draft_decision":
        notified = case_of(session, task.instance_id).notified_penalty or {}
        return {"decided_on": day, "facts": "当事人使用未取得护士执业证书的人员从事护理工作。",
                "legal_basis": "《护士条例》第二十八条", "penalty_kinds": notified.get("kinds", []),
                "fine": str(notified.get("fine", 0)), "performance": "自收到本决定书之日起十五日内缴至指定银行",
                "payee": "宝鸡市财政局非税收入专户", "reconsideration_body": "宝鸡市渭滨区人民政府",
                "court": "宝鸡市渭滨区人民法院"}
    if name == "serve_decision":
        return {"method": "direct", "served_on": day, "receiver": "何康宁"}
    if name == "record_execution":
        case = case_of(session, task.instance_id)
        return {"kind": "payment", "occurred_on": day, "amount": str((case.fine_fen + case.confiscation_fen) / 100)}
    if name == "closing_report":
        return {"reason": "executed", "summary": "当事人已缴清罚款，执行完毕。"}
    raise AssertionError(f"no form data for {name}")

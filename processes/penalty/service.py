"""The penalty services the web pages and the API call: start a case, submit a task form, sign
the deliberation record, apply for recusal, request an extension.

Every function takes the caller's ``Session`` and never commits (the request owns the
transaction). ``submit_task`` is the one door for penalty task forms: schema, then the legal
checks that need the case (``checks``), then ``engine.complete_task``, then the case register.
A violated rule raises ``marshmallow.ValidationError`` with messages per field and nothing is
written.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

import signing
from engine import Actor, audit, complete_task, deliver_message, start
from engine.calendar import CHINA_TZ
from engine.clock import china_today
from engine.clock import now as engine_now
from engine.errors import MessageNotDelivered, NotFound, TaskNotReady
from engine.models import HumanTask, ProcessInstance
from engine.scripting import load_calendar
from processes.directory import throttle

from . import checks as _checks  # noqa: F401 - registers the handlers
from . import checks_decision as _checks_decision  # noqa: F401 - registers the handlers
from .checks import HANDLERS, Submission, all_failures
from .checks_endings import refuse_penalty_during_ending
from .forms import DATA_KEYS, FORMS, SOURCES
from .models import PenaltyCase
from .rule_overrides import effective_rules, rules_for_case, snapshot_case_rules
from .rules import Rules

PROCESS_KEYS = {"ordinary": "penalty_ordinary", "summary": "penalty_summary"}
SIGN_FORM = "penalty.deliberation_sign"


def get_case(session: Session, case_id: str) -> PenaltyCase:
    case = session.get(PenaltyCase, case_id)
    if case is None:
        raise NotFound(f"no penalty case {case_id}")
    return case


def case_of_instance(session: Session, instance_id: str) -> PenaltyCase:
    case = session.scalar(select(PenaltyCase).where(PenaltyCase.instance_id == instance_id))
    if case is None:
        raise NotFound(f"process instance {instance_id} is not a penalty case")
    return case


HANDED_OVER_SOURCES = ("complaint", "random_inspection")


def known_discovery(prefill: Mapping[str, Any], now: datetime | None) -> date | None:
    """The day the system knows the violation was discovered, for a lead another package opens.

    The filing period counts from discovery (item 13 of issue 14), so a lead handed over by the
    complaints (the verification that found the violation) or the random inspections carries that
    day rather than leaving it to be typed: ``prefill["discovered_on"]`` when the sender states it,
    otherwise the day the lead is opened (the sender opens it on the day its check found the
    violation). A lead an officer registers by hand has none: the officer enters it."""
    stated = prefill.get("discovered_on")
    if stated:
        return date.fromisoformat(str(stated)[:10])
    return china_today(now) if prefill.get("source") in HANDED_OVER_SOURCES else None


def start_case(session: Session, actor: Actor, *, unit_id: str, unit_name: str, unit_short_name: str,
               procedure: str = "ordinary", prefill: Mapping[str, Any] | None = None,
               rules: Rules | None = None, now: datetime | None = None) -> PenaltyCase:
    """Open a case lead (ordinary) or an on-the-spot decision (summary) in ``unit_id``.

    ``unit_short_name`` is the region character of the case number (宝 in 宝卫医罚〔2026〕12号).
    The rules in force (``rules.toml`` plus administrators' overrides) are copied into the case
    (its data and ``penalty_case_rules``) so it keeps them. ``prefill`` (e.g. the entity
    the lead came from) is shown as the first form's defaults.
    """
    if procedure not in PROCESS_KEYS:
        raise ValidationError({"procedure": ["程序类型应为一般程序或者简易程序"]})
    rules = rules or effective_rules(session)
    case_id = str(uuid.uuid4())
    data = {"case_id": case_id, "unit_id": unit_id, "unit_name": unit_name, "unit_short_name": unit_short_name,
            "procedure": procedure, "prefill": dict(prefill or {}), **rules.process_data()}
    entity = dict(prefill or {})
    instance = start(session, PROCESS_KEYS[procedure], actor, data, business_key=f"案源-{case_id[:8]}",
                     unit_id=unit_id, entity_id=entity.get("entity_id") or None,
                     entity_name=entity.get("entity_name") or None, now=now)
    case = PenaltyCase(id=case_id, instance_id=instance.id, procedure=procedure, unit_id=unit_id, unit_name=unit_name,
                       unit_short_name=unit_short_name, status="lead" if procedure == "ordinary" else "summary",
                       entity_id=entity.get("entity_id") or None, entity_name=entity.get("entity_name") or None,
                       officers=[], blocked_officers=[], investigators=[], extensions=[],
                       discovered_on=known_discovery(entity, now),
                       source=entity.get("source") if entity.get("source") in SOURCES else None)
    session.add(case)
    session.flush()
    snapshot_case_rules(session, case_id, rules)
    return case


def _ready_task(session: Session, task_id: str) -> HumanTask:
    task = session.get(HumanTask, str(task_id), populate_existing=True)
    if task is None:
        raise NotFound(f"no task {task_id}")
    if task.status != "ready":
        raise TaskNotReady(f"task {task.title} is already {task.status}", task_id=task.id)
    return task


def validate_task(session: Session, task: HumanTask, actor: Actor, fields: Mapping[str, Any], *,
                  now: datetime | None = None, rules: Rules | None = None) -> tuple[Submission, Any]:
    """Schema and legal checks for a form, without completing anything (the web may preview)."""
    form_key = task.form_key or ""
    schema = FORMS.get(form_key)
    if schema is None:
        raise NotFound(f"task {task.title} has no penalty form ({form_key!r})")
    form = schema().load(dict(fields))
    case = case_of_instance(session, task.instance_id)
    rules = rules or rules_for_case(session, case.id)  # the rules the case started under
    sub = Submission(session, case, actor, form, rules, load_calendar(session), china_today(now))
    def check() -> Any:
        refuse_penalty_during_ending(sub, form_key)  # 国务院令第310号第十一条: no penalty beside an ending
        return HANDLERS[form_key](sub)
    return sub, all_failures(check)  # every legal problem in one round


def submit_task(session: Session, task_id: str, actor: Actor, fields: Mapping[str, Any], *,
                now: datetime | None = None) -> ProcessInstance:
    """Validate a penalty task form, complete the task in the engine, update the case register."""
    task = _ready_task(session, task_id)
    if task.form_key == SIGN_FORM:
        passphrase = str(fields.get("passphrase") or "")
        if not passphrase:
            raise ValidationError({"passphrase": ["请输入签名口令"]})
        case = case_of_instance(session, task.instance_id)
        return sign_deliberation(session, case.id, actor.user_id, passphrase, now=now, task_id=task.id)
    sub, result = validate_task(session, task, actor, fields, now=now)
    data = {DATA_KEYS[task.form_key or ""]: result.payload, **result.extra}
    instance = complete_task(session, task.id, actor, data, now=now)
    if result.project is not None:
        result.project()
    sub.case.updated_at = now or engine_now()
    session.flush()
    return instance


def _sign_task(session: Session, case: PenaltyCase, user_id: str, task_id: str | None = None) -> HumanTask:
    """The member's own signing task: the one named (an API or page call completes exactly that
    task or refuses), else the member's only ready one."""
    query = select(HumanTask).where(HumanTask.instance_id == case.instance_id, HumanTask.status == "ready",
                                    HumanTask.form_key == SIGN_FORM, HumanTask.assignee == user_id)
    if task_id is not None:
        query = query.where(HumanTask.id == task_id)
    task = session.scalar(query)
    if task is None:
        raise TaskNotReady("你没有待签名的合议记录" if task_id is None else "这项签名任务不是你的，不能由你签名")
    return task


def sign_deliberation(session: Session, case_id: str, user_id: str, passphrase: str, *,
                      now: datetime | None = None, task_id: str | None = None) -> ProcessInstance:
    """Sign the case's deliberation record with the member's own key and complete their signing task.

    The passphrase unlocks the member's PKCS#12 for this call only; it is never stored, logged or
    put in task data. A wrong passphrase or an INVALID signature raises ``ValidationError`` on
    ``passphrase`` with the reason in Chinese and changes nothing else.

    Guessing is slowed down like sign-in (``processes.directory.throttle``, per member): the
    attempt is counted and committed before the key is unlocked, and every failed unlock is
    written to the audit chain, so the counter and the record survive the caller's rollback.
    """
    case = get_case(session, case_id)
    task = _sign_task(session, case, user_id, task_id)
    if not case.deliberation_record_id:
        raise TaskNotReady("合议记录尚未生成")
    key = f"sign:{user_id}"
    refused = throttle.reserve(session, {key: SIGNING_THROTTLE}, now)
    session.commit()
    if refused is not None:
        raise ValidationError({"passphrase": [f"签名口令尝试次数过多，请在{_local_minute(refused.retry_at)}后再试"]})
    try:
        signer = signing.ServerKeySigner.for_user(session, user_id, passphrase)
    except signing.PassphraseError:
        audit.append(session, user_id, "signing_unlock_failed", now=now,
                     data={"case": case.id, "record": case.deliberation_record_id})
        session.commit()
        raise ValidationError({"passphrase": ["签名口令不正确"]}) from None
    except signing.NoCertificateError:
        raise ValidationError({"passphrase": ["你还没有有效的签名证书，请联系管理员签发"]}) from None
    throttle.clear(session, key)
    return _sign_with(session, case, task, user_id, signer, now)


# [practice] OWASP ASVS 2.2: five free tries, then a wait from one minute doubling to half an hour.
SIGNING_THROTTLE = throttle.Policy(free=5, base_seconds=60, max_seconds=30 * 60)


def _local_minute(moment: datetime) -> str:
    return moment.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")


def _sign_with(session: Session, case: PenaltyCase, task: HumanTask, user_id: str, signer: signing.Signer,
               now: datetime | None) -> ProcessInstance:
    assert case.deliberation_record_id is not None
    report = signing.sign_record(session, case.deliberation_record_id, user_id, signer, now=now)
    if not report.valid:
        reason = report.reason.label_zh if report.reason else report.detail
        raise ValidationError({"passphrase": [f"签名未通过验证：{reason}"]})
    signature = {"user_id": user_id, "record_id": case.deliberation_record_id, "signature_id": report.signature_id,
                 "certificate_serial": report.certificate_serial,
                 "signing_time": report.signing_time.isoformat() if report.signing_time else None}
    return complete_task(session, task.id, Actor.of(user_id), {"signature": signature}, now=now)


def apply_for_recusal(session: Session, actor: Actor, case_id: str, officer_id: str, reason: str, *,
                      applicant: str = "当事人", role: str = "officer", now: datetime | None = None) -> None:
    """Record a recusal application (the party's, or an officer's own); the head decides it.

    Besides the case officers (``role`` officer), the hearing chair, the legal reviewer and the
    deliberation members may be challenged (Art. 43; Art. 64(4) for the chair): a person decided
    recused is refused in any of these roles in this case (``checks.refuse_recused``)."""
    from processes.directory.services import display_names

    case = get_case(session, case_id)
    if role not in RECUSAL_ROLES:
        raise ValidationError({"role": ["请选择申请回避人员在本案中的职责"]})
    if role == "officer" and officer_id not in {o["user_id"] for o in case.officers or []}:
        raise ValidationError({"officer_id": ["该执法人员不是本案承办人"]})
    name = display_names(session, [officer_id]).get(officer_id)
    if role != "officer" and not name:
        raise ValidationError({"officer_id": ["本机关人员名录中没有该人员"]})
    if not reason.strip():
        raise ValidationError({"reason": ["请写明申请回避的理由"]})
    application = {"officer_id": officer_id, "reason": reason.strip(), "applicant": applicant,
                   "recorded_by": actor.user_id, "role": role, "name": name or officer_id}
    try:
        deliver_message(session, "penalty_recusal_application", {"penalty_case": {"case_id": case.id}},
                        application, actor, now=now)
    except MessageNotDelivered:
        raise ValidationError(
            {"officer_id": ["本案当前不能受理回避申请（未立案、已作出决定或者正在处理其他申请）"]}) from None
    case.pending_recusal = application


RECUSAL_ROLES = {"officer": "承办人", "hearing_chair": "听证主持人", "legal_reviewer": "法制审核人员",
                 "deliberation_member": "合议人员"}
"""Who may be challenged for recusal in a case (行政处罚法第四十三条; 第六十四条第四项 for the chair)."""


def request_extension(session: Session, actor: Actor, case_id: str, reason: str, *,
                      now: datetime | None = None) -> None:
    """Ask the head to extend the 90-day decision period (Art. 60); the approval is a head task."""
    case = get_case(session, case_id)
    if not reason.strip():
        raise ValidationError({"reason": ["请写明需要延长办案期限的理由"]})
    if case.decision_due and case.decided_on is None and china_today(now) > case.decision_due:
        raise ValidationError({"reason": [f"办案期限已于{case.decision_due.isoformat()}届满，延长须在届满前批准；"
                                          "请作出决定（写明逾期原因）或者撤销立案、终止调查、移送"]})
    try:
        deliver_message(session, "penalty_extension_request", {"penalty_case": {"case_id": case.id}},
                        {"reason": reason.strip(), "requested_by": actor.user_id}, actor, now=now)
    except MessageNotDelivered:
        raise ValidationError({"reason": ["本案当前不能申请延期（未立案、已作出决定或者已有待审批的申请）"]}) from None


def request_ending(session: Session, actor: Actor, case_id: str, kind: str, reason: str, *, receiver: str = "",
                   now: datetime | None = None) -> None:
    """Ask the head to transfer the case (to the police: 国务院令第310号 Arts. 5, 8; or to the competent
    agency), to withdraw the filing or to terminate the investigation; the approval is a head task
    (for the police due within ``transfer_decision_days``), and an approved request ends every
    penalty path of the case (310号 Art. 11: no penalty in place of a criminal prosecution)."""
    from .forms_endings import ENDING_KINDS, TRANSFER_KINDS

    case = get_case(session, case_id)
    if kind not in ENDING_KINDS:
        raise ValidationError({"kind": ["请选择移送公安机关、移送有管辖权的行政机关、撤销立案或者终止调查"]})
    if not reason.strip():
        raise ValidationError({"reason": ["请写明理由"]})
    if kind in TRANSFER_KINDS and not receiver.strip():
        raise ValidationError({"receiver": ["请填写接收移送的机关"]})
    request = {"kind": kind, "reason": reason.strip(), "receiver": receiver.strip(), "requested_by": actor.user_id,
               "requested_on": china_today(now).isoformat()}
    try:
        deliver_message(session, "penalty_ending_request", {"penalty_case": {"case_id": case.id}}, request, actor,
                        now=now)
    except MessageNotDelivered:
        raise ValidationError({"kind": ["本案当前不能提出该申请（未立案、已作出决定或者正在处理其他申请）"]}) from None
    case.pending_ending = request

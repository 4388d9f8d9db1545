"""The legal checks that need the case, one handler per form key, and what each submission
records in the case register.

A handler gets the validated form (``Submission.form``) and returns what goes into the task
data plus a ``project`` callback that updates the register once the engine accepted the
completion. A violated rule raises ``marshmallow.ValidationError`` keyed by the field to fix,
with the article of the law in the message, so the web shows it next to that field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import Actor
from engine.calendar import WorkCalendar
from engine.models import HumanTask

from . import law
from .law import Penalty
from .models import Blob, CaseRecord, DeadlineNotice, PenaltyCase
from .rules import Rules


@dataclass
class Submission:
    session: Session
    case: PenaltyCase
    actor: Actor
    form: dict[str, Any]
    rules: Rules
    calendar: WorkCalendar
    today: date


@dataclass
class Result:
    payload: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)
    project: Callable[[], None] | None = None


Handler = Callable[[Submission], Result]
HANDLERS: dict[str, Handler] = {}


def handles(*form_keys: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        for key in form_keys:
            HANDLERS[key] = func
        return func
    return register


_COLLECTED: ContextVar[dict[str, list[str]] | None] = ContextVar("penalty_check_failures", default=None)


def fail(field_name: str, message: str) -> None:
    """A legal check refuses the form. Inside ``all_failures`` (every task form's checks) the
    refusal is noted and the checks go on, so the officer reads every problem in one round;
    elsewhere (a service called directly) it raises at once."""
    collected = _COLLECTED.get()
    if collected is None:
        raise ValidationError({field_name: [message]})
    messages = collected.setdefault(field_name, [])
    if message not in messages:
        messages.append(message)


def all_failures(check: Callable[[], Result]) -> Result:
    """Run a form's legal checks collecting every ``fail``; raise them together at the end.

    A check that cannot go on after an earlier refusal (a value it needed was refused) stops
    the run: what was noted so far is reported, not the follow-on error."""
    token = _COLLECTED.set({})
    try:
        try:
            result = check()
        except ValidationError as exc:
            noted = _COLLECTED.get() or {}
            raise ValidationError(_merged(noted, exc.messages)) from exc
        except Exception:
            noted = _COLLECTED.get() or {}
            if noted:
                raise ValidationError(noted) from None
            raise
        noted = _COLLECTED.get() or {}
        if noted:
            raise ValidationError(noted)
        return result
    finally:
        _COLLECTED.reset(token)


def _merged(noted: dict[str, list[str]], raised: Any) -> dict[str, Any]:
    merged: dict[str, Any] = {k: list(v) for k, v in noted.items()}
    if isinstance(raised, dict):
        for key, value in raised.items():
            more = value if isinstance(value, list) else [value]
            merged[key] = merged.get(key, []) + [m for m in more if m not in merged.get(key, [])]
    else:
        merged.setdefault("_schema", []).extend(raised if isinstance(raised, list) else [raised])
    return merged


def jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def overdue_decision(sub: Submission, on: date, field_name: str = "overdue_reason") -> tuple[bool, str]:
    """Whether a decision step dated ``on`` is after the decision period (Art. 60), and the reason
    given for it: an overdue case is still decided (it must not deadlock), but only with the reason
    recorded; without one the form is refused."""
    due = sub.case.decision_due
    overdue = bool(due and on > due)
    reason = (sub.form.get(field_name) or "").strip()
    if overdue and not reason:
        assert due is not None
        fail(field_name, f"已超过办案期限：应当在{law.cn(due)}前作出决定（立案之日起"
                         f"{sub.rules.periods.decision_days}日，第六十条）；逾期作出决定的，请写明逾期原因，"
                         f"将记录在案并报告负责人")
    return overdue, reason


def penalty_of(form: dict[str, Any]) -> Penalty:
    return Penalty.of({"kinds": form.get("penalty_kinds"), "fine": form.get("fine"),
                       "confiscation": form.get("confiscation")})


def not_heavier(sub: Submission, penalty: Penalty, field_name: str, why: str) -> None:
    notified = Penalty.of(sub.case.notified_penalty)
    reasons = law.heavier(penalty, notified)
    if reasons:
        fail(field_name, f"{why}：{'；'.join(reasons)}（事先告知的处罚为：{notified.describe()}）")


def check_team(sub: Submission, officers: list[dict[str, Any]], field_name: str = "officers") -> None:
    ids = [o["user_id"] for o in officers]
    if len(set(ids)) != len(ids):
        fail(field_name, "同一执法人员不能重复指定")
    if len(ids) < sub.rules.staffing.min_officers:
        fail(field_name, f"执法人员不得少于{sub.rules.staffing.min_officers}人（行政处罚法第四十二条）")
    blocked = [o["name"] for o in officers if o["user_id"] in (sub.case.blocked_officers or [])]
    if blocked:
        fail(field_name, f"{'、'.join(blocked)}已声明或者被决定回避，不能承办本案（第四十三条）")


def refuse_recused(sub: Submission, user_id: str, name: str, role: str, field_name: str) -> None:
    """A person who declared a conflict or was decided recused in this case acts in no role of it
    (case officer, hearing chair, legal reviewer, deliberation member; Art. 43)."""
    if user_id in (sub.case.blocked_officers or []):
        fail(field_name, f"{name}已声明或者被决定回避，不能担任本案{role}（第四十三条）")


def actor_name(sub: Submission) -> str:
    from processes.directory.services import display_names

    return display_names(sub.session, [sub.actor.user_id]).get(sub.actor.user_id) or sub.actor.user_id


def add_investigators(case: PenaltyCase, ids: Iterable[str]) -> None:
    case.investigators = sorted(set(case.investigators or []) | set(ids))


# -- lead and filing --------------------------------------------------------------------------

PARTY_FIELDS = ("entity_id", "entity_name", "party_type", "credit_code", "legal_representative", "registered_address",
                "actual_address", "region_code", "unit_category", "licence_numbers")


def project_party(case: PenaltyCase, form: dict[str, Any]) -> None:
    for name in PARTY_FIELDS:
        setattr(case, name, (form.get(name) or None) if name != "party_type" else form.get(name))


HANDED_OVER = {"complaint": "投诉举报核查", "random_inspection": "双随机抽查"}


@handles("penalty.lead")
def lead(sub: Submission) -> Result:
    """The filing deadline counts from discovery (令第13号), so neither date may be in the future."""
    f = sub.form
    if f["discovered_on"] > sub.today:
        fail("discovered_on", "发现日期不能晚于今天")
    if f["accepted_on"] > sub.today:
        fail("accepted_on", "受理日期不能晚于今天")
    known = sub.case.discovered_on  # set when a complaint or an inspection opened the lead
    if known is not None and sub.case.source in HANDED_OVER and f["discovered_on"] > known:
        fail("discovered_on", f"本案源经{HANDED_OVER[sub.case.source]}于{law.cn(known)}发现，发现日期不能晚于该日"
                              "（立案期限自发现之日起计算）")
    differences = directory_differences(sub)
    if differences and not f.get("directory_difference_confirmed"):
        listed = "；".join(differences)
        fail("directory_difference_confirmed",
             f"当事人信息与监督对象名录不一致：{listed}。请核实：名录有误的，请联系管理员更正名录；以本表为准的，请勾选确认")
    status = law.limitation_status(sub.rules, f["violation_date"], f["discovered_on"],
                                   ended_on=f.get("violation_ended_on"), public_health_harm=f["public_health_harm"])
    filing_due = law.filing_due(sub.calendar, sub.rules, f["discovered_on"])

    def project() -> None:
        c = sub.case
        project_party(c, f)
        c.category, c.source, c.violation = f["category"], f["source"], f["suspected_violation"]
        c.violation_date, c.accepted_on = f["violation_date"], f["accepted_on"]
        c.discovered_on, c.filing_due = f["discovered_on"], filing_due
        c.limitation_expires_on = status.expires_on
        c.status_reason = status.reason

    return Result(jsonable(f), {"limitation": status.as_data()}, project)


DIRECTORY_FIELDS = (("entity_name", "name", "名称"), ("legal_representative", "legal_representative", "法定代表人"),
                    ("registered_address", "address", "注册地址"))


def directory_differences(sub: Submission) -> list[str]:
    """Where the lead's party differs from the directory entry of the entity it names (its
    documents would then disagree with the directory): one phrase each, the directory's value."""
    from processes.directory.models import Entity

    code = (sub.form.get("credit_code") or sub.form.get("entity_id") or "").upper()
    entity = sub.session.get(Entity, code) if code else None
    if entity is None:
        return []
    out = []
    for form_field, attribute, label in DIRECTORY_FIELDS:
        typed, known = (sub.form.get(form_field) or "").strip(), (getattr(entity, attribute) or "").strip()
        if typed and known and typed != known:
            out.append(f"{label}（名录：{known}，本表：{typed}）")
    return out


@handles("penalty.filing_report", "penalty.replace_officers")
def team(sub: Submission) -> Result:
    officers = sub.form["officers"]
    check_team(sub, officers)

    def project() -> None:
        sub.case.officers = officers
        add_investigators(sub.case, (o["user_id"] for o in officers))

    return Result(jsonable(sub.form), project=project)


@handles("penalty.closing_approval", "penalty.summary_filing")
def approval(sub: Submission) -> Result:
    return Result(jsonable(sub.form))


@handles("penalty.filing_approval")
def filing_approval(sub: Submission) -> Result:
    """Within the filing period (from discovery, plus the extension the head approved before it
    ended, recorded then: ``filing.approve_filing_extension``) the head decides freely. After it, a
    decision to file is still possible (a lead never gets stuck) but needs the reason for the delay,
    which the task data keeps (``filing_overdue``) and a notice reports to the heads."""
    f, case = sub.form, sub.case
    due = case.filing_due
    payload = jsonable(f)
    if case.filing_extension:
        payload["filing_extension"] = case.filing_extension
    if due is None or sub.today <= due or not f.get("approved"):
        return Result(payload)
    reason = (f.get("overdue_reason") or "").strip()
    if not reason:
        fail("overdue_reason", f"立案期限已于{law.cn(due)}届满；延长须经本机关负责人在期限届满前批准，现已不能延长。"
                               "决定立案的，请写明超过立案期限的原因，将记录在案并报告负责人")
    payload["filing_overdue"] = {"due": due.isoformat(), "reason": reason, "decided_by": sub.actor.user_id}

    def project() -> None:
        sub.session.add(DeadlineNotice(case_id=case.id, kind="filed_overdue", role="head", due=due,
                                       message=f"本案超过立案期限（{law.cn(due)}）于{law.cn(sub.today)}决定立案，"
                                               f"超过期限的原因：{reason}"))
    return Result(payload, project=project)


@handles("penalty.preservation_approval")
def preservation_approval(sub: Submission) -> Result:
    def project() -> None:
        if not sub.form["approved"]:
            sub.case.open_preservations = max(0, (sub.case.open_preservations or 0) - 1)
    return Result(jsonable(sub.form), project=project)



@handles("penalty.conflict_declaration")
def declaration(sub: Submission) -> Result:
    officer = next((o for o in sub.case.officers or [] if o["user_id"] == sub.actor.user_id), None)
    payload = {**jsonable(sub.form), "user_id": sub.actor.user_id, "name": officer["name"] if officer else ""}

    def project() -> None:
        if not sub.form["no_conflict"]:
            c = sub.case
            c.blocked_officers = sorted(set(c.blocked_officers or []) | {sub.actor.user_id})
            c.officers = [o for o in c.officers or [] if o["user_id"] != sub.actor.user_id]

    return Result(payload, project=project)


@handles("penalty.recusal_decision")
def recusal(sub: Submission) -> Result:
    f = sub.form
    application = sub.case.pending_recusal or {}
    replacement = f.get("replacement")
    as_officer = application.get("role", "officer") == "officer"
    if f["granted"] and replacement:
        if replacement["user_id"] in (sub.case.blocked_officers or []):
            fail("replacement", f"{replacement['name']}已回避，不能接替")
        if as_officer and replacement["user_id"] in {o["user_id"] for o in sub.case.officers or []}:
            fail("replacement", f"{replacement['name']}已是本案承办人")

    def project() -> None:
        c = sub.case
        if f["granted"] and replacement and not as_officer:
            # hearing chair, legal reviewer or deliberation member: barred from every role of the
            # case; the replacement the head designated is kept with the decision
            c.blocked_officers = sorted(set(c.blocked_officers or []) | {application["officer_id"]})
            if application.get("role") == "hearing_chair":
                move_hearing_to(sub, application, replacement)
        elif f["granted"] and replacement:
            recused = application.get("officer_id")
            c.blocked_officers = sorted(set(c.blocked_officers or []) | ({recused} if recused else set()))
            c.officers = [o for o in c.officers or [] if o["user_id"] != recused] + [replacement]
            add_investigators(c, [replacement["user_id"]])
        c.pending_recusal = None

    return Result({**jsonable(f), "application": application}, project=project)


def move_hearing_to(sub: Submission, application: dict[str, Any], replacement: dict[str, Any]) -> None:
    """A 举行听证 already assigned to the recused chair moves to the replacement (engine reassignment
    by the deciding head, reason in the audit trail): the recused person cannot hold it (Art. 64(4))."""
    from engine.tasks import assign

    held = sub.session.scalars(select(HumanTask).where(
        HumanTask.instance_id == sub.case.instance_id, HumanTask.task_name == "hold_hearing",
        HumanTask.status == "ready", HumanTask.assignee == application["officer_id"]))
    for task in list(held):
        assign(sub.session, task.id, sub.actor, replacement["user_id"],
               f"听证主持人{application.get('name', application['officer_id'])}经负责人决定回避，"
               f"由{replacement['name']}接替主持听证")


# -- investigation ----------------------------------------------------------------------------

RECORD_TITLES = {"interview": "询问笔录", "site": "现场笔录", "evidence": "证据", "preservation": "先行登记保存"}


@handles("penalty.investigation_record")
def investigation_record(sub: Submission) -> Result:
    f, case = sub.form, sub.case
    if f["kind"] == "finish":
        if case.open_preservations:
            fail("kind", "尚有先行登记保存的证据未作出处理决定，不能终结调查（第五十六条）")
        return Result(jsonable(f))
    current = {o["user_id"]: o["name"] for o in case.officers or []}
    present = [u for u in f["officers"] if u in current]
    problems: dict[str, list[str]] = {}  # all at once: the officer corrects one form, not one field per round
    if len(set(present)) < sub.rules.staffing.min_officers or len(present) != len(f["officers"]):
        problems["officers"] = [f"调查取证须由本案承办人中的{sub.rules.staffing.min_officers}名以上执法人员共同进行"
                                f"（第四十二条）；本案承办人：{'、'.join(current.values()) or '无'}"]
    if f.get("occurred_on") and f["occurred_on"] > sub.today:
        problems["occurred_on"] = ["日期不能晚于今天"]
    for item in f.get("files") or []:
        if sub.session.get(Blob, item["sha256"]) is None:
            problems["files"] = [f"文件“{item['file_name']}”尚未上传"]
    if problems:
        raise ValidationError(problems)
    payload = {**jsonable(f), "officer_names": [current[u] for u in present]}

    def project() -> None:
        sub.session.add(CaseRecord(case_id=case.id, kind=f["kind"], title=f.get("title") or RECORD_TITLES[f["kind"]],
                                   officers=present, content=payload, recorded_by=sub.actor.user_id,
                                   sha256=(f["files"][0]["sha256"] if f.get("files") else None)))
        if f["kind"] == "preservation":
            case.open_preservations = (case.open_preservations or 0) + 1

    return Result(payload, project=project)


@handles("penalty.preservation_decision")
def preservation_decision(sub: Submission) -> Result:
    def project() -> None:
        sub.case.open_preservations = max(0, (sub.case.open_preservations or 0) - 1)
    return Result(jsonable(sub.form), project=project)



@handles("penalty.investigation_report")
def investigation_report(sub: Submission) -> Result:
    f = sub.form
    members = f["members"]
    ids = [m["user_id"] for m in members]
    minimum = sub.rules.staffing.min_deliberation_members
    if len(ids) < minimum:
        fail("members", f"合议人员不得少于{minimum}人")
    if len(set(ids)) != len(ids):
        fail("members", "合议人员不能重复")
    if not any(m["role"] == "主持人" for m in members):
        fail("members", "请指定合议主持人")
    for member in members:
        refuse_recused(sub, member["user_id"], member["name"], "合议人员", "members")
    penalty = penalty_of(f) if f["outcome"] == "penalty" else Penalty(())
    payload = {**jsonable(f), "penalty": penalty.as_data()}

    def project() -> None:
        sub.case.legal_basis = f["legal_basis"]
        sub.case.violation = f["facts"]
    return Result(payload, project=project)


@handles("penalty.deliberation_opinion")
def deliberation_opinion(sub: Submission) -> Result:
    f = sub.form
    refuse_recused(sub, sub.actor.user_id, actor_name(sub), "合议人员", "outcome")
    penalty = penalty_of(f) if f["outcome"] == "penalty" else Penalty(())
    return Result({**jsonable(f), "user_id": sub.actor.user_id, "penalty": penalty.as_data()})

"""Shared steps of the penalty features: frozen time, driving a case to a task, refusals.

Task names in the features are the BPMN task names (Chinese), looked up in the deployed files,
so a scenario reads like the process diagram. Each scenario drives a real case on SQLite through
``processes.penalty.submit_task`` and the engine; default form data fills what a scenario does
not state (``tests.penalty.driver.DEFAULTS``).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from marshmallow import ValidationError
from pytest_bdd import given, parsers, then, when

import signing
from tests.penalty.driver import DEFAULTS, PenaltyWorld, at, prepare_template, world_fixture

BPMN_DIR = Path(__file__).resolve().parents[3] / "processes" / "penalty"
STATUS = {"lead": "案源", "not_filed_expired": "超过时效不予立案", "not_filed": "不予立案", "filed": "已立案",
          "deliberated": "已合议", "notified": "已告知", "decided": "已决定", "served": "已送达", "closed": "已结案",
          "transfer_decided": "已决定移送", "transferred": "已移送", "withdrawn": "已撤销立案",
          "terminated": "已终止调查"}


def _task_ids() -> dict[str, str]:
    ids: dict[str, str] = {}
    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
    for path in BPMN_DIR.glob("*.bpmn"):
        root = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
        for task in root.iterfind(".//bpmn:userTask", ns):
            ids.setdefault(task.get("name") or "", task.get("id") or "")
    return ids


TASK_IDS = _task_ids()


def task_id(title: str) -> str:
    assert title in TASK_IDS, f"no user task named {title!r}; known: {sorted(TASK_IDS)}"
    return TASK_IDS[title]


@pytest.fixture(scope="session")
def penalty_template(_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
                     ) -> tuple[Path, dict[str, signing.ServerKeySigner]]:
    path = tmp_path_factory.mktemp("penalty-bdd") / "penalty-template.db"
    shutil.copyfile(_sqlite_template, path)
    return path, prepare_template(path)


@pytest.fixture
def world(penalty_template: tuple[Path, dict[str, signing.ServerKeySigner]], tmp_path: Path
          ) -> Iterator[PenaltyWorld]:
    yield from world_fixture(penalty_template, tmp_path)


@pytest.fixture
def ctx() -> dict[str, Any]:
    """What a scenario remembers between steps (the case, the last refusal...)."""
    return {}


def last_error_text(world: PenaltyWorld) -> str:
    assert world.errors, "expected the system to refuse, but it accepted"
    error = world.errors[-1]
    if isinstance(error, ValidationError):
        return str(error.messages)
    return str(error)


@given(parsers.parse('今天是"{day}"'))
@when(parsers.parse('今天是"{day}"'))
def today_is(world: PenaltyWorld, day: str) -> None:
    world.set_day(day)


@given("一件一般程序案件已登记案源")
def a_case(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    ctx["case"] = world.start()


@given(parsers.parse('案件已办理到"{title}"'))
@when(parsers.parse('案件已办理到"{title}"'))
def case_at(world: PenaltyWorld, ctx: dict[str, Any], title: str) -> None:
    if "case" not in ctx:
        ctx["case"] = world.start()
    world.run_until(ctx["case"], task_id(title))


@when(parsers.parse('办理"{title}"'))
def do_task(world: PenaltyWorld, ctx: dict[str, Any], title: str) -> None:
    world.try_submit(ctx["case"], task_id(title))


@then(parsers.parse('系统拒绝并提示"{text}"'))
def refused(world: PenaltyWorld, text: str) -> None:
    message = last_error_text(world)
    assert text in message, message


@then("系统接受")
def accepted(world: PenaltyWorld) -> None:
    assert not world.errors, [str(getattr(e, "messages", e)) for e in world.errors]


@then(parsers.parse('已生成"{title}"'))
def generated(world: PenaltyWorld, ctx: dict[str, Any], title: str) -> None:
    from processes.penalty import documents_of

    with world.factory() as session:
        titles = [d.title for d in documents_of(session, ctx["case"])]
    assert title in titles, titles


@then(parsers.parse('待办任务包括"{title}"'))
def has_task(world: PenaltyWorld, ctx: dict[str, Any], title: str) -> None:
    assert task_id(title) in world.ready_names(ctx["case"]), world.ready_names(ctx["case"])


@then(parsers.parse('没有待办任务"{title}"'))
def has_no_task(world: PenaltyWorld, ctx: dict[str, Any], title: str) -> None:
    assert task_id(title) not in world.ready_names(ctx["case"])


@then(parsers.parse('案件状态为"{label}"'))
def status_is(world: PenaltyWorld, ctx: dict[str, Any], label: str) -> None:
    assert STATUS.get(world.case(ctx["case"]).status) == label, world.case(ctx["case"]).status


@then(parsers.parse('"{title}"的办理期限是"{day}"'))
def task_due(world: PenaltyWorld, ctx: dict[str, Any], title: str, day: str) -> None:
    from tests.penalty.driver import SH

    task = world.task(ctx["case"], task_id(title))
    assert task.due_at is not None
    assert task.due_at.astimezone(SH).date().isoformat() == day


@when(parsers.parse('写明逾期原因"{reason}"办理"{title}"'))
def decide_with_reason(world: PenaltyWorld, ctx: dict[str, Any], reason: str, title: str) -> None:
    """A decision (penalty or no penalty) made after the decision period, with the reason (Art. 60)."""
    world.errors.clear()
    world.try_submit(ctx["case"], task_id(title), {"overdue_reason": reason})


@then(parsers.parse('案件记录逾期作出决定，逾期原因为"{reason}"'))
def overdue_recorded(world: PenaltyWorld, ctx: dict[str, Any], reason: str) -> None:
    case = world.case(ctx["case"])
    assert case.overdue_decision is not None, case.status
    assert case.overdue_decision["reason"] == reason
    assert case.overdue_decision["due"] == (case.decision_due.isoformat() if case.decision_due else None)


FLAGS = {"案情疑难复杂": "complex_case", "涉及重大公共利益": "major_public_interest", "重大违法行为": "major_violation",
         "直接关系当事人或者第三人重大权益": "major_rights"}


def report_with(world: PenaltyWorld, **changes: Any) -> None:
    base = DEFAULTS["investigation_report"]
    world.defaults["investigation_report"] = lambda w, n, t: {**base(w, n, t), **changes}
    opinion = DEFAULTS["record_opinion"]
    if "fine" in changes:
        world.defaults["record_opinion"] = lambda w, n, t: {**opinion(w, n, t), "fine": changes["fine"]}


@given(parsers.parse('调查终结报告拟对当事人罚款"{amount}"元'))
def report_fine(world: PenaltyWorld, amount: str) -> None:
    report_with(world, fine=float(amount))


@given(parsers.parse('调查终结报告载明"{flag}"'))
def report_flag(world: PenaltyWorld, flag: str) -> None:
    report_with(world, **{FLAGS[flag]: True})


@when("当事人要求听证")
def asks_for_hearing(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    world.errors.clear()
    world.try_submit(ctx["case"], "await_reply", {"kind": "hearing_request", "received_on": world.today.isoformat()})


@when(parsers.parse('时间到"{day} {clock}"'))
def time_passes(world: PenaltyWorld, day: str, clock: str) -> None:
    hour, minute, second = (int(x) for x in clock.split(":"))
    world.fire(at(day, hour, minute, second))


# -- execution (payment.feature, instalments.feature, surcharge.feature) --------------------------

def record_execution(world: PenaltyWorld, ctx: dict[str, Any], **fields: Any) -> None:
    world.try_submit(ctx["case"], "record_execution", {"occurred_on": world.today.isoformat(), **fields})


@when(parsers.parse('当事人缴纳"{amount}"元'))
def pays(world: PenaltyWorld, ctx: dict[str, Any], amount: str) -> None:
    record_execution(world, ctx, kind="payment", amount=float(amount))


@when("当事人申请行政复议")
def reconsideration(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    record_execution(world, ctx, kind="reconsideration", note="向上海市宝山区人民政府申请行政复议")


@when("复议机关决定维持")
def upheld(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    world.submit(ctx["case"], "await_appeal", {"result": "upheld", "concluded_on": world.today.isoformat()})


@then(parsers.parse('加处罚款为"{amount}"元'))
def surcharge_is(world: PenaltyWorld, ctx: dict[str, Any], amount: str) -> None:
    accepted(world)
    assert f"{world.case(ctx['case']).surcharge_fen / 100:.2f}" == amount


@then(parsers.parse('执行情况为"{label}"'))
def execution_status_is(world: PenaltyWorld, ctx: dict[str, Any], label: str) -> None:
    from processes.penalty.documents import EXECUTION_LABELS

    status = world.case(ctx["case"]).execution_status or ""
    assert EXECUTION_LABELS.get(status) == label, status


@then(parsers.parse('缴款期限是"{day}"'))
def payment_due_is(world: PenaltyWorld, ctx: dict[str, Any], day: str) -> None:
    due = world.case(ctx["case"]).payment_due
    assert due is not None and due.isoformat() == day, due


@then(parsers.parse('尚欠金额为"{amount}"元'))
def outstanding_is(world: PenaltyWorld, ctx: dict[str, Any], amount: str) -> None:
    case = world.case(ctx["case"])
    owed = case.fine_fen + case.confiscation_fen + case.surcharge_fen - case.paid_fen
    assert f"{owed / 100:.2f}" == amount


# -- payment during the 催告 period (enforcement_reminder.feature, summary_enforcement.feature) ----

def _pay_during_urge(world: PenaltyWorld, ctx: dict[str, Any], amount: float) -> None:
    world.errors.clear()
    world.try_submit(ctx["case"], "urge_payment", {"paid_on": world.today.isoformat(), "amount": amount})


@when(parsers.parse('当事人在催告期间缴纳"{amount}"元'))
def pays_during_urge(world: PenaltyWorld, ctx: dict[str, Any], amount: str) -> None:
    _pay_during_urge(world, ctx, float(amount))


@when("当事人在催告期间缴清罚没款和加处罚款")
def settles_during_urge(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    from processes.penalty.checks_execution import execution_state_of

    with world.factory() as session:
        state = execution_state_of(session, world.case(ctx["case"]), world.today)
    assert state is not None and state.outstanding > 0
    ctx["paid_in_urge"] = state.outstanding
    _pay_during_urge(world, ctx, float(state.outstanding))


# -- payment after the 催告 period, recorded on the court application (same features) ------------

RECEIPT = "沪财缴2026-0414"


def _pay_before_application(world: PenaltyWorld, ctx: dict[str, Any], amount: float, *, apply: bool) -> None:
    world.errors.clear()
    fields: dict[str, Any] = {"paid_on": world.today.isoformat(), "amount": amount, "receipt_no": RECEIPT}
    if apply:
        fields.update(applied_on=world.today.isoformat(), court="上海市宝山区人民法院")
    world.try_submit(ctx["case"], "apply_enforcement", fields)


@when("申请强制执行前当事人今天缴清罚没款和加处罚款")
def settles_before_application(world: PenaltyWorld, ctx: dict[str, Any]) -> None:
    from processes.penalty.checks_execution import execution_state_of

    with world.factory() as session:
        state = execution_state_of(session, world.case(ctx["case"]), world.today)
    assert state is not None and state.outstanding > 0
    _pay_before_application(world, ctx, float(state.outstanding), apply=False)


@when(parsers.parse('申请强制执行前当事人今天缴纳"{amount}"元，未申请强制执行'))
def pays_part_without_applying(world: PenaltyWorld, ctx: dict[str, Any], amount: str) -> None:
    _pay_before_application(world, ctx, float(amount), apply=False)


@when(parsers.parse('申请强制执行前当事人今天缴纳"{amount}"元，并于今天申请人民法院强制执行'))
def pays_part_and_applies(world: PenaltyWorld, ctx: dict[str, Any], amount: str) -> None:
    _pay_before_application(world, ctx, float(amount), apply=True)


def _payments_on(world: PenaltyWorld, ctx: dict[str, Any], day: str) -> list[tuple[str, str]]:
    from processes.penalty.checks_execution import events_of

    with world.factory() as session:
        return [(f"{e.amount_fen / 100:.2f}", e.note or "") for e in events_of(session, ctx["case"])
                if e.kind == "payment" and e.occurred_on.isoformat() == day]


@then(parsers.parse('执行记录有"{day}"缴款"{amount}"元，凭证号码"{receipt}"'))
def payment_recorded(world: PenaltyWorld, ctx: dict[str, Any], day: str, amount: str, receipt: str) -> None:
    payments = _payments_on(world, ctx, day)
    assert [p for p in payments if p[0] == amount and receipt in p[1]], payments


@then(parsers.parse('执行记录没有"{day}"的缴款'))
def no_payment_recorded(world: PenaltyWorld, ctx: dict[str, Any], day: str) -> None:
    assert _payments_on(world, ctx, day) == []


def _notices(world: PenaltyWorld, ctx: dict[str, Any]) -> list[str]:
    from sqlalchemy import select

    from processes.penalty.models import DeadlineNotice

    with world.factory() as session:
        return list(session.scalars(select(DeadlineNotice.kind).where(DeadlineNotice.case_id == ctx["case"])))


@then(parsers.parse('已发出提醒"{kind}"'))
def notice_sent(world: PenaltyWorld, ctx: dict[str, Any], kind: str) -> None:
    assert kind in _notices(world, ctx), _notices(world, ctx)


@then(parsers.parse('没有发出提醒"{kind}"'))
def no_notice(world: PenaltyWorld, ctx: dict[str, Any], kind: str) -> None:
    assert kind not in _notices(world, ctx), _notices(world, ctx)

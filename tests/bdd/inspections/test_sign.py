"""随机抽取记录的电子签名: steps for sign.feature (processes.inspections.draw_record over signing;
real keys under real passphrases, the agency root and its CRL, frozen scenario time)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pytest_bdd import given, parsers, scenarios, then, when
from sqlalchemy import select

import signing
from engine import Actor, PermissionDenied, assign
from engine.models import HumanTask, ProcessInstance
from processes.directory.models import Notification
from processes.directory.notifications import scan
from processes.directory.services import DirectoryError
from processes.inspections import draw as draws
from processes.inspections import draw_record, draw_signing, plans, scheduling, service
from processes.inspections.models import Draw, DrawImmutableError, DrawSigning, Inspection, ScheduleRun
from tests.inspections.driver import HEAD, NAMES, PLANNER, SH, UNIT, WITNESS, InspectionWorld, at

scenarios("sign.feature")

CA = "bdd-inspections-ca-passphrase"


def secret(user: str) -> str:
    return f"{user}-抽取记录签名口令"


@given(parsers.parse('机构根证书已建立，"{users}"持有签名证书'))
def pki(world: InspectionWorld, users: str) -> None:
    issued = world.now - timedelta(days=30)
    with world.factory() as session:
        signing.init_ca(session, ca_passphrase=CA, now=issued)
        for user in users.split(","):
            signing.issue_certificate(session, user, NAMES[user], secret(user), ca_passphrase=CA, now=issued)
        session.commit()


@when(parsers.parse("抽取一份{count:d}户的计划"))
def drawn(world: InspectionWorld, ctx: dict[str, Any], count: int) -> None:
    ctx["draws"].append(world.draw(world.plan({"public_place": {"count": count}})))


@when(parsers.parse('按需要见证人的计划锁定快照，见证人录入公开随机数"{value}"'))
def witnessed(world: InspectionWorld, ctx: dict[str, Any], value: str) -> None:
    ctx["draws"].append(world.draw(world.plan(seed_source="witnessed", witness_id=WITNESS.user_id)))
    with world.factory() as session:
        draw = session.get(Draw, ctx["draws"][-1])
        assert draw is not None
        draws.perform_draw(session, WITNESS, draw, public_value=value, now=world.now)
        session.commit()


def actor(user: str) -> Actor:
    return Actor.of(user, ["head"] if user in ("head1", "witness1") else ["officer"], [UNIT])


def _sign(world: InspectionWorld, ctx: dict[str, Any], user: str, passphrase: str) -> None:
    """The plan page's form: the same action as the task (draw_signing.sign)."""
    with world.factory() as session:
        try:
            draw_signing.sign(session, actor(user), ctx["draws"][-1], passphrase, now=world.now)
        except DirectoryError as exc:
            session.rollback()
            world.errors.append(exc)
        else:
            session.commit()


@when(parsers.parse('"{user}"用自己的口令签署抽取记录'))
def sign_own(world: InspectionWorld, ctx: dict[str, Any], user: str) -> None:
    _sign(world, ctx, user, secret(user))


@when(parsers.parse('"{user}"用错误的口令签署抽取记录'))
def sign_wrong(world: InspectionWorld, ctx: dict[str, Any], user: str) -> None:
    _sign(world, ctx, user, "not my passphrase")


def _verification(world: InspectionWorld, draw_id: str) -> signing.RecordVerification:
    with world.factory() as session:
        found = draw_record.verification(session, draw_id)
        assert found is not None, "no draw record was made"
        return found[1]


@then(parsers.parse('抽取记录有{count:d}个有效签名，签名人为"{a}"（"{role_a}"）和"{b}"（"{role_b}"）'))
def both_valid(world: InspectionWorld, ctx: dict[str, Any], count: int, a: str, role_a: str, b: str,
               role_b: str) -> None:
    verification = _verification(world, ctx["draws"][-1])
    assert verification.complete and len(verification.signatures) == count
    assert {(r.signer_user_id, r.role) for r in verification.signatures} == {(a, role_a), (b, role_b)}
    assert all(r.certificate_serial and r.signing_time for r in verification.signatures)


@then("抽取记录载明种子承诺、公开的种子、快照哈希和抽中的每一户")
def states_everything(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    draw = world.draw_row(ctx["draws"][-1])
    with world.factory() as session:
        record = draw_record.record_of(session, draw.id)
        assert record is not None
        xml = record.record_xml.decode()
    assert draw.seed and draw.seed_hash and draw.result
    for value in (draw.seed, draw.seed_hash, draw.snapshot_hash, draw.entities_hash, draw.commitment_hash,
                  draw.algorithm, *(e["credit_code"] for e in draw.result["entities"])):
        assert value in xml, value


@then(parsers.parse('抽取记录中"{user}"的签名有效，角色为"{role}"'))
def witness_valid(world: InspectionWorld, ctx: dict[str, Any], user: str, role: str) -> None:
    reports = {r.signer_user_id: r for r in _verification(world, ctx["draws"][-1]).signatures}
    assert reports[user].valid and reports[user].role == role


@when("有人把保存的抽取记录中第1户换成了名录库中未抽中的一户")
def tamper(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    draw = world.draw_row(ctx["draws"][-1])
    assert draw.result
    drawn = {e["credit_code"] for e in draw.result["entities"]}
    first = draw.result["entities"][0]["credit_code"]
    with world.factory() as session:
        other = next(c for c in ctx["codes"] if c not in drawn)
        record = draw_record.record_of(session, draw.id)
        assert record is not None
        record.record_xml = record.record_xml.replace(first.encode(), other.encode(), 1)
        session.commit()


@then("抽取记录的2个签名均无效，原因是记录在签名后被修改")
def both_invalid(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    reports = _verification(world, ctx["draws"][-1]).signatures
    assert len(reports) == 2 and all(r.reason is signing.Reason.RECORD_CHANGED for r in reports)


@when("有人试图直接修改抽取结果")
def edit(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    with world.factory() as session:
        draw = session.get(Draw, ctx["draws"][-1])
        assert draw is not None and draw.result
        draw.result = {**draw.result, "entities": draw.result["entities"][:1]}
        with pytest.raises(DrawImmutableError) as refused:
            session.commit()
        world.errors.append(DirectoryError(str(refused.value), "draw"))


@when(parsers.parse('负责人以"{reason}"为由重新抽取'))
def redraw(world: InspectionWorld, ctx: dict[str, Any], reason: str) -> None:
    with world.factory() as session:
        new = service.redraw(session, HEAD, ctx["draws"][-1], reason, now=world.now)
        session.commit()
        ctx["draws"].append(new.id)


@then(parsers.parse("原抽取记录的{count:d}个签名仍然有效"))
def old_still_valid(world: InspectionWorld, ctx: dict[str, Any], count: int) -> None:
    verification = _verification(world, ctx["draws"][-2])
    assert verification.complete and len(verification.signatures) == count


@then(parsers.parse('新抽取记录载明被替代的抽取和理由"{reason}"'))
def new_names_old(world: InspectionWorld, ctx: dict[str, Any], reason: str) -> None:
    with world.factory() as session:
        record = draw_record.record_of(session, ctx["draws"][-1])
        assert record is not None
        xml = record.record_xml.decode()
    assert ctx["draws"][-2] in xml and reason in xml and "<PreviousDrawId>" in xml


# -- signing as a step of the process ---------------------------------------------------------------

def _sign_tasks(world: InspectionWorld, draw_id: str, status: str | None = "ready") -> list[HumanTask]:
    with world.factory() as session:
        row = session.get(DrawSigning, draw_id)
        assert row is not None, "no signing step was started for the draw"
        query = select(HumanTask).where(HumanTask.instance_id == row.instance_id)
        if status:
            query = query.where(HumanTask.status == status)
        tasks = list(session.scalars(query.order_by(HumanTask.assignee)))
        for task in tasks:
            session.expunge(task)
        return tasks


def _reassignable(world: InspectionWorld, task: HumanTask) -> bool:
    with world.factory() as session:
        try:
            assign(session, task.id, HEAD, "officer3", "试图改派", now=world.now)
        except PermissionDenied as exc:
            return "cannot be passed to anyone else" not in str(exc)
        return True


@then(parsers.parse('"{a}"和"{b}"各有一项待办任务"{title}"，期限为"{day}"（调休上班日），不能改派'))
@then(parsers.parse('"{a}"和"{b}"各有一项待办任务"{title}"，期限为"{day}"，不能改派'))
def both_have_task(world: InspectionWorld, ctx: dict[str, Any], a: str, b: str, title: str, day: str) -> None:
    tasks = _sign_tasks(world, ctx["draws"][-1])
    assert sorted(t.assignee or "" for t in tasks) == sorted([a, b])
    assert all(t.title == title and t.form_key == draw_signing.SIGN_FORM for t in tasks)
    assert all(t.due_at is not None and t.due_at.astimezone(SH).date().isoformat() == day
               for t in tasks), [t.due_at for t in tasks]
    assert not _reassignable(world, tasks[0])


@then(parsers.parse("{count:d}户的检查任务已经派发"))
def inspections_started(world: InspectionWorld, ctx: dict[str, Any], count: int) -> None:
    rows = world.inspections(ctx["draws"][-1])
    assert len(rows) == count and all(r.instance_id and r.status == "assigned" for r in rows)
    for row in rows:
        assert row.instance_id and world.ready(row.instance_id, "declare")


def _submit_task(world: InspectionWorld, ctx: dict[str, Any], holder: str, user: str, passphrase: str) -> None:
    task = next(t for t in _sign_tasks(world, ctx["draws"][-1]) if t.assignee == holder)
    with world.factory() as session:
        instance, errors = service.submit_hook(session, actor(user), task, {"passphrase": passphrase})
        if errors:
            session.rollback()
            world.errors.append(DirectoryError("；".join(m for ms in errors.values() for m in ms), "passphrase"))
        else:
            assert instance is not None
            session.commit()


@when(parsers.parse('"{user}"在待办任务中用自己的口令签署抽取记录'))
def task_sign(world: InspectionWorld, ctx: dict[str, Any], user: str) -> None:
    _submit_task(world, ctx, user, user, secret(user))


@when(parsers.parse('"{user}"在待办任务中用错误的口令签署抽取记录'))
def task_sign_wrong(world: InspectionWorld, ctx: dict[str, Any], user: str) -> None:
    _submit_task(world, ctx, user, user, "not my passphrase")


@when(parsers.parse('"{user}"在待办任务中不输入口令提交'))
def task_no_passphrase(world: InspectionWorld, ctx: dict[str, Any], user: str) -> None:
    _submit_task(world, ctx, user, user, "")


@when(parsers.parse('"{user}"在"{holder}"的待办任务中用自己的口令签署抽取记录'))
def task_of_other(world: InspectionWorld, ctx: dict[str, Any], user: str, holder: str) -> None:
    _submit_task(world, ctx, holder, user, secret(user))


@then(parsers.parse('"{user}"的签署抽取记录任务已办结'))
def task_done(world: InspectionWorld, ctx: dict[str, Any], user: str) -> None:
    tasks = [t for t in _sign_tasks(world, ctx["draws"][-1], None) if t.assignee == user]
    assert [t.status for t in tasks] == ["completed"] and tasks[0].completed_by == user


@then(parsers.parse('"{user}"的签署抽取记录任务仍待办理'))
def task_open(world: InspectionWorld, ctx: dict[str, Any], user: str) -> None:
    assert [t.assignee for t in _sign_tasks(world, ctx["draws"][-1])].count(user) == 1


@then("签署抽取记录的流程已结束")
def step_finished(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    with world.factory() as session:
        row = session.get(DrawSigning, ctx["draws"][-1])
        assert row is not None
        instance = session.get(ProcessInstance, row.instance_id)
        assert instance is not None and instance.status == "completed"


def _status(world: InspectionWorld, draw_id: str) -> draw_signing.SigningStatus:
    with world.factory() as session:
        draw = session.get(Draw, draw_id)
        assert draw is not None
        return draw_signing.status(session, draw, today=world.today)


@then("抽取记录没有逾期")
def not_overdue(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    assert not _status(world, ctx["draws"][-1]).overdue


@then(parsers.parse('抽取记录逾期未签名，尚待"{user}"签名'))
def overdue(world: InspectionWorld, ctx: dict[str, Any], user: str) -> None:
    found = _status(world, ctx["draws"][-1])
    assert found.overdue and found.pending == [user]


@then(parsers.parse('"{user}"收到"{title}"的逾期提醒，"{other}"没有'))
def overdue_notice(world: InspectionWorld, ctx: dict[str, Any], user: str, title: str, other: str) -> None:
    with world.factory() as session:
        scan(session, world.now, send=lambda _message: "")
        session.commit()
        row = session.get(DrawSigning, ctx["draws"][-1])
        assert row is not None
        task_ids = select(HumanTask.id).where(HumanTask.instance_id == row.instance_id)
        notices = list(session.scalars(select(Notification).where(
            Notification.kind == "overdue", Notification.task_id.in_(task_ids))))
    assert [(n.user_id, n.title) for n in notices] == [(user, title)], [(n.user_id, n.title) for n in notices]
    assert other != user


@then("原抽取记录尚未签名的任务已撤销，原记录不标注逾期")
def old_cancelled(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    old = {t.assignee: t.status for t in _sign_tasks(world, ctx["draws"][-2], None)}
    assert old == {"officer1": "completed", "head1": "cancelled"}, old
    world.set_day("2025-09-30")
    assert not _status(world, ctx["draws"][-2]).overdue


@when(parsers.parse('周期计划由调度进程在"{when}"抽取'))
def scheduled_draw(world: InspectionWorld, ctx: dict[str, Any], when: str) -> None:
    with world.factory() as session:
        plan = plans.create_plan(session, PLANNER, title="公共场所季度双随机抽查", kind="quarterly", unit_id=UNIT,
                                 window_start=world.today, window_end=world.today + timedelta(days=120),
                                 categories={"public_place": {"count": 2}}, code="Q-SIGN")
        plans.publish_plan(session, plan.id, HEAD.user_id, world.now)
        schedule = scheduling.create_schedule(session, PLANNER, name="季度抽查", template_plan_id=plan.id,
                                              recurrence_spec="quarterly first-workday 08:00", now=world.now)
        session.commit()
    day, hm = when.split()
    report = scheduling.run_due(world.factory, now=at(day, *(int(x) for x in hm.split(":"))))
    assert any("schedule" in line for line in report), report
    with world.factory() as session:
        run = session.scalars(select(ScheduleRun).where(ScheduleRun.schedule_id == schedule.id)).one()
        assert run.draw_id and session.scalar(select(Inspection.id).where(Inspection.draw_id == run.draw_id))
        ctx["draws"].append(run.draw_id)

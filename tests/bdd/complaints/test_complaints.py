"""Steps of complaints.feature: each scenario drives real complaints on SQLite through the
complaint services and the engine (``tests.complaints.driver``); task names are the BPMN's."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from marshmallow import ValidationError
from pytest_bdd import given, parsers, scenarios, then, when
from sqlalchemy import func, select, text

from engine import PermissionDenied, instance_data
from engine.actor import SYSTEM
from engine.models import AuditEvent
from processes.complaints import (
    Attachment,
    ListFilters,
    TrackingRefused,
    complaint_for_penalty_case,
    export_csv,
    identity_for,
    list_complaints,
    pause,
    request_review,
    resume,
    staff_view,
    submit_public,
    track,
)
from processes.complaints.deadlines import CHINA_TZ
from processes.complaints.models import Complaint
from processes.penalty.models import PenaltyCase
from tests.complaints.conftest import Mailbox
from tests.complaints.driver import CITY, CITY_HEAD, CLERK, STRANGER, ComplaintWorld, at

scenarios("complaints.feature")

BPMN = Path(__file__).resolve().parents[3] / "processes" / "complaints"
KIND_NAMES = {"投诉": "complaint", "举报": "report", "信访": "petition"}


def _task_ids() -> dict[str, str]:
    ids: dict[str, str] = {}
    for path in BPMN.glob("*.bpmn"):
        for el in etree.parse(str(path)).getroot().iter("{*}userTask"):
            ids[el.get("name")] = el.get("id")
    return ids


TASKS = _task_ids()


@pytest.fixture
def ctx() -> dict[str, Any]:
    return {}


def _refused(world: ComplaintWorld, func: Any) -> None:
    try:
        func()
    except (ValidationError, PermissionDenied) as exc:
        world.errors.append(exc)


# -- time ------------------------------------------------------------------------------------------
@given(parsers.parse('今天是"{day}"'))
def today_is(world: ComplaintWorld, day: str) -> None:
    world.set_day(day)


@when(parsers.parse('时间到"{day}"'))
def time_passes(world: ComplaintWorld, day: str) -> None:
    world.fire(at(day))


# -- intake ----------------------------------------------------------------------------------------
@given(parsers.parse('公众匿名举报"{target}"'))
def anonymous_report(world: ComplaintWorld, target: str) -> None:
    world.file_public(target=target)


@given(parsers.parse('公众实名举报"{target}"，邮箱"{email}"'))
def named_report(world: ComplaintWorld, smtp_server: Mailbox, ctx: dict[str, Any], target: str, email: str) -> None:
    ctx["mailbox"], ctx["email"] = smtp_server, email
    world.file_public(target=target, identity={"name": "王举报", "email": email, "phone": "13800000000"},
                      reply_channel="email")


@given(parsers.parse('公众实名举报监督单位名录中的"{target}"，邮箱"{email}"'))
def named_report_of_entity(world: ComplaintWorld, smtp_server: Mailbox, ctx: dict[str, Any], target: str,
                           email: str) -> None:
    from processes.directory.codes import make_credit_code
    from processes.directory.models import Entity

    credit_code = make_credit_code("610302", "MA6X8K21A", "92")
    with world.factory() as session:
        session.add(Entity(credit_code=credit_code, name=target, category="medical", unit_id=CITY,
                           region_code="610302"))
        session.commit()
    ctx["mailbox"], ctx["email"] = smtp_server, email
    world.file_public(target=target, identity={"name": "王举报", "email": email, "phone": "13800000000"},
                      reply_channel="email", entity_id=credit_code)


@given(parsers.parse('投诉人投诉"{target}"'))
def a_complaint(world: ComplaintWorld, target: str) -> None:
    world.file_by_clerk(target=target)
    world.ctx_kind = "complaint"  # type: ignore[attr-defined]


def _steps(world: ComplaintWorld, kind: str | None = None) -> dict[str, dict[str, Any]]:
    chosen = kind or getattr(world, "ctx_kind", "report")
    extra = {"petition_kind": "claim"} if chosen == "petition" else {}
    return {"classify": {"kind": chosen, **extra}}


@when(parsers.parse('办理到"{task}"'))
def run_to(world: ComplaintWorld, task: str) -> None:
    world.run_to("c1", TASKS[task], _steps(world))


@when(parsers.parse('办理到"{task}"，分类为"{kind}"'))
def run_to_as(world: ComplaintWorld, task: str, kind: str) -> None:
    world.run_to("c1", TASKS[task], _steps(world, KIND_NAMES[kind]))


# -- handling ---------------------------------------------------------------------------------------
@when("承办人申请延长核查期限")
def ask_verify_extension(world: ComplaintWorld) -> None:
    world.try_submit("c1", "verify", {"request_extension": True, "extension_reason": "需要调取外地证据"})


@when("承办人申请延长办理期限")
def ask_opinion_extension(world: ComplaintWorld) -> None:
    world.try_submit("c1", "petition_opinion", {"request_extension": True, "extension_reason": "涉及多个部门"})


@when("负责人批准延长")
def approve_extension(world: ComplaintWorld) -> None:
    name = "approve_verify_extension" if world.ready("c1", "approve_verify_extension") else "approve_opinion_extension"
    world.submit("c1", name)


@when("只有一名执法人员提交核查结论")
def one_officer(world: ComplaintWorld) -> None:
    world.try_submit("c1", "verify", {"officers": ["officer.a"]})


@when("核查发现违法行为")
def violation(world: ComplaintWorld) -> None:
    world.submit("c1", "verify", {"violation_found": True, "findings": "发现无证行医"})


@when("被投诉人不同意调解")
def no_consent(world: ComplaintWorld) -> None:
    world.submit("c1", "mediation_consent", {"complainant_agrees": True, "respondent_agrees": False})


@when("调解中发现违法行为")
def mediation_violation(world: ComplaintWorld) -> None:
    world.submit("c1", "mediate", {"result": "violation_found", "record": "发现毛巾未消毒"})


@when(parsers.parse('转办给"{unit}"'))
def forward(world: ComplaintWorld, unit: str) -> None:
    world.submit("c1", "classify")
    world.submit("c1", "route", {"competence": "subordinate", "target_unit_id": unit})


@when("接收单位接收")
def receiver_accepts(world: ComplaintWorld) -> None:
    world.submit("c1", "receive", {"accepted": True})


@when(parsers.parse('接收单位提出异议"{reason}"'))
def receiver_objects(world: ComplaintWorld, reason: str) -> None:
    world.try_submit("c1", "receive", {"accepted": False, "reason": reason})


@when(parsers.parse('转办单位决定"{decision}"'))
def sender_decides(world: ComplaintWorld, decision: str) -> None:
    code = {"收回自办": "take_back", "改为转办其他单位": "reroute", "报请共同上级指定管辖": "dispute"}[decision]
    world.submit("c1", "decide_objection", {"decision": code})


@when(parsers.parse('上级指定"{unit}"承办'))
def designate(world: ComplaintWorld, unit: str) -> None:
    world.submit("c1", "designate", {"unit_id": unit})


@when(parsers.parse('因"{reason}"暂停计时'))
def do_pause(world: ComplaintWorld, reason: str) -> None:
    with world.factory() as session:
        pause(session, CITY_HEAD, world.ids["c1"], reason, "送检样品", now=world.now)
        session.commit()


@when("恢复计时")
def do_resume(world: ComplaintWorld) -> None:
    with world.factory() as session:
        resume(session, CITY_HEAD, world.ids["c1"], now=world.now)
        session.commit()


@when("负责人退回办结报告")
def return_report(world: ComplaintWorld) -> None:
    world.submit("c1", "review", {"passed": False, "reason": "事实不清"})


@when("投诉人请求复查")
def ask_review(world: ComplaintWorld) -> None:
    with world.factory() as session:
        request_review(session, world.complaint().tracking_no, world.codes["c1"], "对答复不服", now=world.now)
        session.commit()
    world.drain()


@when("办理完成")
def finish(world: ComplaintWorld) -> None:
    world.submit("c1", "recheck_answer")


@when("再次举报同一事实")
def again(world: ComplaintWorld) -> None:
    _refused(world, lambda: world.file_public("c3"))


@when("分类为不属于受理范围，应当申请行政复议")
def out_of_scope(world: ComplaintWorld) -> None:
    world.submit("c1", "classify", {"kind": "out_of_scope", "scope_channel": "reconsideration"})


@given(parsers.parse('另一公众举报"{target}"相同的事项'))
def second(world: ComplaintWorld, target: str) -> None:
    world.file_public("c2", target=target, facts="宝鸡渭滨康宁诊所无证行医，还使用过期的药品。")


@when("第二件合并到第一件")
def merge(world: ComplaintWorld) -> None:
    world.submit("c2", "classify", {"kind": "report", "merge_into": world.complaint("c1").tracking_no})


# -- bad input ---------------------------------------------------------------------------------------
SCRIPT = "<script>alert('x')</script>诊所无证行医"


@when("公众提交含脚本的举报")
def script_report(world: ComplaintWorld) -> None:
    world.file_public(facts=SCRIPT, target="<img src=x onerror=alert(1)>")


@when("公众提交超过大小的附件")
def big_attachment(world: ComplaintWorld) -> None:
    big = Attachment("photo.jpg", b"\xff\xd8\xff" + b"0" * (10 * 1024 * 1024))
    _refused(world, lambda: world.file_public("big", attachments=(big,)))


@when("公众提交伪装成图片的附件")
def disguised(world: ComplaintWorld) -> None:
    fake = Attachment("photo.png", b"MZ\x90\x00 this is an executable")
    _refused(world, lambda: world.file_public("fake", attachments=(fake,)))


# -- outcomes ---------------------------------------------------------------------------------------
@then(parsers.parse('任务"{task}"的期限是"{day}"'))
def due_is(world: ComplaintWorld, task: str, day: str) -> None:
    found = world.task("c1", TASKS[task])
    assert found.due_at is not None
    assert found.due_at.astimezone(CHINA_TZ).date().isoformat() == day


@then(parsers.parse('系统拒绝并提示"{message}"'))
def refused(world: ComplaintWorld, message: str) -> None:
    assert world.errors, "nothing was refused"
    assert message in str(world.errors[-1]), world.errors[-1]


@then(parsers.parse('待办任务包括"{task}"'))
def ready_includes(world: ComplaintWorld, task: str) -> None:
    assert TASKS[task] in world.ready_names(), world.ready_names()


@then(parsers.parse('"{unit}"的待办任务包括"{task}"'))
def unit_ready(world: ComplaintWorld, unit: str, task: str) -> None:
    tasks = world.ready("c1", TASKS[task])
    assert tasks and tasks[0].unit_id == unit, [(t.task_name, t.unit_id) for t in world.ready()]


@then(parsers.parse('承办单位为"{unit}"'))
def handling_unit(world: ComplaintWorld, unit: str) -> None:
    assert world.complaint().unit_id == unit


@then(parsers.parse('办理结果为"{outcome}"'))
def outcome_is(world: ComplaintWorld, outcome: str) -> None:
    assert world.complaint().outcome == outcome


@then(parsers.parse('类型为"{kind}"'))
def kind_is(world: ComplaintWorld, kind: str) -> None:
    assert world.complaint().kind == kind


@then(parsers.parse('状态为"{status}"'))
def status_is(world: ComplaintWorld, status: str) -> None:
    assert world.complaint().status == status


@then(parsers.parse('第二件的状态为"{status}"'))
def second_status(world: ComplaintWorld, status: str) -> None:
    second = world.complaint("c2")
    assert second.status == status and second.merged_into_id == world.ids["c1"]


@then("第二件提示与第一件疑似重复")
def flagged(world: ComplaintWorld) -> None:
    assert world.complaint("c2").duplicate_of == [world.complaint("c1").tracking_no]


@then(parsers.parse('督办记录为"{kinds}"'))
def urgings_are(world: ComplaintWorld, kinds: str) -> None:
    assert [u.kind for u in world.urgings()] == kinds.split(",")


@then(parsers.parse('最后一条督办记录发给"{unit}"'))
def last_urging_unit(world: ComplaintWorld, unit: str) -> None:
    assert world.urgings()[-1].unit_id == unit


@then(parsers.parse('暂停的工作日为"{days:d}"'))
def paused_days(world: ComplaintWorld, days: int) -> None:
    assert world.complaint().paused_workdays == days


@then(parsers.parse('被举报单位的风险台账新增一条"{level}"风险，来源为投诉举报'))
def risk_entry_opened(world: ComplaintWorld, level: str) -> None:
    from processes.inspections.models import RiskEntry

    complaint = world.complaint()
    assert complaint.entity_id
    with world.factory() as session:
        entries = list(session.scalars(select(RiskEntry).where(RiskEntry.credit_code == complaint.entity_id)))
    assert [(e.source, e.level, e.source_ref) for e in entries] == [
        ("complaint", {"常态": "normal", "高风险": "high"}[level], complaint.tracking_no)]


@then("已登记行政处罚案源并与投诉举报相互关联")
def penalty_linked(world: ComplaintWorld) -> None:
    complaint = world.complaint()
    assert complaint.penalty_case_id
    with world.factory() as session:
        case = session.get(PenaltyCase, complaint.penalty_case_id)
        assert case is not None and case.source == "complaint"
        data = instance_data(session, case.instance_id, SYSTEM)
        assert data["prefill"]["complaint_no"] == complaint.tracking_no
        # the filing period counts from the verification that found the violation (issue 14 item 13)
        assert case.discovered_on == world.today and data["prefill"]["discovered_on"] == world.today.isoformat()
        back = complaint_for_penalty_case(session, case.id)
        assert back is not None and back.id == complaint.id


@then(parsers.parse('举报人的邮箱收到"{subject}"'))
def mail_received(ctx: dict[str, Any], subject: str) -> None:
    from email import message_from_bytes
    from email.header import decode_header, make_header

    subjects = [str(make_header(decode_header(message_from_bytes(raw)["Subject"])))
                for _f, to, raw in ctx["mailbox"].messages if to == [ctx["email"]]]
    assert any(subject in s for s in subjects), subjects


@then("没有任何送达记录")
def no_deliveries(world: ComplaintWorld) -> None:
    assert world.deliveries() == []


@then(parsers.parse('凭登记编号和查询码可以看到答复"{part}"'))
def tracked_reply(world: ComplaintWorld, part: str) -> None:
    with world.factory() as session:
        view = track(session, world.complaint().tracking_no, world.codes["c1"])
    assert view.reply and part in view.reply


@then(parsers.parse('公开进度包括"{part}"'))
def public_timeline(world: ComplaintWorld, part: str) -> None:
    with world.factory() as session:
        view = track(session, world.complaint().tracking_no, world.codes["c1"])
    assert any(part in line["text"] for line in view.timeline), view.timeline


@then("查询码错误和编号不存在的答复相同")
def same_refusal(world: ComplaintWorld) -> None:
    answers = []
    with world.factory() as session:
        for number, code in ((world.complaint().tracking_no, "WRONGCODE234"), ("TS20250901999999", "WRONGCODE234"),
                             ("", "")):
            with pytest.raises(TrackingRefused) as caught:
                track(session, number, code)
            answers.append(str(caught.value))
    assert len(set(answers)) == 1


@then("其他执法人员查看时只看到保密信息，拒绝查看身份也记入审计")
def stranger_sees_redacted(world: ComplaintWorld) -> None:
    with world.factory() as session:
        view = staff_view(session, STRANGER, world.ids["c1"], now=world.now)
        assert "王举报" not in str(view) and "wang@example.com" not in str(view)
        with pytest.raises(PermissionDenied):
            identity_for(session, STRANGER, session.get(Complaint, world.ids["c1"]), "test")
        session.commit()
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "complaint_identity_refused", AuditEvent.actor == STRANGER.user_id)) == 1


@then("受理人员可以看到举报人身份，查看记入审计")
def clerk_sees(world: ComplaintWorld) -> None:
    with world.factory() as session:
        view = staff_view(session, CLERK, world.ids["c1"], now=world.now)
        session.commit()
        assert view["complainant"]["name"] == "王举报"
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "complaint_identity_viewed", AuditEvent.actor == CLERK.user_id)) == 1


@then("数据库中没有举报人姓名的明文")
def no_clear_text(world: ComplaintWorld) -> None:
    with world.factory() as session:
        for table in ("complaint", "complaint_event", "process_instance", "human_task", "audit_event"):
            dump = " ".join(str(r) for r in session.execute(text(f"SELECT * FROM {table}")))
            assert "王举报" not in dump and "13800000000" not in dump, table


@then("列表和导出中没有举报人身份")
def list_redacted(world: ComplaintWorld) -> None:
    with world.factory() as session:
        rows, total = list_complaints(session, CLERK, ListFilters())
        csv = export_csv(session, CLERK, ListFilters()).decode("utf-8-sig")
    assert total == 1 and "王举报" not in str(rows) and "wang@example.com" not in csv


@then("脚本作为文字保存，查询页面不包含它")
def inert(world: ComplaintWorld) -> None:
    complaint = world.complaint()
    assert complaint.facts == SCRIPT
    with world.factory() as session:
        view = track(session, complaint.tracking_no, world.codes["c1"])
    assert "<script>" not in str(view) and "onerror" not in str(view)


@then("只保存了一件投诉举报")
def one_stored(world: ComplaintWorld) -> None:
    with world.factory() as session:
        assert session.scalar(select(func.count()).select_from(Complaint)) == 1


def test_the_feature_has_at_least_twenty_scenarios() -> None:
    source = (Path(__file__).parent / "complaints.feature").read_text(encoding="utf-8")
    assert source.count("场景:") >= 20
    assert os.path.exists(BPMN / "rules.toml")
    assert CITY == "610300" and submit_public is not None

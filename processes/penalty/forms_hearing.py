"""What the hearing record (听证笔录) must hold beyond what was said: the party's agents and the
party's signature or the noted refusal to sign.

Why a module of its own: 行政处罚法 Art. 64(5) lets the party bring one or two agents
(委托代理人), each with a written authorisation, and Art. 64(8) requires the record to be read or
handed to the party and signed, or the refusal to sign noted in it. A record of a hearing the party
attended is refused unless it carries one of the two, so the file can show the party saw it. The
agents are two fixed slots (name and authorisation reference) because they are outsiders, not staff
picked from the directory, and the law allows at most two.

The same form says how the sitting ended (``hearing_outcome``): held; not attended without a reason
(a waiver, Art. 64(6)); not attended with a good reason (正当理由), which the chair records with a new
date noticed as Art. 64(2) asks, so the hearing comes back; or terminated (终止听证), only with a
recorded reason (the party withdrew the request, or left without permission, Art. 64(6)).
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import Schema, ValidationError, validates_schema

from .formfields import choice, day, flag, text

CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
AGENT_SLOTS = (1, 2)  # 行政处罚法第六十四条第五项：可以委托一至二人代理
TERMINATION_REASONS = {
    "withdrawn": "当事人撤回听证申请",
    "left": "当事人或者其代理人未经许可中途退出听证（第六十四条第六项，视为放弃听证权利）",
    "other": "其他依法终止听证的情形",
}
# 行政处罚法第六十四条第三项：除涉及国家秘密、商业秘密或者个人隐私依法予以保密外，听证公开举行
PRIVATE_HEARING_GROUNDS = {
    "state_secret": "涉及国家秘密",
    "trade_secret": "涉及商业秘密",
    "privacy": "涉及个人隐私",
}


class HearingScheduleFields(Schema):
    """Mixed into the hearing schedule form: a hearing is public unless the law's ground for
    holding it in private is recorded (行政处罚法 Art. 64(3))."""

    public = flag("公开举行", default=True)
    private_ground = choice("不公开举行的理由（行政处罚法第六十四条第三项）", PRIVATE_HEARING_GROUNDS, required=False)

    @validates_schema
    def _private_ground(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("public", True):
            if data.get("private_ground"):
                raise ValidationError({"public": ["记录了不公开举行的理由的，请取消勾选“公开举行”"]})
            return
        if not data.get("private_ground"):
            raise ValidationError({"private_ground": [
                "听证不公开举行的，须选择依法不公开的理由：涉及国家秘密、商业秘密或者个人隐私"
                "（行政处罚法第六十四条第三项）"]})


class HearingRecordFields(Schema):
    """Mixed into the hearing record form (Art. 64(5) agents; Art. 64(8) signature)."""

    agent1_name = text("委托代理人一", required=False, max_length=100)
    agent1_authorisation = text("委托代理人一的授权委托书（编号或者文件名）", required=False, max_length=200)
    agent2_name = text("委托代理人二", required=False, max_length=100)
    agent2_authorisation = text("委托代理人二的授权委托书（编号或者文件名）", required=False, max_length=200)
    signed_by = text("在听证笔录上签名的当事人或者代理人", required=False, max_length=100)
    refused_to_sign = flag("当事人或者代理人拒绝签名")
    refusal_noted_by = text("注明拒绝签名的人员", required=False, max_length=100)
    refusal_noted_at = text("注明时间（时:分）", required=False, max_length=5)
    absence_reason = text("当事人未出席的正当理由（有正当理由的，另定听证日期）", required=False, long=True)
    new_hearing_date = day("另定的听证日期", required=False)
    new_notice_sent_on = day("另定听证日期的通知送达日期", required=False, past=True)
    terminated = flag("终止听证")
    termination_reason = choice("终止听证的理由", TERMINATION_REASONS, required=False)
    termination_note = text("终止听证的情况说明", required=False, long=True)

    @validates_schema
    def _ending(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("terminated"):
            if not data.get("termination_reason"):
                raise ValidationError({"termination_reason": ["终止听证须记录理由（例如当事人撤回听证申请、"
                                                              "未经许可中途退出听证）"]})
            if data["termination_reason"] == "other" and not (data.get("termination_note") or "").strip():
                raise ValidationError({"termination_note": ["以其他情形终止听证的，请写明具体情况"]})
            if (data.get("absence_reason") or "").strip():
                raise ValidationError({"absence_reason": ["终止听证的，不能同时另定听证日期"]})
            return
        if data.get("termination_reason"):
            raise ValidationError({"terminated": ["记录了终止听证的理由的，请勾选“终止听证”"]})
        if data.get("attended") or not (data.get("absence_reason") or "").strip():
            return
        if not data.get("new_hearing_date") or not data.get("new_notice_sent_on"):
            raise ValidationError({"new_hearing_date": [
                "当事人有正当理由未出席的，请填写另定的听证日期和通知送达日期"]})

    @validates_schema
    def _agents_and_signature(self, data: dict[str, Any], **_kwargs: Any) -> None:
        for slot in AGENT_SLOTS:
            name = (data.get(f"agent{slot}_name") or "").strip()
            authorisation = (data.get(f"agent{slot}_authorisation") or "").strip()
            if name and not authorisation:
                raise ValidationError({f"agent{slot}_authorisation": [
                    f"委托代理人{name}参加听证的，须提交授权委托书，请填写委托书编号或者文件名"]})
            if authorisation and not name:
                raise ValidationError({f"agent{slot}_name": ["填写了授权委托书的，请填写委托代理人姓名"]})
        if not data.get("attended") or data.get("terminated"):
            return  # nobody to sign a sitting that did not take place or that the party left
        signed = (data.get("signed_by") or "").strip()
        refused = data.get("refused_to_sign")
        if signed and refused:
            raise ValidationError({"refused_to_sign": ["已有签名的，不能同时注明拒绝签名"]})
        if not signed and not refused:
            raise ValidationError({"signed_by": [
                "听证笔录须由当事人或者其代理人核对无误后签字或者盖章；拒绝签字或者盖章的，"
                "由听证主持人在笔录中注明（行政处罚法第六十四条第八项）"]})
        if refused and not (data.get("refusal_noted_by") or "").strip():
            raise ValidationError({"refusal_noted_by": ["当事人或者代理人拒绝签名的，请填写注明拒签的人员"]})
        if refused and not CLOCK.match(data.get("refusal_noted_at") or ""):
            raise ValidationError({"refusal_noted_at": ["请按“时:分”填写注明拒绝签名的时间"]})


def hearing_agents(record: dict[str, Any]) -> list[dict[str, str]]:
    """The agents named in a hearing record, in slot order (for the document and the case page)."""
    agents = []
    for slot in AGENT_SLOTS:
        name = (record.get(f"agent{slot}_name") or "").strip()
        if name:
            agents.append({"name": name, "authorisation": (record.get(f"agent{slot}_authorisation") or "").strip()})
    return agents


def hearing_outcome(record: dict[str, Any]) -> str:
    """held, waived (absent without reason), rescheduled (absent with a good reason) or terminated:
    the BPMN's gateway after 举行听证 branches on it."""
    if record.get("terminated"):
        return "terminated"
    if record.get("attended"):
        return "held"
    return "rescheduled" if (record.get("absence_reason") or "").strip() else "waived"

"""What the hearing record (听证笔录) must hold beyond what was said: the party's agents and the
party's signature or the noted refusal to sign.

Why a module of its own: 行政处罚法 Art. 64(5) lets the party bring one or two agents
(委托代理人), each with a written authorisation, and Art. 64(8) requires the record to be read or
handed to the party and signed, or the refusal to sign noted in it. A record of a hearing the party
attended is refused unless it carries one of the two, so the file can show the party saw it. The
agents are two fixed slots (name and authorisation reference) because they are outsiders, not staff
picked from the directory, and the law allows at most two.
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import Schema, ValidationError, validates_schema

from .formfields import flag, text

CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
AGENT_SLOTS = (1, 2)  # 行政处罚法第六十四条第五项：可以委托一至二人代理


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
        if not data.get("attended"):
            return
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

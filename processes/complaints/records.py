"""Small shared pieces: loading a complaint, writing its timeline, unit names, choice labels.

Why one module: operators, services and checks all write timeline lines; the public text of
each line is fixed here (no staff names, no identity), so the tracking page cannot leak more
than these sentences.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import utcnow
from engine.errors import NotFound

from .models import Complaint, ComplaintEvent

CHANNELS = {"portal": "网上投诉平台", "hotline_12345": "12345热线工单", "hotline_12320": "12320卫生热线",
            "phone": "电话", "letter": "来信", "visit": "来访", "assigned": "上级交办", "transferred": "部门移送"}
KINDS = {"complaint": "投诉", "report": "举报", "petition": "信访", "out_of_scope": "不属于受理范围"}
PETITION_KINDS = {"claim": "申诉求决", "suggestion": "建议意见", "accusation": "检举控告"}
OTHER_CHANNELS = {"reconsideration": "行政复议", "litigation": "行政诉讼", "disclosure": "政府信息公开申请",
                  "other_department": "其他有权部门"}
REFUSAL_GROUNDS = {
    "not_competent": "不属于本部门职责范围",
    "no_facts": "没有明确的被投诉人、具体事实或者请求",
    "being_handled": "已经或者依法应当通过诉讼、仲裁、行政复议等途径解决",
    "already_handled": "同一事项已经受理或者处理完毕，且没有新的事实和理由",
    "final_review": "已经复核终结，以同一事实和理由再次提出",
    "other_law": "法律、法规规定的其他不予受理情形",
}
STATUSES = {"registered": "已登记", "forwarding": "转办中", "forwarded": "已转办", "accepting": "待受理",
            "accepted": "办理中", "paused": "暂停计时", "reviewing": "结果审查", "replied": "已答复",
            "rechecking": "复查复核中", "closed": "已办结", "refused": "不予受理", "transferred": "已移送",
            "merged": "已合并办理", "out_of_scope": "不属于受理范围", "told": "已告知其他途径"}
# Public sentences of the tracking page, one per timeline kind; never staff names or identities.
PUBLIC_TEXT = {
    "registered": "已收到您的{what}，登记编号{tracking_no}。",
    "forwarded": "已转交有管辖权的下级单位办理。",
    "taken_over": "承办单位已接收。",
    "transferred": "已移送其他有权部门处理：{department}。",
    "accepted": "已受理，正在办理。",
    "refused": "不予受理：{ground}。",
    "out_of_scope": "该事项不属于本机关受理范围，请通过{channel}途径提出。",
    "told": "该事项请向有权部门提出：{department}。",
    "merged": "与已登记的相同事项合并办理。",
    "paused": "办理期间因{reason}暂停计时。",
    "resumed": "恢复计时。",
    "extended": "办理期限经批准延长。",
    "penalty_lead": "已依法登记为行政处罚案源。",
    "replied": "已作出书面答复。",
    "review_requested": "已收到您的{level}请求。",
    "rechecked": "已作出{level}意见。",
    "archived": "已办结归档。",
}


def get_complaint(session: Session, complaint_id: str, *, lock: bool = False) -> Complaint:
    complaint = session.get(Complaint, complaint_id, with_for_update=lock)
    if complaint is None:
        raise NotFound(f"no complaint {complaint_id}")
    return complaint


def by_tracking_no(session: Session, tracking_no: str) -> Complaint | None:
    return session.scalar(select(Complaint).where(Complaint.tracking_no == tracking_no))


def log(session: Session, complaint: Complaint, kind: str, *, actor: str = "system", public: bool = True,
        values: dict[str, Any] | None = None, data: dict[str, Any] | None = None,
        now: datetime | None = None) -> ComplaintEvent:
    """One timeline line; ``public`` lines carry the fixed sentence of ``kind`` filled with ``values``."""
    text = PUBLIC_TEXT.get(kind, "").format(**(values or {})) if public else ""
    event = ComplaintEvent(complaint_id=complaint.id, at=now or utcnow(), kind=kind, public=public and bool(text),
                           public_text=text, actor=actor, data=dict(data or {}))
    session.add(event)
    complaint.updated_at = now or utcnow()
    return event


def unit_info(session: Session, unit_id: str) -> tuple[str, str, str | None]:
    """(name, short name, parent id) of a directory unit; the id itself when it is not in the directory."""
    from processes.directory.models import Unit

    unit = session.get(Unit, unit_id)
    if unit is None:
        return unit_id, unit_id[:2], None
    return unit.name, unit.short_name, unit.parent_id

"""Forms of the endings other than a penalty decision: no penalty (不予行政处罚, Art. 33) with its
service and the follow-up check of the correction order (责令改正, Art. 28); transfer (移送) and
withdrawal of filing / termination of the investigation (撤销立案 / 终止调查).

Kept beside ``forms`` (which registers them): same field helpers, same conventions.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, validates_schema

from .formfields import choice, day, flag, text
from .forms_hearing import CLOCK

NO_PENALTY_GROUNDS = {
    "minor_corrected": "违法行为轻微并及时改正，没有造成危害后果（第三十三条第一款）",
    "first_minor": "初次违法且危害后果轻微并及时改正（第三十三条第一款）",
    "no_fault": "当事人有证据足以证明没有主观过错（第三十三条第二款）",
    "other_statute": "法律、行政法规规定不予行政处罚的其他情形",
}
"""The Art. 33 grounds a 不予行政处罚决定书 names (one is chosen)."""


CLOSING_REASONS = {"executed": "执行完毕", "enforcement": "已申请法院强制执行", "no_penalty": "不予行政处罚",
                   "revoked": "决定被撤销", "other": "其他"}
ENDING_KINDS = {"police": "移送公安机关", "agency": "移送有管辖权的行政机关", "withdraw": "撤销立案",
                "terminate": "终止调查"}
"""Endings requested during the investigation (``service.request_ending``), each decided by the head."""
TRANSFER_KINDS = ("police", "agency")


class ClosingReportForm(Schema):
    reason = choice("结案理由", CLOSING_REASONS)
    summary = text("执行情况及结案意见", long=True)


class ExtensionApprovalForm(Schema):
    approved = flag("批准延长")
    collective_discussed = flag("经负责人集体讨论决定")
    reason = text("延长理由/不批准理由", long=True)


def _required(data: dict[str, Any], condition: bool, field: str, message: str) -> None:
    if condition and not (data.get(field) or "").strip():
        raise ValidationError({field: [message]})


class NoPenaltyDecisionForm(Schema):
    """不予行政处罚决定书: the Art. 33 ground, the education given, an optional correction order."""

    decided_on = day("决定日期", past=True)
    ground = choice("不予处罚的理由（第三十三条）", NO_PENALTY_GROUNDS)
    facts = text("违法事实和证据", long=True)
    legal_basis = text("不予处罚的依据", long=True)
    education = text("对当事人进行教育的情况", required=False, long=True)
    correction_ordered = flag("责令改正")
    correction_content = text("责令改正的内容", required=False, long=True)
    correction_deadline = day("改正期限", required=False)
    overdue_reason = text("逾期作出决定的原因", required=False, long=True)
    reconsideration_body = text("行政复议机关", max_length=200)
    court = text("人民法院", max_length=200)

    @validates_schema
    def _rules(self, data: dict[str, Any], **_kwargs: Any) -> None:
        _required(data, True, "education", "不予行政处罚的，应当对当事人进行教育（第三十三条第三款），请记录教育情况")
        if data.get("correction_ordered"):
            _required(data, True, "correction_content", "请写明责令改正的内容")
            if not data.get("correction_deadline"):
                raise ValidationError({"correction_deadline": ["责令改正的，须写明改正期限（第二十八条）"]})
            if data.get("decided_on") and data["correction_deadline"] < data["decided_on"]:
                raise ValidationError({"correction_deadline": ["改正期限不能早于决定日期"]})


class CorrectionCheckForm(Schema):
    """整改复查: whether the party corrected by the deadline."""

    checked_on = day("复查日期", past=True)
    corrected = flag("已按期改正")
    findings = text("复查情况", long=True)


class EndingApprovalForm(Schema):
    """The head's decision on a transfer, withdrawal or termination request, with reasons either way."""

    approved = flag("批准")
    opinion = text("审批意见（理由）", long=True)


class TransferLetterForm(Schema):
    """移送书: to whom, what, on which basis, with which materials."""

    receiver = text("接收机关", max_length=200)
    facts = text("涉嫌违法犯罪的事实", long=True)
    basis = text("移送依据", long=True)
    materials = text("移送材料清单", long=True)


class TransferReceiptForm(Schema):
    """移送回执登记: when the case was handed over (day and time: 国务院令第310号第八条 counts 24 hours
    from the chief head's approval), who at the receiving authority took it and the receipt number.
    A hand-over later than the rules' ``transfer_hours`` is still recorded (以罚代刑 is forbidden, so a
    late transfer must still happen) with the reason, and reported to the heads."""

    handed_over_on = day("移送日期", past=True)
    handed_over_time = text("移送时间（时:分；在批准当日移送的可不填）", required=False, max_length=5)
    received_by = text("接收机关的接收人", required=False, max_length=100)
    receipt_no = text("回执编号", required=False, max_length=100)
    overdue_reason = text("逾期移送的原因", required=False, long=True)

    @validates_schema
    def _receipt(self, data: dict[str, Any], **_kwargs: Any) -> None:
        clock = (data.get("handed_over_time") or "").strip()
        if clock and not CLOCK.match(clock):
            raise ValidationError({"handed_over_time": ["请按“时:分”填写移送时间，例如 09:30"]})


ENDINGS: dict[str, tuple[type[Schema] | None, str, str]] = {
    "penalty.no_penalty_decision": (NoPenaltyDecisionForm, "no_penalty_decision", "不予行政处罚决定书"),
    "penalty.no_penalty_service": (None, "service", "送达不予行政处罚决定书"),
    "penalty.correction_check": (CorrectionCheckForm, "correction_check", "整改复查"),
    "penalty.ending_approval": (EndingApprovalForm, "ending_approval", "移送/撤销立案/终止调查审批"),
    "penalty.transfer_letter": (TransferLetterForm, "transfer_letter", "移送书"),
    "penalty.transfer_receipt": (TransferReceiptForm, "transfer_receipt", "移送回执登记"),
}
"""form key -> (schema, task-data key, title); ``forms`` adds them to ``FORMS``/``DATA_KEYS``/``FORM_TITLES``."""

"""What the summary procedure's record (当场处罚决定书) must hold beyond the decision itself, and the
on-the-spot collection of the fine.

Why a module of its own: the summary procedure is decided in one sitting with no later file to
complete, so the record is refused unless it already carries what 行政处罚法 Art. 52 asks for: the
time and place of the violation, and the party's signature or, when the party refused to sign, the
note of that refusal (who noted it, when). The limitation fields are the lead form's (Art. 36).
On-the-spot collection (当场收缴, Arts. 68-71) is recorded with the payment: its ground, the number of
the financial department's receipt (Art. 70) and when the officer handed the money to the agency
(Art. 71); the limits against the fine are checked with the case (``checks_summary``).
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import Schema, ValidationError, validates_schema

from .formfields import amount, choice, day, flag, text

CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
ON_SPOT_GROUNDS = {
    "small_fine": "依法给予一百元以下罚款（第六十八条第一项）",
    "hard_to_collect": "不当场收缴事后难以执行（第六十八条第二项）",
    "remote_area": "边远、水上、交通不便地区，当事人缴纳确有困难并提出（第六十九条）",
}


class SummaryRecordFields(Schema):
    """Mixed into the summary decision form (Art. 52 record; Art. 36 limitation)."""

    violation_place = text("违法行为发生地点", max_length=500)
    violation_time = text("违法行为发生时间（时:分）", max_length=5)
    violation_ended_on = day("违法行为终了日期（连续或者继续状态）", required=False)
    public_health_harm = flag("涉及公民生命健康安全且有危害后果")
    party_signed = flag("当事人已签名")
    refused_to_sign = flag("当事人拒绝签名")
    refusal_noted_by = text("注明拒绝签名的执法人员", required=False, max_length=100)
    refusal_noted_at = text("注明时间（时:分）", required=False, max_length=5)

    @validates_schema
    def _summary_record(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not CLOCK.match(data.get("violation_time") or ""):
            raise ValidationError({"violation_time": ["请按“时:分”填写违法行为发生时间，例如09:30"]})
        ended = data.get("violation_ended_on")
        if ended and data.get("violation_date") and ended < data["violation_date"]:
            raise ValidationError({"violation_ended_on": ["终了日期不能早于发生日期"]})
        signed, refused = data.get("party_signed"), data.get("refused_to_sign")
        if signed and refused:
            raise ValidationError({"refused_to_sign": ["当事人已签名的，不能同时注明拒绝签名"]})
        if not signed and not refused:
            raise ValidationError({"party_signed": ["当场处罚决定书须由当事人签名；当事人拒绝签名的，"
                                                    "应当由执法人员在决定书上注明（行政处罚法第五十二条）"]})
        if refused and not (data.get("refusal_noted_by") or "").strip():
            raise ValidationError({"refusal_noted_by": ["当事人拒绝签名的，请填写注明拒签的执法人员"]})
        if refused and not CLOCK.match(data.get("refusal_noted_at") or ""):
            raise ValidationError({"refusal_noted_at": ["请按“时:分”填写注明拒绝签名的时间"]})


SUMMARY_EXECUTION_KINDS = {"payment": "缴纳罚款", "reconsideration": "申请行政复议", "litigation": "提起行政诉讼"}


class SummaryPaymentForm(Schema):
    """The fine paid at the bank, or collected by the officers on the spot (Arts. 68-71); or the party
    applied for reconsideration or sued, which stops the surcharge and moves the remedy windows the
    court application waits for (行政诉讼法 Art. 45), as in the ordinary procedure."""

    kind = choice("事项", SUMMARY_EXECUTION_KINDS, required=False)
    paid_on = day("日期（缴款，或者申请复议、起诉）", past=True)
    amount = amount("缴款金额")
    on_spot = flag("执法人员当场收缴")
    on_spot_ground = choice("当场收缴的情形", ON_SPOT_GROUNDS, required=False)
    receipt_number = text("专用票据号码（财政部门统一制发）", required=False, max_length=100)
    handed_in_on = day("交至行政机关日期", required=False, past=True)
    late_reason = text("逾期交至行政机关的原因", required=False, long=True)
    note = text("说明", required=False, long=True)

    @validates_schema
    def _on_spot(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if (data.get("kind") or "payment") == "payment" and not data.get("amount"):
            raise ValidationError({"amount": ["请填写缴款金额"]})
        if (data.get("kind") or "payment") != "payment" and (data.get("on_spot") or data.get("amount")):
            raise ValidationError({"kind": ["申请复议或者起诉的，不填写缴款金额和当场收缴"]})
        if not data.get("on_spot"):
            return
        if not data.get("on_spot_ground"):
            raise ValidationError({"on_spot_ground": ["当场收缴罚款须属于行政处罚法第六十八条、第六十九条规定的情形"]})
        if not (data.get("receipt_number") or "").strip():
            raise ValidationError({"receipt_number": ["当场收缴罚款必须出具财政部门统一制发的专用票据，"
                                                      "请填写票据号码（行政处罚法第七十条）"]})
        if not data.get("handed_in_on"):
            raise ValidationError({"handed_in_on": ["请填写当场收缴的罚款交至行政机关的日期（行政处罚法第七十一条）"]})

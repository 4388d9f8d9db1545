"""Task forms of the inspection processes, registered with ``forms.register_form``.

Why the schemas are plain: what needs the case (the drawn pair, the item's checklist, the
correction limit in the plan's rules) is checked in ``service.submit_task`` after the schema,
so the API and the HTML page refuse the same things with the same Chinese messages.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, pre_load, validates_schema

from forms.fields import DateField, Select, Text, TextArea
from forms.registry import FormSchema, register_form
from processes.penalty.formfields import evidence_files

OUTCOMES = [("compliant", "合格"), ("correction", "责令改正"), ("violation", "涉嫌违法，移送立案"),
            ("not_found", "查无此户或者已关闭")]
OUTCOME_NAMES = dict(OUTCOMES)
APPROVAL = [(True, "批准"), (False, "退回修改")]
YES_NO = [(True, "是"), (False, "否")]


@register_form("inspections.approve_plan", title="审批抽查计划")
class ApprovePlanForm(FormSchema):
    """The head approves the plan (published at once) or returns it with reasons."""

    approved = Select("审批意见", APPROVAL, required=True)
    opinion = TextArea("意见", required=False, max_length=2000)

    @validates_schema
    def _reasons(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("approved") is False and not data.get("opinion"):
            raise ValidationError({"opinion": ["退回修改的，请写明理由"]})


@register_form("inspections.revise_plan", title="修改抽查计划")
class RevisePlanForm(FormSchema):
    changes = TextArea("修改说明", required=True, max_length=2000)


@register_form("inspections.witness_seed", title="见证人录入公开随机数")
class WitnessSeedForm(FormSchema):
    public_value = Text("公开随机数", required=True, max_length=200,
                        help="在锁定名录快照之后才产生的公开数值，例如某期彩票开奖号码")
    source = Text("公开随机数来源", required=True, max_length=200)


@register_form("inspections.declare", title="声明无利益冲突")
class DeclareForm(FormSchema):
    conflict = Select("与检查对象是否有利害关系", [(False, "没有利害关系"), (True, "有利害关系，申请回避")],
                      required=True)
    statement = TextArea("说明", required=False, max_length=1000)

    @validates_schema
    def _statement(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("conflict") and not data.get("statement"):
            raise ValidationError({"statement": ["申请回避的，请说明利害关系"]})


@register_form("inspections.onsite", title="现场检查")
class OnsiteForm(FormSchema):
    checked_on = DateField("检查日期", required=True, not_future=True)
    nonconforming = TextArea("不符合的检查内容（每行一项，照抄检查内容）", required=False, max_length=4000)
    findings = TextArea("检查情况", required=True, max_length=5000)
    outcome = Select("检查结果", OUTCOMES, required=True)
    correction_due = DateField("整改期限", required=False)
    representative = Select("被检查单位负责人", [("signed", "签字确认"), ("refused", "拒绝签字")], required=True)
    refusal_note = Text("拒签情况说明", required=False, max_length=500)
    # Several files (photos, videos, PDFs), each by its SHA-256, stored and checked for size and
    # type on upload exactly like a penalty case's evidence (the same ``files`` widget and reader).
    evidence = evidence_files("现场照片、视频或者记录")

    @pre_load
    def _older_clients(self, data: Any, **_kwargs: Any) -> Any:
        """What older API clients send, still accepted.

        ``co_inspector_present``: the lead's yes/no answer that the second officer was there. The
        proof is now the second officer's own confirmation (task ``confirm_onsite``), so the answer
        is not kept; a "no" is still refused, since it states that one officer inspected alone.
        ``evidence`` as one ``{"sha256", "filename"}`` (the single-file form): kept as a list of one."""
        if not isinstance(data, dict):
            return data
        if "co_inspector_present" in data:
            present = data["co_inspector_present"]
            if present is False or str(present).strip().lower() in ("false", "0", "no", "否"):
                raise ValidationError({"co_inspector_present": ["检查人员不得少于两人（行政处罚法第四十二条）"]})
            data = {k: v for k, v in data.items() if k != "co_inspector_present"}
        if isinstance(data.get("evidence"), dict):
            one = data["evidence"]
            name = one.get("file_name") or one.get("filename") or ""
            data = {**data, "evidence": [{"title": one.get("title") or name, "file_name": name,
                                          "sha256": str(one.get("sha256") or "").strip().lower()}]}
        return data

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("outcome") == "correction" and not data.get("correction_due"):
            raise ValidationError({"correction_due": ["责令改正的，请填写整改期限"]})
        if data.get("outcome") == "compliant" and (data.get("nonconforming") or "").strip():
            raise ValidationError({"outcome": ["存在不符合项的，检查结果不能为合格"]})
        if data.get("representative") == "refused" and not data.get("refusal_note"):
            raise ValidationError({"refusal_note": ["拒绝签字的，请注明情况"]})


@register_form("inspections.confirm_onsite", title="检查人员确认现场检查记录")
class ConfirmOnsiteForm(FormSchema):
    """The second officer's own confirmation of the lead's record (行政处罚法 Art. 42: two officers).

    Why a task of its own rather than the lead's ``co_inspector_present`` answer: only the second
    officer can attest that they were there and that the record is right; who and when are stated
    by the server (``service.submit_task``), a dispute needs its reason and returns the record."""

    confirmed = Select("核对意见", [(True, "确认"), (False, "有异议")], required=True)
    reason = TextArea("异议理由", required=False, max_length=2000,
                      help="有异议的，写明记录中哪些内容与现场不符；记录退回主检人员修改后再次确认")

    @validates_schema
    def _reason(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("confirmed") is False and not (data.get("reason") or "").strip():
            raise ValidationError({"reason": ["有异议的，请写明理由"]})


@register_form("inspections.review", title="负责人审核检查结果")
class ReviewForm(FormSchema):
    approved = Select("审核意见", [(True, "同意"), (False, "退回重新检查")], required=True)
    opinion = TextArea("意见", required=False, max_length=2000)

    @validates_schema
    def _reasons(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("approved") is False and not data.get("opinion"):
            raise ValidationError({"opinion": ["退回的，请写明理由"]})


@register_form("inspections.reinspect", title="复查整改情况")
class ReinspectForm(FormSchema):
    reinspected_on = DateField("复查日期", required=True, not_future=True)
    corrected = Select("是否整改到位", YES_NO, required=True)
    findings = TextArea("复查情况", required=True, max_length=5000)


@register_form("inspections.disclose", title="公示检查结果")
class DiscloseForm(FormSchema):
    """The explicit disclosure step: the head checks what the public will read, then publishes it."""

    content_checked = Select("公示内容已核对（不含检查人员、内部意见和个人信息）", YES_NO, required=True)
    note = TextArea("备注（内部）", required=False, max_length=2000)

    @validates_schema
    def _checked(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("content_checked") is not True:
            raise ValidationError({"content_checked": ["请先核对公示内容，确认不含检查人员、内部意见和个人信息"]})


@register_form("inspections.sign_draw", title="签署抽取记录")
class SignDrawForm(FormSchema):
    """The signer's own passphrase unlocks their key for this one request; it is never stored."""

    passphrase = fields.String(required=True, load_only=True, error_messages={"required": "请输入签名口令"},
                               metadata={"label": "签名口令", "widget": "password"})


FORMS: dict[str, type[Schema]] = {
    "inspections.approve_plan": ApprovePlanForm, "inspections.revise_plan": RevisePlanForm,
    "inspections.witness_seed": WitnessSeedForm, "inspections.declare": DeclareForm,
    "inspections.onsite": OnsiteForm, "inspections.confirm_onsite": ConfirmOnsiteForm, "inspections.review": ReviewForm,
    "inspections.reinspect": ReinspectForm,
    "inspections.disclose": DiscloseForm, "inspections.sign_draw": SignDrawForm,
}
DATA_KEYS = {"inspections.approve_plan": "approval", "inspections.revise_plan": "revision",
             "inspections.witness_seed": "witness", "inspections.declare": "declaration",
             "inspections.onsite": "onsite", "inspections.confirm_onsite": "confirmation",
             "inspections.review": "review", "inspections.reinspect": "reinspection",
             "inspections.disclose": "disclosure", "inspections.sign_draw": "signature"}

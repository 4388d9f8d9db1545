"""One marshmallow schema per user-task form key of the complaint processes.

The schemas check each form alone (types, choices, a refusal needs its ground). Checks that
need the complaint (the target unit is below this one, two officers, extensions left, a
designated unit may not be objected to) are in ``checks``. ``DATA_KEYS`` says under which
task-data key a form's fields land (the BPMN reads e.g. ``routing['competence']``).
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validates_schema

from processes.penalty.formfields import choice, flag, text, user_ids

from .records import KINDS, OTHER_CHANNELS, PETITION_KINDS, REFUSAL_GROUNDS

COMPETENCE = {"own": "本单位管辖", "subordinate": "转办下级单位", "department": "移送其他部门",
              "tell": "告知向有权部门提出"}
OBJECTION_DECISIONS = {"reroute": "改为转办其他单位", "take_back": "收回自办", "dispute": "报请共同上级指定管辖"}
MEDIATION_RESULTS = {"agreement": "达成调解协议", "termination": "终止调解",
                     "violation_found": "发现违法行为，转为举报核查"}
OPINIONS = {"support": "支持", "explain": "解释说明", "not_support": "不支持"}


def unit(label: str, *, required: bool = True) -> fields.String:
    """A unit of the directory, picked from the user's units on the task page (widget ``unit``),
    never typed as a code; whether this task may name it is checked in ``checks``."""
    field = text(label, required=required, max_length=64)
    field.metadata = {**field.metadata, "widget": "unit"}
    return field


class ClassifyForm(Schema):
    kind = choice("类型", KINDS)
    petition_kind = choice("信访事项类别", PETITION_KINDS, required=False)
    scope_channel = choice("应当通过的途径", OTHER_CHANNELS, required=False)
    merge_into = text("合并到登记编号", required=False, max_length=24)
    note = text("备注", required=False, long=True)

    @validates_schema
    def _complete(self, data: dict[str, Any], **_kw: Any) -> None:
        if data["kind"] == "petition" and not data.get("petition_kind"):
            raise ValidationError({"petition_kind": ["信访事项请选择类别"]})
        if data["kind"] == "out_of_scope" and not data.get("scope_channel"):
            raise ValidationError({"scope_channel": ["请选择应当通过的途径"]})


class RouteForm(Schema):
    competence = choice("管辖", COMPETENCE)
    target_unit_id = unit("承办单位", required=False)
    department = text("有权部门", required=False, max_length=200)
    note = text("说明", required=False, long=True)

    @validates_schema
    def _complete(self, data: dict[str, Any], **_kw: Any) -> None:
        if data["competence"] == "subordinate" and not data.get("target_unit_id"):
            raise ValidationError({"target_unit_id": ["请选择承办单位"]})
        if data["competence"] in ("department", "tell") and not data.get("department"):
            raise ValidationError({"department": ["请写明有权处理的部门"]})


class ObjectionDecisionForm(Schema):
    decision = choice("处理", OBJECTION_DECISIONS)
    note = text("理由", long=True)


class DesignateForm(Schema):
    unit_id = unit("指定的承办单位")
    reason = text("理由", long=True)


class ReceiveForm(Schema):
    accepted = flag("属于本单位管辖，接收", default=True)
    reason = text("异议理由", required=False, long=True)

    @validates_schema
    def _complete(self, data: dict[str, Any], **_kw: Any) -> None:
        if not data["accepted"] and not data.get("reason"):
            raise ValidationError({"reason": ["提出异议须写明理由"]})


class AcceptanceForm(Schema):
    accepted = flag("受理", default=True)
    refusal_ground = choice("不予受理情形", REFUSAL_GROUNDS, required=False)
    handlers = user_ids("承办人员")
    cohandlers = text("会办单位（每行一个，可在名称后写工作日数）", required=False, long=True)
    note = text("备注", required=False, long=True)

    @validates_schema
    def _complete(self, data: dict[str, Any], **_kw: Any) -> None:
        if not data["accepted"] and not data.get("refusal_ground"):
            raise ValidationError({"refusal_ground": ["不予受理须选择法定情形"]})


class ConsentForm(Schema):
    complainant_agrees = flag("投诉人同意调解")
    respondent_agrees = flag("被投诉人同意调解")


class MediationForm(Schema):
    result = choice("调解结果", MEDIATION_RESULTS)
    record = text("调解记录", long=True)
    draft_reply = text("答复意见", required=False, long=True)


class VerificationForm(Schema):
    officers = user_ids("核查人员")
    violation_found = flag("发现违法行为")
    findings = text("核查情况", long=True)
    request_extension = flag("申请延长核查期限")
    extension_reason = text("延期理由", required=False, long=True)

    @validates_schema
    def _complete(self, data: dict[str, Any], **_kw: Any) -> None:
        if data["request_extension"] and not data.get("extension_reason"):
            raise ValidationError({"extension_reason": ["申请延期须写明理由"]})


class ExtensionApprovalForm(Schema):
    approved = flag("批准延长")
    reason = text("意见", long=True)


class PetitionOpinionForm(Schema):
    opinion = choice("处理意见", OPINIONS, required=False)
    opinion_text = text("处理意见书", required=False, long=True)
    request_extension = flag("申请延长办理期限")
    extension_reason = text("延期理由（告知信访人）", required=False, long=True)

    @validates_schema
    def _complete(self, data: dict[str, Any], **_kw: Any) -> None:
        if data["request_extension"]:
            if not data.get("extension_reason"):
                raise ValidationError({"extension_reason": ["申请延期须写明理由"]})
        elif not data.get("opinion") or not data.get("opinion_text"):
            raise ValidationError({"opinion": ["请选择处理意见并写明理由"]})


class CohandleForm(Schema):
    reply = text("会办意见", long=True)


class FinalReportForm(Schema):
    facts = text("查明的事实", long=True)
    measures = text("采取的措施", long=True)
    draft_reply = text("答复意见", long=True)


class ReviewForm(Schema):
    passed = flag("审查通过")
    reason = text("退回理由", required=False, long=True)

    @validates_schema
    def _complete(self, data: dict[str, Any], **_kw: Any) -> None:
        if not data["passed"] and not data.get("reason"):
            raise ValidationError({"reason": ["退回须写明理由"]})


class ReviewRequestForm(Schema):
    reason = text("请求复查复核的理由", long=True)


class RecheckForm(Schema):
    upheld = flag("维持原处理意见", default=True)
    opinion = text("复查复核意见", long=True)


FORMS: dict[str, type[Schema]] = {
    "complaints.classify": ClassifyForm, "complaints.route": RouteForm,
    "complaints.objection_decision": ObjectionDecisionForm, "complaints.designate": DesignateForm,
    "complaints.receive": ReceiveForm, "complaints.acceptance": AcceptanceForm,
    "complaints.mediation_consent": ConsentForm, "complaints.mediation": MediationForm,
    "complaints.verification": VerificationForm, "complaints.extension_approval": ExtensionApprovalForm,
    "complaints.petition_opinion": PetitionOpinionForm, "complaints.cohandle": CohandleForm,
    "complaints.final_report": FinalReportForm, "complaints.review": ReviewForm,
    "complaints.review_request": ReviewRequestForm, "complaints.recheck": RecheckForm,
}
DATA_KEYS = {
    "complaints.classify": "classification", "complaints.route": "routing",
    "complaints.objection_decision": "objection_decision", "complaints.designate": "designation",
    "complaints.receive": "reception", "complaints.acceptance": "acceptance", "complaints.mediation_consent": "consent",
    "complaints.mediation": "mediation", "complaints.verification": "verification",
    "complaints.extension_approval": "extension", "complaints.petition_opinion": "petition",
    "complaints.cohandle": "cohandle_reply", "complaints.final_report": "final_report",
    "complaints.review": "result_review", "complaints.review_request": "review_request",
    "complaints.recheck": "recheck",
}
FORM_TITLES = {
    "complaints.classify": "分类与查重", "complaints.route": "确定管辖",
    "complaints.objection_decision": "处理管辖异议",
    "complaints.designate": "指定管辖", "complaints.receive": "接收转办件", "complaints.acceptance": "受理决定",
    "complaints.mediation_consent": "征求调解意愿", "complaints.mediation": "调解",
    "complaints.verification": "举报核查",
    "complaints.extension_approval": "延期审批", "complaints.petition_opinion": "出具信访处理意见",
    "complaints.cohandle": "会办", "complaints.final_report": "办结报告", "complaints.review": "结果审查",
    "complaints.review_request": "登记复查复核请求", "complaints.recheck": "复查复核意见",
}
assert set(FORMS) == set(DATA_KEYS) == set(FORM_TITLES)


def register_forms() -> None:
    """Put every complaint form in the web's form registry (``forms.register_form``)."""
    from forms import register_form

    for key, schema in FORMS.items():
        register_form(key, title=FORM_TITLES[key])(schema)


register_forms()

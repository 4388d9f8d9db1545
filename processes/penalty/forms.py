"""One marshmallow schema per user-task form key of the penalty processes.

The schemas check each form on its own (types, required fields, choices, and the cross-field
rules a form can decide alone, e.g. a refusal needs a reason). Rules that need the case (the
officers on it, the notified penalty, the calendar) are in ``processes.penalty.checks`` and
run in ``submit_task`` after the schema. ``FORMS`` maps form keys to schemas; ``DATA_KEYS`` says
under which task-data key a form's fields are stored (the BPMN reads e.g. ``filing_approval['approved']``).
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validates_schema

from .formfields import (
    REQUIRED,
    Member,
    Officer,
    Participant,
    amount,
    choice,
    choices,
    credit_code,
    day,
    evidence_files,
    flag,
    people,
    text,
    user_ids,
)
from .forms_discussion import DISCUSSION_FORMS
from .forms_endings import ENDINGS, ClosingReportForm, ExtensionApprovalForm
from .forms_enforcement import ENFORCEMENT_FORMS
from .forms_hearing import HearingRecordFields, HearingScheduleFields
from .forms_service import (
    SERVICE_METHODS,  # noqa: F401 - re-exported: documents.py reads it here
    PriorNoticeServiceForm,
    ServiceForm,
)
from .forms_summary import SummaryPaymentForm, SummaryRecordFields
from .instalments import instalment_plan
from .law import PENALTY_KINDS
from .rules import load_rules

SOURCES = {"inspection": "监督检查", "complaint": "投诉举报", "referral": "移送", "random_inspection": "双随机抽查",
           "other": "其他"}
PARTY_TYPES = {"person": "公民", "organisation": "法人或者其他组织"}
RECORD_KINDS = {"interview": "询问笔录", "site": "现场笔录", "evidence": "证据登记", "preservation": "先行登记保存申请",
                "finish": "调查终结"}
REPLY_KINDS = {"statement": "陈述申辩", "hearing_request": "要求听证", "waive": "书面放弃陈述申辩和听证"}
CONCLUSIONS = {"penalty": "作出处罚决定", "no_penalty": "不予行政处罚", "supplement": "补充调查"}
OUTCOMES = {"penalty": "给予行政处罚", "no_penalty": "不予行政处罚"}
EXECUTION_KINDS = {"payment": "缴纳罚没款", "deferral": "申请延期缴纳", "instalments": "申请分期缴纳",
                   "reconsideration": "申请行政复议", "litigation": "提起行政诉讼"}
APPEAL_RESULTS = {"upheld": "维持", "changed": "变更罚款数额", "revoked": "撤销"}
REQUIRED_DATE = "请填写日期"
CATEGORY_NAMES = {"medical": "医疗卫生", "public_places": "公共场所卫生", "drinking_water": "生活饮用水卫生",
                  "school": "学校卫生", "occupational": "职业卫生", "radiation": "放射卫生", "infectious": "传染病防治",
                  "disinfection": "消毒产品", "blood": "采供血", "maternal_child": "妇幼健康"}
PRESERVATION_MEASURES = {"return": "解除保存、退还", "confiscate": "依法没收", "destroy": "销毁", "transfer": "移送",
                         "inspect": "检验、检测、鉴定"}


def _categories() -> dict[str, str]:
    return {code: CATEGORY_NAMES.get(code, char) for code, char in load_rules().categories.items()}


def _require_when(data: dict[str, Any], condition: bool, field: str, message: str) -> None:
    if condition and not (data.get(field) or "").strip():
        raise ValidationError({field: [message]})


class PenaltyFields(Schema):
    """The penalty a form proposes or decides (kinds plus amounts)."""

    penalty_kinds = choices("处罚种类", PENALTY_KINDS)
    fine = amount("罚款金额")
    confiscation = amount("没收违法所得/非法财物金额")

    @validates_schema
    def _amounts_match_kinds(self, data: dict[str, Any], **_kwargs: Any) -> None:
        kinds = set(data.get("penalty_kinds") or ())
        if "fine" in kinds and not data.get("fine"):
            raise ValidationError({"fine": ["选择了罚款，请填写罚款金额"]})
        if "fine" not in kinds and data.get("fine"):
            raise ValidationError({"penalty_kinds": ["填写了罚款金额，请选择处罚种类“罚款”"]})
        if "confiscation" in kinds and not data.get("confiscation"):
            raise ValidationError({"confiscation": ["选择了没收，请填写没收金额"]})


class PartyFields(Schema):
    entity_id = fields.String(load_default="", metadata={"label": "被监督单位编号"})
    entity_name = text("当事人（单位名称或者姓名）", max_length=300)
    party_type = choice("当事人类型", PARTY_TYPES)
    credit_code = credit_code()
    legal_representative = text("法定代表人（负责人）", required=False, max_length=100)
    registered_address = text("注册地址", required=False, max_length=300)
    actual_address = text("实际经营地址", required=False, max_length=300)
    region_code = fields.String(load_default="", metadata={"label": "行政区划代码（6位）"})
    unit_category = text("单位类别", required=False, max_length=100)
    licence_numbers = text("许可证号", required=False, max_length=300)

    @validates_schema
    def _party(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("party_type") == "organisation" and not data.get("credit_code"):
            raise ValidationError({"credit_code": ["法人或者其他组织须填写统一社会信用代码"]})
        region = data.get("region_code") or ""
        if region and not (len(region) == 6 and region.isdigit()):
            raise ValidationError({"region_code": ["行政区划代码为6位数字"]})


class LeadForm(PartyFields):
    """案源登记."""

    source = choice("案件来源", SOURCES)
    category = choice("专业类别", _categories())
    suspected_violation = text("涉嫌违法事实", long=True)
    violation_date = day("违法行为发生日期")
    violation_ended_on = day("违法行为终了日期（连续或者继续状态）", required=False)
    public_health_harm = flag("涉及公民生命健康安全且有危害后果")
    discovered_on = day("发现日期", past=True)
    accepted_on = day("受理日期", past=True)
    evidence_summary = text("已有证据", required=False, long=True)
    directory_difference_confirmed = flag("当事人信息与监督对象名录不一致，已核实以本表为准")

    @validates_schema
    def _dates(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data["violation_date"] > data["discovered_on"]:
            raise ValidationError({"violation_date": ["违法行为发生日期不能晚于发现日期"]})
        ended = data.get("violation_ended_on")
        if ended and ended < data["violation_date"]:
            raise ValidationError({"violation_ended_on": ["终了日期不能早于发生日期"]})
        if data["accepted_on"] < data["discovered_on"]:
            raise ValidationError({"accepted_on": ["受理日期不能早于发现日期"]})


class FilingReportForm(Schema):
    officers = people("承办人（不少于两名执法人员）", Officer, role="officer")
    summary = text("案情摘要", long=True)
    preliminary_basis = text("涉嫌违反的法律规定", required=False, long=True)


class ApprovalForm(Schema):
    approved = flag("同意")
    opinion = text("意见", required=False, long=True)

    @validates_schema
    def _reason(self, data: dict[str, Any], **_kwargs: Any) -> None:
        _require_when(data, not data.get("approved"), "opinion", "不同意时须写明理由")


class FilingApprovalForm(ApprovalForm):
    """立案审批; after the filing period (and any extension the head approved in time on the case page,
    ``filing.approve_filing_extension``) a decision to file gives the reason it is late (``checks``)."""

    overdue_reason = text("超过立案期限的原因", required=False, long=True)


class ConflictDeclarationForm(Schema):
    no_conflict = flag("本人与本案当事人没有利害关系")
    statement = text("利害关系说明", required=False, long=True)

    @validates_schema
    def _statement(self, data: dict[str, Any], **_kwargs: Any) -> None:
        _require_when(data, not data.get("no_conflict"), "statement", "存在利害关系的，须说明情况")


class ReplaceOfficersForm(Schema):
    officers = people("承办人（更换后）", Officer, role="officer")
    opinion = text("说明", required=False)


class InvestigationRecordForm(Schema):
    kind = choice("记录类型", RECORD_KINDS)
    officers = user_ids("参加的执法人员", role="officer")
    title = text("标题", required=False, max_length=200)
    occurred_on = day("日期", required=False, past=True)
    place = text("地点", required=False, max_length=300)
    interviewee = text("被询问人（姓名、身份、与案件关系）", required=False, max_length=300)
    content = text("内容", required=False, long=True)
    files = evidence_files()
    preservation_items = text("拟先行登记保存的物品", required=False, long=True)

    @validates_schema
    def _by_kind(self, data: dict[str, Any], **_kwargs: Any) -> None:
        """Every field the record kind needs, reported together (not one per submission)."""
        kind = data.get("kind")
        missing: dict[str, list[str]] = {}

        def need(field: str, message: str) -> None:
            if not (data.get(field) or "").strip():
                missing[field] = [message]

        if kind in ("interview", "site"):
            need("content", "笔录内容必填")
            if not data.get("occurred_on"):
                missing["occurred_on"] = [REQUIRED_DATE]
        if kind == "interview":
            need("interviewee", "请填写被询问人")
        if kind == "evidence" and not data.get("files"):
            missing["files"] = ["请上传证据材料"]
        if kind == "preservation":
            need("preservation_items", "请列明拟保存的物品")
        if missing:
            raise ValidationError(missing)



class PreservationDecisionForm(Schema):
    measure = choice("处理决定", PRESERVATION_MEASURES)
    decided_on = day("决定日期", past=True)
    note = text("说明", required=False, long=True)


class InvestigationReportForm(PenaltyFields):
    facts = text("违法事实", long=True)
    evidence_summary = text("证据", long=True)
    legal_basis = text("违反的法律规定及处罚依据", long=True)
    outcome = choice("处理意见", OUTCOMES)
    discretion = text("裁量理由", required=False, long=True)
    no_penalty_reason = text("不予处罚的理由", required=False, long=True)
    major_public_interest = flag("涉及重大公共利益")
    major_rights = flag("直接关系当事人或者第三人重大权益")
    complex_case = flag("案情疑难复杂、涉及多个法律关系")
    major_violation = flag("重大违法行为")
    members = people("合议人员", Member)

    @validates_schema
    def _outcome(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("outcome") == "penalty" and not data.get("penalty_kinds"):
            raise ValidationError({"penalty_kinds": ["给予处罚的，请选择处罚种类"]})
        _require_when(data, data.get("outcome") == "no_penalty", "no_penalty_reason", "请写明不予处罚的理由")


class DeliberationOpinionForm(PenaltyFields):
    outcome = choice("表决意见", OUTCOMES)
    opinion = text("合议意见", long=True)


class DeliberationSignForm(Schema):
    """The signing page: the passphrase unlocks the member's key for this one request only."""

    passphrase = fields.String(required=True, load_only=True, error_messages={"required": REQUIRED},
                               metadata={"label": "签名口令", "widget": "password"})


class PartyReplyForm(Schema):
    kind = choice("当事人意见", REPLY_KINDS)
    received_on = day("收到日期", past=True)
    content = text("陈述申辩内容", required=False, long=True)
    files = evidence_files("当事人提交的证据")
    waiver_signed = flag("当事人已签署书面放弃声明", default=False)

    @validates_schema
    def _content(self, data: dict[str, Any], **_kwargs: Any) -> None:
        _require_when(data, data.get("kind") == "statement", "content", "请记录陈述申辩内容")
        if data.get("kind") == "waive" and not data.get("waiver_signed"):
            raise ValidationError({"waiver_signed": [
                "放弃陈述、申辩和听证须有当事人签字的书面声明；口头表示不视为放弃，期限届满前当事人仍可提出"]})


class StatementReviewForm(PenaltyFields):
    adopted = flag("采纳当事人意见")
    reasons = text("复核意见", long=True)


class HearingScheduleForm(HearingScheduleFields):
    chair_id = text("听证主持人（用户）", max_length=100)
    chair_name = text("听证主持人", max_length=50)
    clerk_name = text("记录员", max_length=50)
    hearing_date = day("听证日期")
    notice_sent_on = day("听证通知送达日期")
    location = text("听证地点", max_length=300)


class HearingRecordForm(PenaltyFields, HearingRecordFields):
    attended = flag("当事人出席")
    held_on = day("听证日期", past=True)
    record = text("听证情况", required=False, long=True)
    chair_opinion = text("主持人意见", required=False, long=True)

    @validates_schema
    def _record(self, data: dict[str, Any], **_kwargs: Any) -> None:
        _require_when(data, bool(data.get("attended")), "record", "请记录听证情况")


class LegalReviewForm(Schema):
    passed = flag("审核通过")
    opinion = text("审核意见", long=True)
    reasons = text("未通过的理由及补正要求", required=False, long=True)

    @validates_schema
    def _reasons(self, data: dict[str, Any], **_kwargs: Any) -> None:
        _require_when(data, not data.get("passed"), "reasons", "审核未通过的，须写明理由")


class HeadDecisionForm(Schema):
    conclusion = choice("决定", CONCLUSIONS)
    opinion = text("意见", long=True)


class CollectiveDiscussionForm(HeadDecisionForm):
    discussed_on = day("讨论日期", past=True)
    participants = people("参加讨论的负责人（每人确认讨论记录）", Participant, min_items=1, role="head")
    minutes = text("讨论记录", long=True)
    overdue_reason = text("逾期作出决定的原因", required=False, long=True)


class DecisionForm(PenaltyFields):
    decided_on = day("决定日期", past=True)
    facts = text("违法事实和证据", long=True)
    legal_basis = text("处罚依据", long=True)
    performance = text("履行方式和期限", long=True)
    payee = text("缴款银行/账户", required=False, max_length=300)
    reconsideration_body = text("行政复议机关", max_length=200)
    court = text("人民法院", max_length=200)
    overdue_reason = text("逾期作出决定的原因", required=False, long=True)

    @validates_schema
    def _kinds(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not data.get("penalty_kinds"):
            raise ValidationError({"penalty_kinds": ["请选择处罚种类"]})


class ExecutionForm(Schema):
    kind = choice("事项", EXECUTION_KINDS)
    occurred_on = day("日期", past=True)
    amount = amount("金额")
    until = day("延期至", required=False)
    plan = instalment_plan("分期计划（申请分期缴纳时填写）")
    note = text("说明", required=False, long=True)

    @validates_schema
    def _by_kind(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("kind") == "payment" and not data.get("amount"):
            raise ValidationError({"amount": ["请填写缴款金额"]})
        if data.get("kind") == "deferral" and not data.get("until"):
            raise ValidationError({"until": ["请填写延期缴纳的截止日期"]})
        if data.get("kind") == "instalments" and not data.get("plan"):
            raise ValidationError({"plan": ["请填写分期计划：每行一期，缴款日期和金额"]})
        if data.get("kind") != "instalments" and data.get("plan"):
            raise ValidationError({"plan": ["只有申请分期缴纳时才填写分期计划"]})


class ArrangementApprovalForm(Schema):
    """The head's decision on a deferral or instalment application (Art. 66); a refusal gives reasons."""

    approved = flag("批准延期/分期缴纳")
    opinion = text("审批意见", required=False, long=True)

    @validates_schema
    def _reason(self, data: dict[str, Any], **_kwargs: Any) -> None:
        _require_when(data, not data.get("approved"), "opinion", "不批准时须写明理由")


class AppealResultForm(Schema):
    result = choice("复议决定/判决结果", APPEAL_RESULTS)
    concluded_on = day("结果日期", past=True)
    new_fine = amount("变更后的罚款金额")
    note = text("说明", required=False, long=True)


class RecusalDecisionForm(Schema):
    granted = flag("决定回避")
    reasons = text("理由", long=True)
    replacement = fields.Nested(Officer, load_default=None, allow_none=True,
                                metadata={"label": "接替的执法人员", "widget": "people"})

    @validates_schema
    def _replacement(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("granted") and not data.get("replacement"):
            raise ValidationError({"replacement": ["决定回避的，须指定接替的执法人员"]})


class SummaryDecisionForm(PartyFields, PenaltyFields, SummaryRecordFields):
    category = choice("专业类别", _categories())
    officers = people("执法人员", Officer, role="officer")
    violation = text("违法事实", long=True)
    violation_date = day("违法行为发生日期")
    legal_basis = text("处罚依据", long=True)
    decided_on = day("决定日期", past=True)
    statement_heard = flag("已告知并听取当事人陈述申辩")
    statement = text("当事人陈述申辩", required=False, long=True)

    @validates_schema
    def _heard(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not data.get("statement_heard"):
            raise ValidationError({"statement_heard": ["作出决定前须告知当事人并听取陈述、申辩（第四十四、四十五条）"]})


FORMS: dict[str, type[Schema]] = {
    "penalty.lead": LeadForm,
    "penalty.filing_report": FilingReportForm,
    "penalty.filing_approval": FilingApprovalForm,
    "penalty.conflict_declaration": ConflictDeclarationForm,
    "penalty.replace_officers": ReplaceOfficersForm,
    "penalty.investigation_record": InvestigationRecordForm,
    "penalty.preservation_approval": ApprovalForm,
    "penalty.preservation_decision": PreservationDecisionForm,
    "penalty.investigation_report": InvestigationReportForm,
    "penalty.deliberation_opinion": DeliberationOpinionForm,
    "penalty.deliberation_sign": DeliberationSignForm,
    "penalty.prior_notice_service": PriorNoticeServiceForm,
    "penalty.party_reply": PartyReplyForm,
    "penalty.statement_review": StatementReviewForm,
    "penalty.hearing_schedule": HearingScheduleForm,
    "penalty.hearing_record": HearingRecordForm,
    "penalty.legal_review": LegalReviewForm,
    "penalty.collective_discussion": CollectiveDiscussionForm,
    "penalty.decision_approval": HeadDecisionForm,
    "penalty.decision": DecisionForm,
    "penalty.service": ServiceForm,
    "penalty.execution": ExecutionForm,
    "penalty.appeal_result": AppealResultForm,
    "penalty.payment_arrangement": ArrangementApprovalForm,
    "penalty.closing_report": ClosingReportForm,
    "penalty.closing_approval": ApprovalForm,
    "penalty.extension_approval": ExtensionApprovalForm,
    "penalty.recusal_decision": RecusalDecisionForm,
    "penalty.summary_decision": SummaryDecisionForm,
    "penalty.summary_filing": ApprovalForm,
    "penalty.summary_payment": SummaryPaymentForm,
}

DATA_KEYS: dict[str, str] = {
    "penalty.lead": "lead", "penalty.filing_report": "filing", "penalty.filing_approval": "filing_approval",
    "penalty.conflict_declaration": "declaration", "penalty.replace_officers": "replacement",
    "penalty.investigation_record": "record", "penalty.preservation_approval": "preservation_approval",
    "penalty.preservation_decision": "preservation_decision", "penalty.investigation_report": "report",
    "penalty.deliberation_opinion": "opinion", "penalty.deliberation_sign": "signature",
    "penalty.prior_notice_service": "notice", "penalty.party_reply": "reply",
    "penalty.statement_review": "statement_review", "penalty.hearing_schedule": "hearing",
    "penalty.hearing_record": "hearing_record", "penalty.legal_review": "legal_review",
    "penalty.collective_discussion": "head_decision", "penalty.decision_approval": "head_decision",
    "penalty.decision": "decision", "penalty.service": "service", "penalty.execution": "execution_event",
    "penalty.appeal_result": "appeal_result", "penalty.payment_arrangement": "arrangement",
    "penalty.closing_report": "closing",
    "penalty.closing_approval": "closing_approval", "penalty.extension_approval": "extension_approval",
    "penalty.recusal_decision": "recusal_decision", "penalty.summary_decision": "summary",
    "penalty.summary_filing": "summary_filing", "penalty.summary_payment": "payment",
}
"""Task-data key each form's fields are stored under (what the BPMN expressions read)."""

assert set(FORMS) == set(DATA_KEYS)

FORM_TITLES: dict[str, str] = {
    "penalty.lead": "案源登记", "penalty.filing_report": "立案报告", "penalty.filing_approval": "立案审批",
    "penalty.conflict_declaration": "回避声明", "penalty.replace_officers": "更换承办人",
    "penalty.investigation_record": "调查取证", "penalty.preservation_approval": "先行登记保存审批",
    "penalty.preservation_decision": "先行登记保存处理决定", "penalty.investigation_report": "调查终结报告",
    "penalty.deliberation_opinion": "合议意见", "penalty.deliberation_sign": "合议记录电子签名",
    "penalty.prior_notice_service": "送达事先告知书", "penalty.party_reply": "当事人陈述申辩/听证申请",
    "penalty.statement_review": "陈述申辩复核", "penalty.hearing_schedule": "听证安排",
    "penalty.hearing_record": "听证笔录", "penalty.legal_review": "法制审核",
    "penalty.collective_discussion": "负责人集体讨论", "penalty.decision_approval": "负责人审批",
    "penalty.decision": "行政处罚决定书", "penalty.service": "送达", "penalty.execution": "执行登记",
    "penalty.appeal_result": "复议/诉讼结果", "penalty.payment_arrangement": "延期/分期缴纳审批",
    "penalty.closing_report": "结案报告", "penalty.closing_approval": "结案审批",
    "penalty.extension_approval": "延长办案期限审批", "penalty.recusal_decision": "回避决定",
    "penalty.summary_decision": "当场行政处罚决定", "penalty.summary_filing": "简易程序备案",
    "penalty.summary_payment": "缴纳罚款",
}
assert set(FORM_TITLES) == set(FORMS)


for _key, (_form, _data_key, _title) in {**ENFORCEMENT_FORMS, **DISCUSSION_FORMS}.items():
    FORMS[_key], DATA_KEYS[_key], FORM_TITLES[_key] = _form, _data_key, _title  # 催告, court, discussion
for _key, (_schema, _data_key, _title) in ENDINGS.items():  # the endings' forms (None: the service form)
    FORMS[_key], DATA_KEYS[_key], FORM_TITLES[_key] = _schema or ServiceForm, _data_key, _title


def register_forms() -> None:
    """Put every penalty form in the web's form registry (``forms.register_form``)."""
    from forms import register_form

    for key, schema in FORMS.items():
        register_form(key, title=FORM_TITLES[key])(schema)


register_forms()

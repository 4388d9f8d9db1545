"""Forms of the case-lead process (案源登记, ``case_lead``): registering a lead and the head's approval.

They also exercise every widget, so the test suite and the demo show each one in use.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, validates_schema

from .fields import (
    DateField,
    DateTimeField,
    EntityPicker,
    FileUpload,
    Money,
    MultiSelect,
    Number,
    Select,
    StaffPicker,
    Text,
    TextArea,
)
from .registry import FormSchema, register_form

LEAD_SOURCES = [
    ("inspection", "监督检查"),
    ("complaint", "投诉举报"),
    ("referral", "上级交办或部门移送"),
    ("random", "双随机抽查"),
    ("other", "其他"),
]
VIOLATION_KINDS = [
    ("unlicensed", "无证执业或经营"),
    ("beyond_scope", "超范围执业"),
    ("hygiene", "卫生条件不达标"),
    ("records", "未按规定建立档案或记录"),
    ("personnel", "使用非卫生技术人员"),
    ("other", "其他"),
]


@register_form("lead.register", title="登记案源")
class LeadRegisterForm(FormSchema):
    """An officer records where a possible violation came from and what is known so far."""

    source = Select("案源来源", LEAD_SOURCES, required=True, help="线索从何而来")
    summary = Text("案源摘要", required=True, max_length=100, help="一句话概括，例如：某诊所超范围开展医疗美容")
    facts = TextArea("涉嫌违法事实", required=True, max_length=2000,
                     help="时间、地点、行为、涉及人员；尽量具体，便于负责人判断是否立案")
    kinds = MultiSelect("违法类型", VIOLATION_KINDS, min_items=1, required=True)
    violation_date = DateField("违法行为发生日期", not_future=True,
                               help="用于判断是否超过追责时效（2年，危害公共卫生的5年）")
    discovered_at = DateTimeField("发现时间", not_future=True)
    amount = Money("涉案金额（元）", required=True,
                   help="违法所得或涉案货值，单位元，保留两位小数；超过10000元须负责人审批")
    persons = Number("涉及人数", minimum=0, maximum=100000)
    related_entity = EntityPicker("关联单位", help="如有其他被监督单位涉及本案，可选择")
    evidence = FileUpload("现有证据", accept=("pdf", "jpg", "png"), help="PDF 或图片；系统记录文件的 SHA-256 以防篡改")


@register_form("lead.approve", title="负责人审批")
class LeadApproveForm(FormSchema):
    """The head decides whether a serious lead goes ahead and names the two handling officers."""

    approved = Select("审批意见", [(True, "同意立案"), (False, "不予立案")], required=True)
    opinion = TextArea("审批理由", required=True, max_length=1000)
    officers = StaffPicker("承办人", role="officer", many=True, min_items=2,
                           help="至少两名持有执法证的执法人员（行政处罚法第四十二条）")

    @validates_schema
    def officers_when_approved(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("approved") is True and len(data.get("officers") or []) < 2:
            raise ValidationError("同意立案时须指定至少两名承办人", field_name="officers")

"""The service (送达) forms: the prior notice's (事先告知书) and the decision's.

Why a module of its own: each method of service has its own record the law asks for, and the
same rules apply to every document served (行政处罚法 Art. 61 applies the Civil Procedure Law's
service rules; 卫生健康行政处罚程序规定 令第13号 Chapter 4, Arts. 53-57, repeats them for health
agencies). What a method needs:

- electronic (电子送达, 民事诉讼法 Art. 90; 令第13号 Art. 57): the party's signed consent (确认书)
  and the address or channel the party consented to;
- public notice (公告送达, 民事诉讼法 Art. 95): only when the party cannot be found or the other
  methods failed; the ground and what was tried are recorded; deemed served after
  ``periods.public_notice_days``;
- leaving the document (留置送达, 民事诉讼法 Art. 89; 令第13号 Art. 55): the party refused; the
  reason of the refusal, where the document was left, and witnesses or photos/video of the service;
- entrusting another agency (委托送达, 民事诉讼法 Art. 91; 令第13号 Art. 56): which agency; the
  service date is the one on its receipt.

The checks that need the case (dates against the decision, the deemed date) are in ``checks_decision``.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, validates_schema

from .formfields import choice, day, evidence_files, text

SERVICE_METHODS = {"on_spot": "当场交付", "direct": "直接送达", "post": "邮寄送达", "electronic": "电子送达",
                   "left": "留置送达", "entrusted": "委托送达", "public_notice": "公告送达"}
PUBLIC_NOTICE_GROUNDS = {"whereabouts_unknown": "受送达人下落不明",
                         "other_methods_failed": "采用其他方式无法送达"}


def _require_when(data: dict[str, Any], condition: bool, field: str, message: str) -> None:
    value = data.get(field)
    if condition and not (value.strip() if isinstance(value, str) else value):
        raise ValidationError({field: [message]})


class ServiceMethodFields(Schema):
    """How a document was served and the record each method needs (see the module docstring)."""

    method = choice("送达方式", SERVICE_METHODS)
    served_on = day("送达日期（公告送达填公告发布日期）", past=True)
    receiver = text("受送达人/签收人", required=False, max_length=100)
    consent_ref = text("电子送达确认书编号", required=False, max_length=100)
    consent_address = text("当事人同意的电子送达地址（电子邮箱、手机号码等）", required=False, max_length=300)
    notice_ground = choice("公告送达的情形", PUBLIC_NOTICE_GROUNDS, required=False)
    attempts = text("已尝试的送达方式及结果", required=False, long=True)
    refusal_reason = text("拒收事由", required=False, long=True)
    left_at = text("留置地点（受送达人的住所）", required=False, max_length=300)
    witnesses = text("见证人（姓名、单位）", required=False, max_length=300)
    recording = evidence_files("送达过程的照片、录像")
    entrusted_agency = text("受委托代为送达的机关", required=False, max_length=200)
    proof = evidence_files("送达回证（签收凭证）扫描件")

    @validates_schema
    def _method_record(self, data: dict[str, Any], **_kwargs: Any) -> None:
        method = data.get("method")
        if method == "electronic":
            _require_when(data, True, "consent_ref", "电子送达须经当事人书面同意，请填写确认书编号（第六十一条）")
            _require_when(data, True, "consent_address", "请填写当事人在确认书中同意接收的电子送达地址")
        elif method in ("direct", "post"):
            _require_when(data, True, "receiver", "请填写签收人")
        elif method == "public_notice":
            _require_when(data, True, "notice_ground", "受送达人下落不明或者采用其他方式无法送达的，才能公告送达"
                                            "（民事诉讼法第九十五条），请选择公告送达的情形")
            _require_when(data, True, "attempts", "请记录公告前已尝试的送达方式及结果")
        elif method == "left":
            _require_when(data, True, "refusal_reason", "留置送达须记明拒收事由（民事诉讼法第八十九条）")
            _require_when(data, True, "left_at", "请填写留置文书的地点（受送达人的住所）")
            if not (data.get("witnesses") or "").strip() and not data.get("recording"):
                raise ValidationError({"witnesses": [
                    "留置送达须由见证人签名，或者以拍照、录像等方式记录送达过程（民事诉讼法第八十九条）"]})
        elif method == "entrusted":
            _require_when(data, True, "entrusted_agency", "委托送达须写明受委托代为送达的机关（民事诉讼法第九十一条）")
            _require_when(data, True, "receiver", "请填写回执上的签收人")


class PriorNoticeServiceForm(ServiceMethodFields):
    """送达事先告知书: public notice allowed too; the reply window counts from the deemed date."""


class ServiceForm(ServiceMethodFields):
    """送达行政处罚决定书 (and 不予行政处罚决定书)."""

    late_reason = text("逾期送达的原因", required=False, long=True)

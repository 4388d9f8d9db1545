"""What verification says about each signature: VALID, or INVALID with one specific reason.

Reports are plain frozen data so the case page, the API and the PDF can all show the same
thing; ``to_dict`` is the API shape. Reason codes are stable strings (part of the API);
``label_zh`` is the text for people.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    VALID = "VALID"
    INVALID = "INVALID"


class Reason(StrEnum):
    """Why a signature is INVALID (or why a submission was refused)."""

    SIGNATURE_MALFORMED = "signature_malformed"
    SIGNATURE_DTD = "signature_dtd"
    SIGNATURE_STRUCTURE = "signature_structure"
    EXTRA_SIGNATURE = "extra_signature"
    SIGNATURE_WRAPPING = "signature_wrapping"
    WRONG_RECORD = "wrong_record"
    RECORD_INVALID = "record_invalid"
    RECORD_DTD = "record_dtd"
    RECORD_CHANGED = "record_changed"
    SIGNED_PROPERTIES_ALTERED = "signed_properties_altered"
    KEY_INFO_ALTERED = "key_info_altered"
    SIGNATURE_VALUE_INVALID = "signature_value_invalid"
    UNTRUSTED_CERTIFICATE = "untrusted_certificate"
    CERTIFICATE_USAGE = "certificate_usage"
    SIGNING_CERTIFICATE_MISMATCH = "signing_certificate_mismatch"
    POLICY_MISMATCH = "policy_mismatch"
    SIGNING_TIME_MISSING = "signing_time_missing"
    SIGNING_TIME_IMPLAUSIBLE = "signing_time_implausible"
    CERTIFICATE_NOT_YET_VALID = "certificate_not_yet_valid"
    CERTIFICATE_EXPIRED = "certificate_expired"
    CERTIFICATE_REVOKED = "certificate_revoked"
    REVOCATION_UNKNOWN = "revocation_unknown"
    NOT_A_MEMBER = "not_a_member"
    SIGNER_MISMATCH = "signer_mismatch"
    ROLE_MISMATCH = "role_mismatch"
    ALREADY_SIGNED = "already_signed"

    @property
    def label_zh(self) -> str:
        return _LABELS_ZH[self]


_LABELS_ZH: dict[Reason, str] = {
    Reason.SIGNATURE_MALFORMED: "签名文件不完整或格式错误",
    Reason.SIGNATURE_DTD: "签名文件含有禁止的 DTD/实体声明",
    Reason.SIGNATURE_STRUCTURE: "签名结构不符合 XAdES 要求",
    Reason.EXTRA_SIGNATURE: "签名文件中被插入了额外的签名",
    Reason.SIGNATURE_WRAPPING: "签名被篡改（签名包装攻击）",
    Reason.WRONG_RECORD: "签名针对的是另一份记录",
    Reason.RECORD_INVALID: "记录文件不符合规范",
    Reason.RECORD_DTD: "签名的记录含有禁止的 DTD/实体声明",
    Reason.RECORD_CHANGED: "记录在签名后被修改",
    Reason.SIGNED_PROPERTIES_ALTERED: "签名属性在签名后被修改",
    Reason.KEY_INFO_ALTERED: "签名中的证书信息被修改",
    Reason.SIGNATURE_VALUE_INVALID: "签名值无效",
    Reason.UNTRUSTED_CERTIFICATE: "证书不是由本机构根证书签发",
    Reason.CERTIFICATE_USAGE: "证书不允许用于电子签名",
    Reason.SIGNING_CERTIFICATE_MISMATCH: "签名证书与签名属性不一致",
    Reason.POLICY_MISMATCH: "签名策略不符",
    Reason.SIGNING_TIME_MISSING: "缺少签名时间",
    Reason.SIGNING_TIME_IMPLAUSIBLE: "签名时间与接收时间不符",
    Reason.CERTIFICATE_NOT_YET_VALID: "签名时证书尚未生效",
    Reason.CERTIFICATE_EXPIRED: "签名时证书已过期",
    Reason.CERTIFICATE_REVOKED: "签名时证书已被吊销",
    Reason.REVOCATION_UNKNOWN: "无法确认证书吊销状态",
    Reason.NOT_A_MEMBER: "签名人不是本记录的签名人员",
    Reason.SIGNER_MISMATCH: "签名人与登记的签名成员不一致",
    Reason.ROLE_MISMATCH: "签名角色与记录不一致",
    Reason.ALREADY_SIGNED: "该成员已签名",
}


@dataclass(frozen=True)
class SignatureReport:
    """The verdict on one signature, with what could be read about the signer."""

    status: Status
    reason: Reason | None = None
    detail: str = ""
    signer_user_id: str | None = None
    signer_name: str | None = None
    role: str | None = None
    signing_time: datetime | None = None
    certificate_serial: str | None = None
    signature_id: int | None = None

    @property
    def valid(self) -> bool:
        return self.status is Status.VALID

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "reason": None if self.reason is None else self.reason.value,
            "reason_text": None if self.reason is None else self.reason.label_zh,
            "detail": self.detail,
            "signer_user_id": self.signer_user_id,
            "signer_name": self.signer_name,
            "role": self.role,
            "signing_time": None if self.signing_time is None else self.signing_time.isoformat(),
            "certificate_serial": self.certificate_serial,
            "signature_id": self.signature_id,
        }


@dataclass(frozen=True)
class RecordVerification:
    """Every stored signature of one record, checked, plus who has not signed yet."""

    record_id: str
    signatures: tuple[SignatureReport, ...]
    unsigned_members: tuple[str, ...] = field(default_factory=tuple)
    record_problem: str | None = None

    @property
    def all_valid(self) -> bool:
        return self.record_problem is None and all(s.valid for s in self.signatures)

    @property
    def complete(self) -> bool:
        """Every member has a VALID signature and nothing stored is INVALID."""
        return self.all_valid and not self.unsigned_members and bool(self.signatures)

    def to_dict(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id,
            "complete": self.complete,
            "record_problem": self.record_problem,
            "unsigned_members": list(self.unsigned_members),
            "signatures": [s.to_dict() for s in self.signatures],
        }

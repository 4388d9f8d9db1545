"""Field factories for the penalty task forms: Chinese labels and Chinese error messages.

Every field carries ``metadata["label"]`` (what the form shows) and, for choices,
``metadata["choices"]`` (code -> label), so the web's generic form renderer needs no
penalty-specific template. Error messages are Chinese because officers read them; a person who
switched the UI to English sees them through the English catalog keyed by this Chinese text
(``web/translations/en/LC_MESSAGES/domain.po``; ``tests/web/test_i18n.py`` fails on a missing entry).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, ValidationError, fields, pre_load, validate

from forms.names import safe_filename

REQUIRED = "此项必填"
_MESSAGES: dict[str, Any] = {"required": REQUIRED, "null": REQUIRED}
CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def _meta(label: str, **extra: Any) -> dict[str, Any]:
    return {"label": label, **{k: v for k, v in extra.items() if v is not None}}


def text(label: str, *, required: bool = True, max_length: int = 4000, long: bool = False) -> fields.String:
    checks = [validate.Length(max=max_length, error=f"不能超过{max_length}个字")]
    if required:
        checks.append(validate.Length(min=1, error=REQUIRED))
    extra: dict[str, Any] = {} if required else {"load_default": ""}
    return fields.String(required=required, validate=checks, error_messages={**_MESSAGES, "invalid": "应为文字"},
                         metadata=_meta(label, widget="textarea" if long else None), **extra)


def day(label: str, *, required: bool = True, past: bool = False) -> fields.Date:
    """A date; ``past``: the case's checks refuse a day after today, so the date picker offers none
    (``max`` = today; the check itself stays with the case's clock in ``checks*``)."""
    extra: dict[str, Any] = {} if required else {"load_default": None}
    meta = _meta(label, widget="date")
    if past:
        meta["not_future"] = True
    return fields.Date(required=required, **extra,
                       error_messages={**_MESSAGES, "invalid": "不是有效日期（格式：2025-10-09）"}, metadata=meta)


def flag(label: str, *, default: bool = False) -> fields.Boolean:
    return fields.Boolean(load_default=default, error_messages={**_MESSAGES, "invalid": "应为是或否"},
                          metadata=_meta(label, widget="checkbox"))


def amount(label: str, *, required: bool = False) -> fields.Float:
    extra: dict[str, Any] = {} if required else {"load_default": 0.0}
    return fields.Float(required=required, allow_nan=False, **extra,
                        validate=validate.Range(min=0, error="金额不能为负数"),
                        error_messages={**_MESSAGES, "invalid": "应为金额（元）"},
                        metadata=_meta(label, unit="元", widget="money"))


def choice(label: str, options: Mapping[str, str], *, required: bool = True) -> fields.String:
    extra: dict[str, Any] = {} if required else {"load_default": None}
    return fields.String(required=required, **extra, validate=validate.OneOf(list(options), error="请从列表中选择"),
                         error_messages=_MESSAGES, metadata=_meta(label, choices=dict(options), widget="select"))


def choices(label: str, options: Mapping[str, str], *, min_items: int = 0) -> fields.List:
    return fields.List(fields.String(validate=validate.OneOf(list(options), error="请从列表中选择")),
                       load_default=list, validate=validate.Length(min=min_items, error=f"至少选择{min_items}项"),
                       error_messages=_MESSAGES, metadata=_meta(label, choices=dict(options), widget="checkboxes"))


def people(label: str, schema: type[Schema], *, min_items: int = 0, role: str | None = None) -> fields.List:
    """People picked from the directory (``role``: only staff with that role are offered and accepted)."""
    extra: dict[str, Any] = {"required": True} if min_items > 0 else {"load_default": list}
    return fields.List(fields.Nested(schema), **extra,
                       validate=validate.Length(min=min_items, error=f"至少{min_items}人"),
                       error_messages=_MESSAGES, metadata=_meta(label, widget="people", role=role))


def user_ids(label: str, *, min_items: int = 0, role: str | None = None) -> fields.List:
    """Staff picked by id (``role``: only staff with that role are offered and accepted)."""
    return fields.List(fields.String(validate=validate.Length(min=1, max=100)), load_default=list,
                       validate=validate.Length(min=min_items, error=f"至少{min_items}人"),
                       error_messages=_MESSAGES, metadata=_meta(label, widget="users", role=role))


def valid_credit_code(code: str) -> bool:
    """GB 32100-2015 统一社会信用代码: 18 characters, the last a mod-31 check character."""
    code = code.upper()
    if len(code) != 18 or any(ch not in CREDIT_CODE_CHARS for ch in code):
        return False
    total = sum(CREDIT_CODE_CHARS.index(ch) * w for ch, w in zip(code[:17], CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_CHARS[(31 - total % 31) % 31] == code[17]


def credit_code(label: str = "统一社会信用代码") -> fields.String:
    def check(value: str) -> None:
        if value and not valid_credit_code(value):
            raise ValidationError("统一社会信用代码不正确（18位，末位校验码不符）")

    return fields.String(load_default="", validate=check, metadata=_meta(label))


def evidence_files(label: str = "证据材料") -> fields.List:
    return fields.List(fields.Nested(EvidenceFile), load_default=list, metadata=_meta(label, widget="files"))


class EvidenceFile(Schema):
    """An uploaded file, already stored by the web layer (``processes.penalty.storage.store_blob``).

    Its names are display text: control characters (CR/LF included) and paths are dropped before
    validation, as on upload, so a client's name can break neither a download header nor the
    deliberation record's schema."""

    @pre_load
    def _clean_names(self, data: Any, **_kwargs: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            for key in ("title", "file_name"):
                if isinstance(data.get(key), str):
                    data[key] = safe_filename(data[key]) if data[key].strip() else ""
        return data

    title = text("证据名称", max_length=200)
    file_name = text("文件名", max_length=200)
    sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$", error="不是SHA-256值"),
                           metadata=_meta("SHA-256"))


class Officer(Schema):
    user_id = text("用户", max_length=100)
    name = text("姓名", max_length=50)
    certificate_no = text("执法证号", max_length=50)


class Participant(Schema):
    """A head taking part in the collective discussion (Art. 57), picked from the directory."""

    user_id = text("用户", max_length=100)
    name = text("姓名", max_length=50)


class Member(Schema):
    user_id = text("用户", max_length=100)
    name = text("姓名", max_length=50)
    role = choice("合议角色", {"主持人": "主持人", "承办人": "承办人", "成员": "成员", "法制审核员": "法制审核员"})

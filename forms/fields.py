"""Form fields: marshmallow fields that know their widget, Chinese label and help text.

A field deserializes to what the engine stores (JSON values: dates as ISO strings, money as a
float rounded to fen, choices as their typed value), so ``schema.load`` output goes to
``complete_task`` unchanged, whether it came from an HTML post (strings) or API JSON (typed).
The metadata carries ``title``/``description`` and ``x-widget`` so the OpenAPI document and the
HTML renderer read the same schema. Labels and messages are Chinese, the source text; the web shows
them in English through its domain catalog when a person chose English (``web.i18n.domain_text``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, cast
from zoneinfo import ZoneInfo

from marshmallow import ValidationError, fields, types

from .names import safe_filename

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
MONEY_LIMIT = Decimal(10) ** 12
MESSAGES = {
    "required": "此项为必填项",
    "null": "此项为必填项",
    "validator_failed": "输入无效",
    "invalid": "格式不正确",
}
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CREDIT_CODE_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
USER_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,49}$")


def _meta(widget: str, label: str, help_text: str, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"title": label, "x-widget": widget, "x-label": label}
    if help_text:
        meta["description"] = help_text
        meta["x-help"] = help_text
    meta.update(extra or {})
    return meta


class _Widget:
    """Mixin: Chinese error messages and the widget metadata every form field carries."""

    widget = "text"
    default_error_messages: types.ErrorMessages = MESSAGES  # type: ignore[assignment]

    def _init_meta(self, label: str, help_text: str, extra: Mapping[str, Any] | None) -> dict[str, Any]:
        return _meta(self.widget, label, help_text, extra)


class Text(_Widget, fields.String):
    """One line of text, whitespace trimmed, control characters refused."""

    widget = "text"

    def __init__(self, label: str, *, help: str = "", required: bool = False,
                 max_length: int = 200, min_length: int = 0, **kwargs: Any) -> None:
        self.max_length, self.min_length = max_length, min_length
        super().__init__(required=required, metadata=self._init_meta(label, help, {"maxLength": max_length}),
                         **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> str:
        if not isinstance(value, str):
            raise ValidationError("应为文字")
        text = value.strip().replace("\r\n", "\n")
        if _CONTROL_RE.search(text):
            raise ValidationError("含有不允许的控制字符")
        if not text and self.required:
            raise ValidationError(MESSAGES["required"])
        if len(text) > self.max_length:
            raise ValidationError(f"不能超过{self.max_length}个字")
        if len(text) < self.min_length:
            raise ValidationError(f"至少{self.min_length}个字")
        return text


class TextArea(Text):
    widget = "textarea"

    def __init__(self, label: str, *, max_length: int = 5000, **kwargs: Any) -> None:
        super().__init__(label, max_length=max_length, **kwargs)


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValidationError("应为数字")
    text = str(value).strip().replace(",", "").replace("，", "").lstrip("¥￥")
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise ValidationError("应为数字") from exc
    if not number.is_finite():
        raise ValidationError("应为数字")
    return number


class Number(_Widget, fields.Float):
    """A number (integer unless ``integer=False``) within optional bounds."""

    widget = "number"

    def __init__(self, label: str, *, help: str = "", required: bool = False,
                 minimum: float | None = None, maximum: float | None = None, integer: bool = True,
                 **kwargs: Any) -> None:
        self.minimum, self.maximum, self.integer = minimum, maximum, integer
        extra: dict[str, Any] = {"type": "integer" if integer else "number"}
        if minimum is not None:
            extra["minimum"] = minimum
        if maximum is not None:
            extra["maximum"] = maximum
        super().__init__(required=required, metadata=self._init_meta(label, help, extra), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None,
                     **kwargs: Any) -> int | float:
        number = _decimal(value)
        if self.integer and number != number.to_integral_value():
            raise ValidationError("应为整数")
        if self.minimum is not None and number < Decimal(str(self.minimum)):
            raise ValidationError(f"不能小于{self.minimum}")
        if self.maximum is not None and number > Decimal(str(self.maximum)):
            raise ValidationError(f"不能大于{self.maximum}")
        return int(number) if self.integer else float(number)


class Money(_Widget, fields.Decimal):
    """An amount in yuan with at most 2 decimals (fen), stored as a float rounded to fen.

    Floats keep BPMN conditions simple (``amount > 10000``) and round-trip through JSON exactly
    below 10^13 yuan, as ``engine.sandbox.yuan`` documents.
    """

    widget = "money"

    def __init__(self, label: str, *, help: str = "", required: bool = False,
                 minimum: float = 0, maximum: float | None = None, **kwargs: Any) -> None:
        self.minimum, self.maximum = Decimal(str(minimum)), Decimal(str(maximum)) if maximum is not None else None
        extra: dict[str, Any] = {"type": "number", "minimum": minimum, "multipleOf": 0.01}
        if maximum is not None:
            extra["maximum"] = maximum
        super().__init__(required=required, metadata=self._init_meta(label, help, extra), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None,  # type: ignore[override]
                     **kwargs: Any) -> float:
        amount = _decimal(value)
        if amount != amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP):
            raise ValidationError("金额最多保留两位小数（元，精确到分）")
        if amount < self.minimum:
            raise ValidationError(f"金额不能小于{self.minimum}元")
        if self.maximum is not None and amount > self.maximum:
            raise ValidationError(f"金额不能大于{self.maximum}元")
        if abs(amount) >= MONEY_LIMIT:
            raise ValidationError("金额超出范围")
        return float(amount.quantize(Decimal("0.01")))


class DateField(_Widget, fields.Date):
    """A calendar date (``YYYY-MM-DD``), optionally not after today (e.g. a violation date)."""

    widget = "date"

    def __init__(self, label: str, *, help: str = "", required: bool = False,
                 not_future: bool = False, **kwargs: Any) -> None:
        self.not_future = not_future
        super().__init__(required=required, metadata=self._init_meta(label, help, {"format": "date"}), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None,  # type: ignore[override]
                     **kwargs: Any) -> str:
        if isinstance(value, date) and not isinstance(value, datetime):
            day = value
        elif isinstance(value, str):
            try:
                day = date.fromisoformat(value.strip())
            except ValueError as exc:
                raise ValidationError("日期格式应为 年-月-日，例如 2026-03-02") from exc
        else:
            raise ValidationError("日期格式应为 年-月-日，例如 2026-03-02")
        if not 1900 <= day.year <= 2200:
            raise ValidationError("日期超出范围")
        if self.not_future and day > datetime.now(LOCAL_TZ).date():
            raise ValidationError("日期不能晚于今天")
        return day.isoformat()


class DateTimeField(_Widget, fields.DateTime):
    """A moment; a time without offset is China local time. Stored as ISO with +08:00."""

    widget = "datetime"

    def __init__(self, label: str, *, help: str = "", required: bool = False,
                 not_future: bool = False, **kwargs: Any) -> None:
        self.not_future = not_future
        super().__init__(required=required, metadata=self._init_meta(label, help, {"format": "date-time"}),
                         **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None,  # type: ignore[override]
                     **kwargs: Any) -> str:
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value.strip())
            except ValueError as exc:
                raise ValidationError("时间格式应为 年-月-日 时:分，例如 2026-03-02 09:30") from exc
        else:
            raise ValidationError("时间格式应为 年-月-日 时:分，例如 2026-03-02 09:30")
        if not 1900 <= moment.year <= 2200:
            raise ValidationError("时间超出范围")
        moment = (moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TZ)).astimezone(LOCAL_TZ)
        if self.not_future and moment > datetime.now(LOCAL_TZ):
            raise ValidationError("时间不能晚于现在")
        return moment.isoformat(timespec="minutes" if moment.second == 0 else "seconds")


Choice = tuple[Any, str]


def html_value(value: Any) -> str:
    """How a choice's typed value travels in an HTML form."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Select(_Widget, fields.Raw):
    """One of fixed choices ``[(value, label), ...]``; the typed value is stored."""

    widget = "select"

    def __init__(self, label: str, choices: Sequence[Choice], *, help: str = "",
                 required: bool = False, **kwargs: Any) -> None:
        self.choices = list(choices)
        self._by_html = {html_value(v): v for v, _label in self.choices}
        values = [v for v, _label in self.choices]
        kind = "boolean" if all(isinstance(v, bool) for v in values) else \
            "integer" if all(isinstance(v, int) and not isinstance(v, bool) for v in values) else "string"
        extra = {"enum": values, "type": kind, "x-choices": [{"value": v, "label": lb} for v, lb in self.choices]}
        super().__init__(required=required, metadata=self._init_meta(label, help, extra), **kwargs)

    def choose(self, value: Any) -> Any:
        for v, _label in self.choices:
            if type(v) is type(value) and v == value:
                return v
        if isinstance(value, str) and value.strip() in self._by_html:
            return self._by_html[value.strip()]
        raise ValidationError("请从列表中选择")

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> Any:
        return self.choose(value)


class MultiSelect(Select):
    """Several of fixed choices; stored as a list in the order of the choices."""

    widget = "multiselect"

    def __init__(self, label: str, choices: Sequence[Choice], *, min_items: int = 0,
                 max_items: int | None = None, **kwargs: Any) -> None:
        self.min_items, self.max_items = min_items, max_items
        super().__init__(label, choices, **kwargs)
        meta = cast(dict[str, Any], self.metadata)
        enum = meta.pop("enum")
        meta["items"] = {"type": meta.pop("type"), "enum": enum}
        meta.update({"type": "array", "uniqueItems": True, "minItems": min_items})
        if max_items is not None:
            meta["maxItems"] = max_items

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None,
                     **kwargs: Any) -> list[Any]:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            raise ValidationError("应为选项列表")
        chosen = {html_value(self.choose(item)) for item in items}
        if self.required and not chosen:
            raise ValidationError(MESSAGES["required"])
        if len(chosen) < self.min_items:
            raise ValidationError(f"至少选择{self.min_items}项")
        if self.max_items is not None and len(chosen) > self.max_items:
            raise ValidationError(f"最多选择{self.max_items}项")
        return [v for v, _label in self.choices if html_value(v) in chosen]


class EntityPicker(_Widget, fields.String):
    """A supervised entity by its 统一社会信用代码; that it exists and is visible is checked with
    the caller's directory (``forms.References``) after the schema has loaded."""

    widget = "entity"

    def __init__(self, label: str, *, help: str = "", required: bool = False, **kwargs: Any) -> None:
        super().__init__(required=required, metadata=self._init_meta(label, help, {"pattern": CREDIT_CODE_RE.pattern}),
                         **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> str:
        if not isinstance(value, str) or not CREDIT_CODE_RE.match(value.strip().upper()):
            raise ValidationError("请选择被监督单位（18位统一社会信用代码）")
        return value.strip().upper()


class StaffPicker(_Widget, fields.Raw):
    """One staff member (or several with ``many=True``) by login name, optionally of one role."""

    widget = "staff"

    def __init__(self, label: str, *, role: str | None = None, many: bool = False, min_items: int = 0,
                 help: str = "", required: bool = False, **kwargs: Any) -> None:
        self.role, self.many, self.min_items = role, many, min_items
        item = {"type": "string", "pattern": USER_ID_RE.pattern}
        extra: dict[str, Any] = {"type": "array", "items": item, "minItems": min_items} if many else dict(item)
        extra["x-role"] = role
        super().__init__(required=required, metadata=self._init_meta(label, help, extra), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None,
                     **kwargs: Any) -> str | list[str]:
        items = value if isinstance(value, list | tuple) else [value]
        ids: list[str] = []
        for item in items:
            if not isinstance(item, str) or not USER_ID_RE.match(item.strip()):
                raise ValidationError("请选择人员")
            if item.strip() not in ids:
                ids.append(item.strip())
        if not self.many:
            if len(ids) != 1:
                raise ValidationError("请选择一名人员")
            return ids[0]
        if len(ids) < self.min_items:
            raise ValidationError(f"至少选择{self.min_items}人")
        return ids


class FileUpload(_Widget, fields.Raw):
    """An uploaded file, referred to by its SHA-256: ``{"sha256": ..., "filename": ...}``.

    HTML posts upload the file with the form (the web layer stores it first); API clients
    upload to ``/api/v1/uploads`` and send the returned descriptor. Size and type are checked
    against the stored bytes (``forms.References.file_info``), never the client's claim.
    """

    widget = "file"

    def __init__(self, label: str, *, accept: Sequence[str] = ("pdf", "jpg", "png"), max_bytes: int | None = None,
                 help: str = "", required: bool = False, **kwargs: Any) -> None:
        self.accept, self.max_bytes = tuple(accept), max_bytes
        extra = {"type": "object", "x-accept": list(self.accept), "x-max-bytes": max_bytes,
                 "properties": {"sha256": {"type": "string", "pattern": SHA256_RE.pattern},
                                "filename": {"type": "string"}}}
        super().__init__(required=required, metadata=self._init_meta(label, help, extra), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None,
                     **kwargs: Any) -> dict[str, Any]:
        if isinstance(value, str):
            value = {"sha256": value}
        if not isinstance(value, Mapping):
            raise ValidationError("请上传文件")
        sha = str(value.get("sha256") or "").strip().lower()
        if not SHA256_RE.match(sha):
            raise ValidationError("文件标识（SHA-256）不正确")
        name = value.get("filename")
        # A display name only: control characters (CR/LF included) and any path are dropped, as
        # on upload, so that no download header or document can be broken by a client's name.
        filename = safe_filename(name) if isinstance(name, str) and name.strip() else sha[:12]
        return {"sha256": sha, "filename": filename}

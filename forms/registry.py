"""The form registry: one marshmallow schema per user-task form key, and validating a submission.

BPMN names a form by key (``formKey``); a process package registers its schemas with
``@register_form("lead.register", title=...)``. ``validate_submission`` is the one path both
the HTML views and the JSON API use: field errors come back keyed by field name (in Chinese),
and nothing is written when there are any.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, cast

from marshmallow import RAISE, Schema, ValidationError, validate
from marshmallow import fields as mfields

from .fields import LOCAL_TZ, EntityPicker, FileUpload, Number, Select, StaffPicker, Text, html_value


class FormSchema(Schema):
    """Base of every task form: unknown fields are refused, not silently dropped."""

    class Meta:
        unknown = RAISE


@dataclass(frozen=True)
class RegisteredForm:
    key: str
    title: str
    schema: type[Schema]
    description: str = ""


_FORMS: dict[str, RegisteredForm] = {}


def register_form(key: str, title: str = "", description: str = "") -> Callable[[type[Schema]], type[Schema]]:
    """Register a schema class as the form of ``key`` (a user task's ``formKey``)."""

    def decorate(schema: type[Schema]) -> type[Schema]:
        existing = _FORMS.get(key)
        if existing is not None and existing.schema.__qualname__ != schema.__qualname__:
            raise ValueError(f"form {key!r} is already registered by {existing.schema.__qualname__}")
        _FORMS[key] = RegisteredForm(key, title or key, schema, description or (schema.__doc__ or "").strip())
        return schema

    return decorate


def get_form(key: str | None) -> RegisteredForm | None:
    return _FORMS.get(key) if key else None


def registered_forms() -> list[RegisteredForm]:
    return sorted(_FORMS.values(), key=lambda f: f.key)


@dataclass(frozen=True)
class FieldSpec:
    """What the renderer needs to draw one field (read from the schema's field objects)."""

    name: str
    label: str
    help: str
    widget: str
    required: bool
    choices: list[tuple[str, str]] = field(default_factory=list)
    multiple: bool = False
    attrs: dict[str, Any] = field(default_factory=dict)


WIDGET_ALIASES = {"checkboxes": "multiselect", "users": "staff", "radio": "select"}
PEOPLE_ROWS = 6  # rows of a people picker (a filing names 2 officers, a deliberation 3 to 5 members)


def _choices(f: Any) -> list[tuple[str, str]]:
    """Choices of a field: our ``Select``, a ``choices`` metadata mapping, or a ``OneOf`` validator."""
    if isinstance(f, Select):
        return [(html_value(v), label) for v, label in f.choices]
    declared = f.metadata.get("choices")
    if isinstance(declared, Mapping):
        return [(html_value(k), str(v)) for k, v in declared.items()]
    if isinstance(declared, list | tuple):
        return [(html_value(k), str(v)) for k, v in declared]
    target = f.inner if isinstance(f, mfields.List) else f
    for validator in getattr(target, "validators", []):
        if isinstance(validator, validate.OneOf):
            labels = list(validator.labels) if validator.labels else [str(c) for c in validator.choices]
            return [(html_value(c), str(lb)) for c, lb in zip(validator.choices, labels, strict=False)]
    return []


def _widget(f: Any, has_choices: bool) -> str:
    """The widget named in the field's metadata, else one inferred from the marshmallow type, so
    plain marshmallow schemas render too."""
    named = f.metadata.get("x-widget") or f.metadata.get("widget")
    if named:
        return WIDGET_ALIASES.get(str(named), str(named))
    if isinstance(f, mfields.List):
        return "multiselect" if has_choices else "json"
    by_type = ((mfields.Boolean, "checkbox"), (mfields.DateTime, "datetime"), (mfields.Date, "date"),
               (mfields.Number, "number"), (mfields.Nested, "json"), (mfields.Dict, "json"))
    for kind, widget in by_type:
        if isinstance(f, kind):
            return widget
    return "select" if has_choices else "text"


def _limits(f: Any) -> dict[str, Any]:
    """The browser-side hints that mirror the server's checks: ``maxlength`` of text (our ``Text``
    or any String with a ``Length`` validator), ``minimum``/``maximum`` of numbers (metadata or an
    inclusive ``Range``), and ``maximum`` = today for a date that may not be in the future."""
    out: dict[str, Any] = {}
    validators = list(getattr(f, "validators", []))
    if isinstance(f, Text):
        out["maxlength"] = f.max_length
    elif isinstance(f, mfields.String):
        maxes = [v.max for v in validators if isinstance(v, validate.Length) and v.max is not None]
        if maxes:
            out["maxlength"] = min(maxes)
    for key in ("minimum", "maximum"):
        if key in f.metadata:
            out[key] = f.metadata[key]
    if isinstance(f, mfields.Number):
        for v in validators:
            if isinstance(v, validate.Range):
                if v.min is not None and v.min_inclusive:
                    out["minimum"] = max(out.get("minimum", v.min), v.min)
                if v.max is not None and v.max_inclusive:
                    out["maximum"] = min(out.get("maximum", v.max), v.max)
    if isinstance(f, mfields.Date | mfields.DateTime) and (
            getattr(f, "not_future", False) or f.metadata.get("not_future")
            or any(getattr(v, "not_future", False) for v in validators)):
        today = datetime.now(LOCAL_TZ).date().isoformat()
        out["maximum"] = today if not isinstance(f, mfields.DateTime) else f"{today}T23:59"
    return out


def describe(schema: type[Schema] | Schema) -> list[FieldSpec]:
    """The fields of a form as the renderer needs them, in declaration order."""
    instance = schema() if isinstance(schema, type) else schema
    specs = []
    for name, f in instance.fields.items():
        if f.dump_only:
            continue
        meta = f.metadata
        choices = _choices(f)
        widget = _widget(f, bool(choices))
        # a box that means yes unless unticked (load_default True) is drawn ticked
        attrs: dict[str, Any] = {"checked": True} if widget == "checkbox" and f.load_default is True else {}
        attrs.update(_limits(f))
        if isinstance(f, Number):
            attrs["integer"] = f.integer
        elif isinstance(f, mfields.Integer):
            attrs["integer"] = True
        elif isinstance(f, mfields.Number):
            attrs["integer"] = False
        if isinstance(f, FileUpload):
            attrs.update(accept=list(f.accept), max_bytes=f.max_bytes)
        if isinstance(f, StaffPicker):
            attrs["role"] = f.role
        if widget == "people":
            # People picked from the directory (a list, or one person for a single Nested): the
            # web layer fills each name and certificate number from there; a ``role`` sub-field
            # becomes a choice per row.
            single = isinstance(f, mfields.Nested)
            nested = f.schema if isinstance(f, mfields.Nested) else cast(Any, f).inner.schema
            attrs.update(subfields=list(nested.fields), rows=1 if single else PEOPLE_ROWS, single=single,
                         roles=_choices(nested.fields["role"]) if "role" in nested.fields else [])
        if widget in ("staffnames", "staff") or (widget == "people" and meta.get("role")):
            attrs.setdefault("role", meta.get("role"))  # only staff with this role are offered (and accepted)
        many_staff = isinstance(f, mfields.List) or (isinstance(f, StaffPicker) and f.many)
        multiple = widget in ("multiselect", "staffnames") or (widget == "people" and not attrs.get("single")) \
            or (widget == "staff" and many_staff)
        label = meta.get("x-label") or meta.get("label") or meta.get("title") or name
        help_text = meta.get("x-help") or meta.get("help") or meta.get("description") or ""
        specs.append(FieldSpec(name, str(label), str(help_text), widget, f.required, choices, multiple, attrs))
    return specs


def format_value(spec: FieldSpec | None, value: Any) -> str:
    """A stored value as a person reads it: choice labels, yuan with fen, 是/否, file name and hash."""
    if isinstance(value, list):
        return "、".join(format_value(spec, v) for v in value)
    if spec is not None and spec.choices:
        return dict(spec.choices).get(html_value(value), str(value))
    if isinstance(value, bool):
        text = "是" if value else "否"
    elif spec is not None and spec.widget == "money" and isinstance(value, int | float):
        text = f"{value:,.2f} 元"
    elif isinstance(value, Mapping) and "sha256" in value:
        text = f"{value.get('filename', '')}（SHA-256 {value['sha256']}）"
    elif isinstance(value, Mapping):
        text = ", ".join(f"{k}: {format_value(None, v)}" for k, v in value.items())
    else:
        text = "" if value is None else str(value)
    return text


@dataclass(frozen=True)
class FileInfo:
    size: int
    content_type: str
    kind: str  # the sniffed type: "pdf", "jpg", ...


class References(Protocol):
    """What a form needs to know about the world, supplied by the caller (the web layer).

    Keeps ``forms/`` free of database imports: the directory and the upload store answer.
    """

    def entity_visible(self, credit_code: str) -> bool: ...

    def staff_visible(self, user_id: str, role: str | None) -> bool: ...

    def file_info(self, sha256: str) -> FileInfo | None: ...

    def max_upload_bytes(self) -> int: ...


Errors = dict[str, list[str]]


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or \
        (isinstance(value, list | tuple) and not [v for v in value if not _blank(v)])


def validate_submission(form: RegisteredForm | type[Schema], raw: Mapping[str, Any],
                        refs: References) -> tuple[dict[str, Any], Errors]:
    """Validate ``raw`` (HTML post or API JSON) against a form; returns (data, errors).

    Blank optional values are dropped (an empty HTML input means "not given"); references to
    entities, staff and uploaded files are checked against ``refs`` so an id from another unit
    is refused like one that does not exist.
    """
    schema_cls = form.schema if isinstance(form, RegisteredForm) else form
    schema = schema_cls()
    if not isinstance(raw, Mapping):
        return {}, {"_schema": ["提交的数据应为对象"]}
    cleaned = {k: v for k, v in raw.items() if not _blank(v)}
    try:
        data: dict[str, Any] = schema.load(cleaned)
    except ValidationError as exc:
        return {}, _flatten(exc.messages, schema)
    errors: Errors = {}
    for name, f in schema.fields.items():
        if name not in data:
            continue
        problem = _check_reference(f, data[name], refs)
        if problem:
            errors[name] = [problem]
    return (data, {}) if not errors else ({}, errors)


def _check_reference(f: Any, value: Any, refs: References) -> str | None:
    if isinstance(f, EntityPicker) and not refs.entity_visible(value):
        return "未找到该被监督单位，或不在您的管辖范围内"
    if isinstance(f, StaffPicker):
        for user_id in value if isinstance(value, list) else [value]:
            if not refs.staff_visible(user_id, f.role):
                return f"未找到人员 {user_id}，或其不具备所需角色"
    if isinstance(f, FileUpload):
        info = refs.file_info(value["sha256"])
        if info is None:
            return "文件未上传或已丢失，请重新上传"
        if info.kind not in f.accept:
            return f"文件类型不允许，只接受：{'、'.join(f.accept)}"
        limit = f.max_bytes or refs.max_upload_bytes()
        if info.size > limit:
            return f"文件超过大小限制（{limit // (1024 * 1024) or 1} MB）"
        value.update(size=info.size, content_type=info.content_type)
    return None


# marshmallow's own English messages, as the sentences a person reads (the schemas' own are Chinese)
ENGLISH_MESSAGES = {
    "Invalid input type.": "格式不正确", "Unknown field.": "不允许的字段", "Not a valid list.": "应为列表",
    "Missing data for required field.": "此项必填", "Field may not be null.": "此项必填",
    "Not a valid string.": "应为文字", "Not a valid mapping type.": "格式不正确", "Not a valid date.": "不是有效日期",
    "Not a valid datetime.": "不是有效的日期时间", "Not a valid number.": "应为数字",
    "Not a valid integer.": "应为整数", "Not a valid boolean.": "应为是或否", "Invalid value.": "输入无效",
}


def _label(f: Any, name: str) -> str:
    meta = getattr(f, "metadata", {}) or {}
    return str(meta.get("x-label") or meta.get("label") or meta.get("title") or name)


def _sub_schema(f: Any) -> Schema | None:
    """The schema of a Nested field, or of a List of Nested (whose rows the messages number)."""
    target = f.inner if isinstance(f, mfields.List) else f
    return target.schema if isinstance(target, mfields.Nested) else None


def _sentences(messages: Any, schema: Schema | None) -> list[tuple[str, str]]:
    """The messages of one field as (where, message): a list's rows and items by number (第1行), a
    nested object's fields by label, marshmallow's English in Chinese; never a serialised structure."""
    if isinstance(messages, str):
        return [("", ENGLISH_MESSAGES.get(messages, messages))]
    if isinstance(messages, list | tuple):
        return [s for m in messages for s in _sentences(m, schema)]
    if not isinstance(messages, Mapping):
        return [("", str(messages))]
    found: list[tuple[str, str]] = []
    for key, value in messages.items():
        if isinstance(key, int):  # a row of a list: numbered from 1, as a person counts
            where = f"第{key + 1}{'行' if isinstance(value, Mapping) or schema is not None else '项'}"
            found.extend((f"{where} {w}".strip(), m) for w, m in _sentences(value, schema))
            continue
        f = schema.fields.get(str(key)) if schema is not None else None
        inner = _sentences(value, _sub_schema(f) if f is not None else None)
        if key == "_schema" or (f is None and schema is None):
            found.extend(inner)
        else:
            found.extend((f"{_label(f, str(key))} {w}".strip(), m) for w, m in inner)
    return found


def _flatten(messages: Any, form: RegisteredForm | type[Schema] | Schema | None = None) -> Errors:
    """marshmallow's messages as {field: [sentence, ...]}: a nested row's problem names the row and
    the field by its label (第1行 姓名：此项必填) when the form's schema is given."""
    if not isinstance(messages, Mapping):
        return {"_schema": [m for _w, m in _sentences(messages, None)]}
    schema_of = form.schema if isinstance(form, RegisteredForm) else form
    schema = schema_of() if isinstance(schema_of, type) else schema_of
    out: Errors = {}
    for name, value in messages.items():
        f = schema.fields.get(str(name)) if schema is not None else None
        found = _sentences(value, _sub_schema(f) if f is not None else None)
        out[str(name)] = [f"{where}：{message}" if where else message for where, message in found]
    return out

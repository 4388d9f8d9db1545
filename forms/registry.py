"""The form registry: one marshmallow schema per user-task form key, and validating a submission.

BPMN names a form by key (``formKey``); a process package registers its schemas with
``@register_form("lead.register", title=...)``. ``validate_submission`` is the one path both
the HTML views and the JSON API use: field errors come back keyed by field name (in Chinese),
and nothing is written when there are any.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from marshmallow import RAISE, Schema, ValidationError, validate
from marshmallow import fields as mfields

from .fields import EntityPicker, FileUpload, Number, Select, StaffPicker, Text, html_value


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
        if isinstance(f, Text):
            attrs["maxlength"] = f.max_length
        for key in ("minimum", "maximum"):
            if key in meta:
                attrs[key] = meta[key]
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
        return {}, _flatten(exc.messages)
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


def _flatten(messages: Any) -> Errors:
    """marshmallow's nested messages as {field: [message, ...]} (unknown fields in Chinese)."""
    out: Errors = {}
    if not isinstance(messages, Mapping):
        return {"_schema": [str(messages)]}
    for name, value in messages.items():
        items = value if isinstance(value, list) else [value]
        texts: list[str] = []
        for item in items:
            if isinstance(item, Mapping):
                texts.extend(str(m) for sub in item.values() for m in (sub if isinstance(sub, list) else [sub]))
            elif item == "Unknown field.":
                texts.append("不允许的字段")
            else:
                texts.append(str(item))
        out[str(name)] = texts
    return out

"""Request and response schemas of the JSON API (they also generate its OpenAPI document)."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, fields, validate

from processes.directory.models import ENTITY_CATEGORIES


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


class ApiErrorSchema(Schema):
    code = fields.String(required=True, metadata={"description": "stable machine-readable code"})
    message = fields.String(required=True, metadata={"description": "human-readable message (UI language)"})
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                         metadata={"description": "field name → messages (422 only)"})


class MeSchema(Schema):
    id = fields.String()
    display_name = fields.String()
    unit_id = fields.String()
    roles = fields.List(fields.String())
    units = fields.List(fields.String(), metadata={"description": "the unit and every unit below it"})


class InboxArgs(StrictSchema):
    tab = fields.String(load_default="assigned",
                        validate=validate.OneOf(["assigned", "deferred", "delegated", "claimable", "overdue",
                                                 "completed"]))
    process = fields.String(validate=validate.Length(max=200))
    task = fields.String(validate=validate.Length(max=200))
    entity = fields.String(validate=validate.Length(max=18))
    due_from = fields.Date()
    due_to = fields.Date()
    order = fields.String(load_default="due", validate=validate.OneOf(["due", "-due"]))
    cursor = fields.String(validate=validate.Length(max=400))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))


class SavedFilterSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    params = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict,
                         metadata={"description": "the inbox query: tab, process, task, entity, due_from, "
                                                  "due_to, order"})

    class Meta:
        unknown = RAISE


class DeadlineSchema(Schema):
    due_at = fields.DateTime(allow_none=True)
    remaining_workdays = fields.Integer(allow_none=True)
    state = fields.String(metadata={"description": "overdue | soon (≤2 working days) | ok | empty"})
    uncertain = fields.Boolean(metadata={"description": "computed for a year whose holidays are not known yet"})


class TaskSummarySchema(Schema):
    id = fields.String()
    instance_id = fields.String()
    title = fields.String()
    task_name = fields.String()
    process_key = fields.String()
    process_name = fields.String()
    business_key = fields.String(allow_none=True)
    entity_id = fields.String(allow_none=True)
    entity_name = fields.String(allow_none=True)
    status = fields.String()
    assignee = fields.String(allow_none=True)
    assignee_name = fields.String(allow_none=True)
    candidate_role = fields.String(allow_none=True)
    form_key = fields.String(allow_none=True)
    deadline = fields.Nested(DeadlineSchema)
    completed_at = fields.DateTime(allow_none=True)


class InboxCountsSchema(Schema):
    assigned = fields.Integer()
    claimable = fields.Integer()
    overdue = fields.Integer()
    completed = fields.Integer()


class InboxPageSchema(Schema):
    items = fields.List(fields.Nested(TaskSummarySchema))
    next_cursor = fields.String(allow_none=True)
    counts = fields.Nested(InboxCountsSchema)


class FormFieldSchema(Schema):
    name = fields.String()
    label = fields.String()
    help = fields.String()
    widget = fields.String()
    required = fields.Boolean()
    multiple = fields.Boolean()
    choices = fields.List(fields.List(fields.String()))
    attrs = fields.Dict()


class FormSchema(Schema):
    key = fields.String()
    title = fields.String()
    description = fields.String()
    fields_ = fields.List(fields.Nested(FormFieldSchema), data_key="fields")


class TaskDetailSchema(TaskSummarySchema):
    instructions = fields.String(allow_none=True)
    form = fields.Nested(FormSchema, allow_none=True)
    can_complete = fields.Boolean()
    can_claim = fields.Boolean()
    can_reassign = fields.Boolean()


class CompleteSchema(StrictSchema):
    data = fields.Dict(load_default=dict, metadata={
        "description": "the form's fields (see components Form.<formKey> and GET /forms/{key})"})


class AssignSchema(StrictSchema):
    assignee = fields.String(required=True, validate=validate.Length(min=1, max=100))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class AuditEventSchema(Schema):
    seq = fields.Integer()
    action = fields.String()
    actor = fields.String()
    actor_name = fields.String()
    task_id = fields.String(allow_none=True)
    task_name = fields.String(allow_none=True)
    data = fields.Dict()
    created_at = fields.DateTime()
    hash = fields.String()


class DocumentSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    kind = fields.String()
    sha256 = fields.String()
    task_name = fields.String(allow_none=True)
    created_by = fields.String()
    created_at = fields.DateTime()
    url = fields.String()


class SignatureReportSchema(Schema):
    status = fields.String(metadata={"description": "VALID or INVALID"})
    reason = fields.String(allow_none=True)
    reason_text = fields.String(allow_none=True, metadata={"description": "the reason in Chinese"})
    detail = fields.String()
    signer_user_id = fields.String(allow_none=True)
    signer_name = fields.String(allow_none=True)
    role = fields.String(allow_none=True)
    signing_time = fields.String(allow_none=True)
    certificate_serial = fields.String(allow_none=True)
    signature_id = fields.Integer(allow_none=True)


class DeliberationSchema(Schema):
    record_id = fields.String()
    complete = fields.Boolean()
    record_problem = fields.String(allow_none=True)
    unsigned_members = fields.List(fields.String())
    signatures = fields.List(fields.Nested(SignatureReportSchema))


class CaseBaseSchema(Schema):
    """A case as the API returns it, without the process packages' members (see ``case_schema``)."""

    id = fields.String()
    process_key = fields.String()
    process_name = fields.String()
    version = fields.Integer()
    business_key = fields.String(allow_none=True)
    status = fields.String()
    unit_id = fields.String(allow_none=True)
    entity_id = fields.String(allow_none=True)
    entity_name = fields.String(allow_none=True)
    started_by = fields.String()
    started_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True)
    completed_elements = fields.List(fields.String())
    tasks = fields.List(fields.Nested(TaskSummarySchema))
    facts = fields.Dict()
    audit = fields.List(fields.Nested(AuditEventSchema))
    documents = fields.List(fields.Nested(DocumentSchema))


def case_schema(members: dict[str, str]) -> type[Schema]:
    """``CaseSchema``: the case with one object member per process package that adds one (name ->
    its description, from ``web.packages``), ``null`` for another package's case."""
    extra = {name: fields.Dict(allow_none=True, metadata={"description": text}) for name, text in members.items()}
    return type("CaseSchema", (CaseBaseSchema,), extra)


class StartCaseSchema(StrictSchema):
    process_key = fields.String(required=True, validate=validate.Length(min=1, max=200))
    entity_id = fields.String(required=True, validate=validate.Length(equal=18))
    business_key = fields.String(validate=validate.Length(max=100), metadata={"description": (
        "The sender's own reference (a hotline work order, say) for a process without a package of its own; "
        "unique (409 when a case has it), generated when left out. Refused (422) for a package's process: a "
        "penalty case number comes only from the numbering service.")})
    unit_id = fields.String(validate=validate.Length(max=64))


class EntityArgs(StrictSchema):
    q = fields.String(load_default="", validate=validate.Length(max=100))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))


class EntitySchema(Schema):
    credit_code = fields.String()
    name = fields.String()
    category = fields.String()
    address = fields.String(allow_none=True)
    region_code = fields.String(allow_none=True)
    legal_representative = fields.String(allow_none=True)
    licence_numbers = fields.List(fields.String())
    unit_id = fields.String()


class EntityCreateSchema(StrictSchema):
    credit_code = fields.String(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=300))
    category = fields.String(required=True)
    unit_id = fields.String(required=True)
    address = fields.String(validate=validate.Length(max=500))
    region_code = fields.String(validate=validate.Length(equal=6))
    legal_representative = fields.String(validate=validate.Length(max=100))
    licence_numbers = fields.List(fields.String(validate=validate.Length(max=100)), validate=validate.Length(max=20))


# Directory edits: the HTML forms load the same schemas (``web.directory``). Messages are Chinese,
# the source text, shown in English through the domain catalog; a missing key keeps its value.
_ZH: dict[str, str | list[Any] | dict[Any, Any]] = {"required": "此项为必填项", "null": "此项为必填项",
                                                    "invalid": "格式不正确"}
_REGION = validate.Regexp(r"^[1-9]\d{5}$", error="行政区划代码应为6位数字")


def _text(max_length: int, *, allow_none: bool = False, **kwargs: Any) -> fields.String:
    return fields.String(allow_none=allow_none, error_messages=_ZH,
                         validate=validate.Length(max=max_length, error="不能超过{max}个字"), **kwargs)


class EntityUpdateSchema(StrictSchema):
    """Particulars of an entity (PATCH: keys left out keep their values). ``credit_code`` corrects
    a mistyped code while no case refers to the entity; it must pass the GB 32100-2015 check and
    belong to no other entity."""

    credit_code = fields.String(error_messages=_ZH,
                                validate=validate.Length(equal=18, error="统一社会信用代码应为18位"))
    name = _text(300)
    category = fields.String(error_messages=_ZH, validate=validate.OneOf(ENTITY_CATEGORIES, error="请选择监督类别"))
    unit_id = _text(64)
    address = _text(500, allow_none=True)
    region_code = fields.String(allow_none=True, error_messages=_ZH, validate=_REGION)
    legal_representative = _text(100, allow_none=True)
    licence_numbers = fields.List(_text(100), error_messages=_ZH,
                                  validate=validate.Length(max=20, error="许可证号最多20个，每个不超过100个字"))


class UnitSchema(Schema):
    id = fields.String()
    name = fields.String()
    short_name = fields.String()
    level = fields.String()
    region_code = fields.String()
    parent_id = fields.String(allow_none=True)
    active = fields.Boolean()


class UnitUpdateSchema(StrictSchema):
    """A unit's editable particulars (PATCH: keys left out keep their values). ``active: false``
    deactivates a unit with no active staff, no active units below it and nothing open in it."""

    name = _text(200)
    short_name = _text(20, metadata={"description": "region short name used in document numbers"})
    region_code = fields.String(error_messages=_ZH, validate=_REGION)
    parent_id = fields.String(allow_none=True, error_messages=_ZH)
    active = fields.Boolean(error_messages=_ZH)


class CaseBriefSchema(Schema):
    id = fields.String()
    process_key = fields.String()
    business_key = fields.String(allow_none=True)
    status = fields.String()
    started_at = fields.DateTime()


class EntityDetailSchema(EntitySchema):
    cases = fields.List(fields.Nested(CaseBriefSchema))


class UploadSchema(Schema):
    sha256 = fields.String()
    filename = fields.String()
    size = fields.Integer()
    content_type = fields.String()


class IncidentSchema(Schema):
    id = fields.String()
    instance_id = fields.String()
    element_id = fields.String()
    operator = fields.String()
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    created_at = fields.DateTime()


class StalledSchema(Schema):
    id = fields.String()
    process_key = fields.String()
    business_key = fields.String(allow_none=True)
    unit_id = fields.String(allow_none=True)
    status = fields.String()
    updated_at = fields.DateTime()


class ResolveSchema(StrictSchema):
    note = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    result = fields.Raw(load_default=None, allow_none=True)


class AuditVerifySchema(Schema):
    ok = fields.Boolean()
    chains = fields.Integer()
    events = fields.Integer()
    first_broken = fields.String(allow_none=True)

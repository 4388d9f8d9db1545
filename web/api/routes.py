"""API endpoints for people's work: me, inbox, tasks, cases, entities, uploads, forms."""

from __future__ import annotations

from typing import Any

from flask import request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from engine import InvalidData, NotFound, PermissionDenied, TaskNotReady, assign, claim, unclaim
from engine import permissions as perm
from engine.db import utcnow
from engine.errors import ConflictError
from engine.models import HumanTask, ProcessInstance
from forms import RegisteredForm, UploadRejected, describe, get_form, registered_forms, validate_submission
from forms.uploads import KINDS
from integrations.celery_app import dispatch_after_commit
from processes.directory.files import grant_upload
from processes.directory.models import StoredFile, Unit
from processes.directory.services import DirectoryError, create_entity, display_names, search_entities
from processes.registry import StartRequest, package_for_process, start_process
from web import directory
from web.cases import unique_business_key
from web.casework import (
    CaseView,
    DirectoryRefs,
    InboxQuery,
    case_view,
    complete_with_form,
    deadline,
    entity_cases,
    load_inbox,
    process_names,
    startable_processes,
    upload_store,
    visible_entity,
    visible_instance,
    visible_task,
)
from web.errors import json_error
from web.extensions import dbs
from web.i18n import domain_text
from web.inbox import MAX_SAVED, saved_filters
from web.models import SavedFilter
from web.packages import api_case_members, discover_web, submit_form, submits_itself
from web.security import current_actor, current_db_user

from . import authenticate_api
from . import schemas as s

blp = Blueprint("api", __name__, description="Inbox, tasks, cases, entities and uploads")
blp.before_request(authenticate_api)
ERRORS = (401, 403, 404, 409, 422)
# The case JSON has one member per process package that adds one (``web.packages``).
CaseSchema = s.case_schema({p.name: p.api_case_description for p in discover_web() if p.api_case_body})


def _errors(*codes: int) -> Any:
    def decorate(view: Any) -> Any:
        for code in codes:
            view = blp.alt_response(code, schema=s.ApiErrorSchema, description="error")(view)
        return view
    return decorate


def commit() -> None:
    dbs().commit()
    dispatch_after_commit(dbs())


def task_summary(task: HumanTask, names: dict[str, str], people: dict[str, str]) -> dict[str, Any]:
    d = deadline(task.due_at, utcnow(), task.due_uncertain) if task.status == "ready" else None
    holder = task.assignee or (task.completed_by if task.status != "ready" else None)
    return {
        "id": task.id, "instance_id": task.instance_id, "title": domain_text(task.title), "task_name": task.task_name,
        "process_key": task.process_key, "process_name": domain_text(names.get(task.process_key, task.process_key)),
        "business_key": task.business_key, "entity_id": task.entity_id, "entity_name": task.entity_name,
        "status": task.status, "assignee": task.assignee, "assignee_name": people.get(holder or "", holder),
        "candidate_role": task.candidate_role, "form_key": task.form_key, "completed_at": task.completed_at,
        "deadline": {"due_at": task.due_at, "remaining_workdays": d.remaining if d else None,
                     "state": d.state if d else "", "uncertain": d.uncertain if d else False},
    }


def form_doc(form: RegisteredForm) -> dict[str, Any]:
    """A form's description in the UI language (the OpenAPI document keeps the Chinese source)."""
    fields = [{**spec.__dict__, "label": domain_text(spec.label), "help": domain_text(spec.help),
               "choices": [(value, domain_text(label)) for value, label in spec.choices]}
              for spec in describe(form.schema)]
    return {"key": form.key, "title": domain_text(form.title), "description": form.description, "fields_": fields}


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, s.MeSchema)
    @_errors(401)
    def get(self) -> dict[str, Any]:
        """Who the token or session acts as, with the units they see."""
        user = current_db_user()
        actor = current_actor()
        assert user is not None
        return {"id": user.id, "display_name": user.display_name, "unit_id": user.unit_id,
                "roles": sorted(actor.roles), "units": sorted(actor.unit_ids)}


@blp.route("/inbox")
class Inbox(MethodView):
    @blp.arguments(s.InboxArgs, location="query")
    @blp.response(200, s.InboxPageSchema)
    @_errors(401, 422)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """One inbox tab (assigned, claimable, overdue, completed), keyset-paged by due date."""
        actor = current_actor()
        result = load_inbox(actor, InboxQuery.parse(args), args.get("cursor"), args["limit"])
        names = result.process_names
        people = {row.task.assignee or row.task.completed_by or "": row.assignee_name for row in result.rows}
        return {"items": [task_summary(r.task, names, people) for r in result.rows],
                "next_cursor": result.next_cursor, "counts": result.counts}


@blp.route("/inbox/filters")
class SavedFilters(MethodView):
    @blp.response(200, s.SavedFilterSchema(many=True))
    @_errors(401)
    def get(self) -> list[SavedFilter]:
        """Your saved inbox filters."""
        return saved_filters(current_actor().user_id)

    @blp.arguments(s.SavedFilterSchema)
    @blp.response(201, s.SavedFilterSchema)
    @_errors(401, 422)
    def post(self, body: dict[str, Any]) -> Any:
        """Save (or replace, by name) an inbox filter."""
        actor = current_actor()
        try:
            params = InboxQuery.parse(body["params"]).params()
        except InvalidData as exc:
            return json_error(422, "invalid_data", exc.message, errors={"params": [exc.message]})
        row = dbs().scalar(select(SavedFilter).where(SavedFilter.user_id == actor.user_id,
                                                     SavedFilter.name == body["name"].strip()))
        if row is None:
            if len(saved_filters(actor.user_id)) >= MAX_SAVED:
                return json_error(422, "invalid_data", "too many saved filters", errors={"name": ["too many"]})
            row = SavedFilter(user_id=actor.user_id, name=body["name"].strip())
            dbs().add(row)
        row.params = params
        commit()
        return row


@blp.route("/inbox/filters/<int:filter_id>")
class SavedFilterItem(MethodView):
    @blp.response(204)
    @_errors(401, 404)
    def delete(self, filter_id: int) -> None:
        """Delete one of your saved filters (another user's is not found)."""
        row = dbs().get(SavedFilter, filter_id)
        if row is None or row.user_id != current_actor().user_id:
            raise NotFound("no such saved filter")
        dbs().delete(row)
        commit()


def _task_detail(task: HumanTask) -> dict[str, Any]:
    actor = current_actor()
    people = display_names(dbs(), [task.assignee, task.completed_by])
    body = task_summary(task, process_names(), people)
    form = get_form(task.form_key)
    ready = task.status == "ready"
    instructions = domain_text(task.instructions) if task.instructions else task.instructions
    body.update(instructions=instructions, form=form_doc(form) if form else None,
                can_complete=ready and perm.can_complete(actor, task), can_claim=ready and perm.can_claim(actor, task),
                can_reassign=ready and perm.can_reassign(actor, task))
    return body


@blp.route("/tasks/<task_id>")
class Task(MethodView):
    @blp.response(200, s.TaskDetailSchema)
    @_errors(401, 404)
    def get(self, task_id: str) -> dict[str, Any]:
        """A task with its form description (fields, widgets, labels) and what you may do with it."""
        return _task_detail(visible_task(current_actor(), task_id))


@blp.route("/tasks/<task_id>/complete")
class CompleteTask(MethodView):
    @blp.arguments(s.CompleteSchema)
    @blp.response(200, CaseSchema)
    @_errors(*ERRORS)
    def post(self, body: dict[str, Any], task_id: str) -> Any:
        """Complete a task with its form's data; 422 with per-field messages when invalid (nothing written)."""
        actor = current_actor()
        task = visible_task(actor, task_id)
        if task.status != "ready":
            raise TaskNotReady(f"task {task.title} is already {task.status}", task_id=task.id, status=task.status)
        if not perm.can_complete(actor, task):
            raise PermissionDenied("this task is not assigned to you or claimable by your roles in your units")
        form = get_form(task.form_key)
        if submits_itself(task.form_key):  # its process package checks it and completes the task
            instance, problems = submit_form(actor, task, form, body["data"])
            if instance is None:
                return json_error(422, "invalid_data", "some fields are not valid", errors=problems)
            commit()
            return case_body(case_view(actor, instance, with_unit=False))
        data: dict[str, Any] = {}
        if form is not None:
            data, errors = validate_submission(form, body["data"], DirectoryRefs(actor, task.instance_id))
            if errors:
                return json_error(422, "invalid_data", "some fields are not valid", errors=errors)
        elif body["data"]:
            return json_error(422, "invalid_data", "this task takes no data", errors={"data": ["no form"]})
        instance = complete_with_form(actor, task, form, data)
        commit()
        return case_body(case_view(actor, instance, with_unit=False))


@blp.route("/tasks/<task_id>/claim")
class ClaimTask(MethodView):
    @blp.response(200, s.TaskDetailSchema)
    @_errors(*ERRORS)
    def post(self, task_id: str) -> dict[str, Any]:
        """Take an unassigned task your roles may do in your units (409 when someone was faster)."""
        actor = current_actor()
        task = claim(dbs(), visible_task(actor, task_id).id, actor)
        commit()
        return _task_detail(task)


@blp.route("/tasks/<task_id>/unclaim")
class UnclaimTask(MethodView):
    @blp.response(200, s.TaskDetailSchema)
    @_errors(*ERRORS)
    def post(self, task_id: str) -> dict[str, Any]:
        """Give a task back (its holder, or a head of the unit)."""
        actor = current_actor()
        task = unclaim(dbs(), visible_task(actor, task_id).id, actor)
        commit()
        return _task_detail(task)


@blp.route("/tasks/<task_id>/assign")
class AssignTask(MethodView):
    @blp.arguments(s.AssignSchema)
    @blp.response(200, s.TaskDetailSchema)
    @_errors(*ERRORS)
    def post(self, body: dict[str, Any], task_id: str) -> Any:
        """A head (re)assigns a task within their units; the reason goes into the audit trail."""
        actor = current_actor()
        task = visible_task(actor, task_id)
        if task.status == "ready" and not perm.can_reassign(actor, task):
            raise PermissionDenied("only a head of this unit may reassign tasks")
        if not DirectoryRefs(actor).staff_visible(body["assignee"], task.candidate_role):
            return json_error(422, "invalid_data", "unknown assignee",
                              errors={"assignee": ["no such person with this task's role in your units"]})
        assign(dbs(), task.id, actor, body["assignee"], body["reason"])
        commit()
        return _task_detail(task)


def _case_key(process_key: str, typed: str | None) -> str | None:
    """A case's key: a process package numbers its own cases (a penalty case number comes only from
    the numbering service), so a key sent for one is refused; another process may carry the
    sender's own reference (a hotline work order, say) if no case has it, or gets a generated one."""
    if package_for_process(process_key) is not None:
        if typed:
            raise InvalidData("本流程的案件编号由系统按编号规则生成，不能自行填写", field="business_key")
        return None
    if typed is None:
        return unique_business_key()
    if dbs().scalar(select(ProcessInstance.id).where(ProcessInstance.business_key == typed).limit(1)) is not None:
        raise ConflictError(f"案件编号 {typed} 已被其他案件使用")
    return typed


def case_body(view: CaseView) -> dict[str, Any]:
    inst = view.instance
    names = process_names()
    return {
        "id": inst.id, "process_key": inst.process_key, "process_name": names.get(inst.process_key, inst.process_key),
        "version": view.definition.version if view.definition else None, "business_key": inst.business_key,
        "status": inst.status, "unit_id": inst.unit_id, "entity_id": inst.entity_id, "entity_name": inst.entity_name,
        "started_by": inst.started_by, "started_at": inst.started_at, "ended_at": inst.ended_at,
        "completed_elements": inst.completed_elements or [],
        "tasks": [task_summary(t, names, view.people) for t, _n, _d in view.tasks],
        "facts": {f.field: f.value for f in view.facts},
        "audit": [{"seq": e.seq, "action": e.action, "actor": e.actor, "actor_name": view.people.get(e.actor, e.actor),
                   "task_id": e.task_id, "task_name": e.task_name, "data": e.data, "created_at": e.created_at,
                   "hash": e.hash} for e in view.events],
        "documents": [{"id": d.id, "title": d.title, "kind": d.kind, "sha256": d.sha256, "task_name": d.task_name,
                       "created_by": d.created_by, "created_at": d.created_at,
                       "url": url_for("cases.document", document_id=d.id)} for d in view.documents],
        **api_case_members(current_actor(), inst),
    }


@blp.route("/cases")
class Cases(MethodView):
    @blp.arguments(s.StartCaseSchema)
    @blp.response(201, CaseSchema)
    @_errors(*ERRORS)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Start a case of a deployed process for an entity of your units."""
        actor = current_actor()
        entity = visible_entity(actor, body["entity_id"])
        definition = next((d for d in startable_processes(actor) if d.process_key == body["process_key"]), None)
        if definition is None:
            raise NotFound("no such process that you can start by hand")
        unit_id = body.get("unit_id") or entity.unit_id
        if not perm.can_start(actor, unit_id):
            raise PermissionDenied("you may not start cases in this unit")
        unit = dbs().get(Unit, unit_id)
        if unit is not None and not unit.active:
            raise InvalidData(f"单位 {unit.name} 已停用", field="unit_id")
        key = _case_key(definition.process_key, body.get("business_key") or None)
        # through the process's package, as the page does (a penalty case gets its case record)
        instance = start_process(dbs(), actor, StartRequest(
            definition.process_key, unit_id, unit.name if unit else "", (unit.short_name or "") if unit else "",
            entity.credit_code, entity.name, key))
        commit()
        return case_body(case_view(actor, instance, with_unit=False))


@blp.route("/cases/<instance_id>")
class Case(MethodView):
    @blp.response(200, CaseSchema)
    @_errors(401, 404)
    def get(self, instance_id: str) -> dict[str, Any]:
        """A case: header, current tasks, key facts, audit trail, documents (404 outside your units)."""
        actor = current_actor()
        return case_body(case_view(actor, visible_instance(actor, instance_id), with_unit=False))


def entity_body(entity: Any) -> dict[str, Any]:
    return {k: getattr(entity, k) for k in ("credit_code", "name", "category", "address", "region_code",
                                            "legal_representative", "licence_numbers", "unit_id")}


@blp.route("/entities")
class Entities(MethodView):
    @blp.arguments(s.EntityArgs, location="query")
    @blp.response(200, s.EntitySchema(many=True))
    @_errors(401, 422)
    def get(self, args: dict[str, Any]) -> list[dict[str, Any]]:
        """Entities of your units matching a name or credit-code prefix."""
        return [entity_body(e) for e in search_entities(dbs(), current_actor(), args["q"], args["limit"])]

    @blp.arguments(s.EntityCreateSchema)
    @blp.response(201, s.EntitySchema)
    @_errors(*ERRORS)
    def post(self, body: dict[str, Any]) -> Any:
        """Register an entity (统一社会信用代码 checked with its GB 32100-2015 check character)."""
        actor = current_actor()
        if not perm.can_see_unit(actor, body["unit_id"]):
            raise PermissionDenied("the supervising unit must be one of yours")
        try:
            entity = create_entity(dbs(), body["credit_code"], body["name"], body["category"], body["unit_id"],
                                   address=body.get("address"), region_code=body.get("region_code"),
                                   legal_representative=body.get("legal_representative"),
                                   licence_numbers=body.get("licence_numbers") or [])
        except DirectoryError as exc:
            dbs().rollback()
            return json_error(422, "invalid_data", exc.message, errors={exc.field or "_": [exc.message]})
        commit()
        return entity_body(entity)


@blp.route("/entities/<credit_code>")
class EntityDetail(MethodView):
    @blp.response(200, s.EntityDetailSchema)
    @_errors(401, 404)
    def get(self, credit_code: str) -> dict[str, Any]:
        """An entity and every case of it you may see (一户一档)."""
        actor = current_actor()
        entity = visible_entity(actor, credit_code)
        cases: list[ProcessInstance] = entity_cases(actor, entity.credit_code)
        return {**entity_body(entity), "cases": [{"id": c.id, "process_key": c.process_key,
                                                  "business_key": c.business_key, "status": c.status,
                                                  "started_at": c.started_at} for c in cases]}

    @blp.arguments(s.EntityUpdateSchema)
    @blp.response(200, s.EntitySchema)
    @_errors(*ERRORS)
    def patch(self, body: dict[str, Any], credit_code: str) -> Any:
        """Correct an entity's particulars, or a mistyped credit code before its first case
        (officers, heads and clerks of its units; audited)."""
        actor = current_actor()
        entity = visible_entity(actor, credit_code)
        try:
            directory.save_entity(dbs(), actor, entity, body)
        except DirectoryError as exc:
            dbs().rollback()
            return json_error(422, "invalid_data", exc.message, errors={exc.field or "_": [exc.message]})
        out = entity_body(entity)
        commit()
        return out


@blp.route("/uploads")
class Uploads(MethodView):
    @blp.response(201, s.UploadSchema)
    @_errors(401, 413, 422)
    def post(self) -> Any:
        """Upload one file (multipart field ``file``); send the returned descriptor in a form field."""
        from flask import current_app

        actor = current_actor()
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            return json_error(422, "invalid_data", "send the file as multipart field 'file'",
                              errors={"file": ["请上传文件"]})
        try:
            stored = upload_store().save(upload.stream, upload.filename, list(KINDS),
                                         current_app.config["UPLOAD_MAX_BYTES"])
        except UploadRejected as exc:
            return json_error(422, "invalid_upload", str(exc), errors={"file": [str(exc)]})
        if dbs().get(StoredFile, stored.sha256) is None:
            dbs().add(StoredFile(sha256=stored.sha256, size=stored.size, content_type=stored.content_type,
                                      filename=stored.filename, uploaded_by=actor.user_id))
        grant_upload(dbs(), stored.sha256, actor.user_id)
        commit()
        return {"sha256": stored.sha256, "filename": stored.filename, "size": stored.size,
                "content_type": stored.content_type}


@blp.route("/forms")
class Forms(MethodView):
    @blp.response(200, s.FormSchema(many=True))
    @_errors(401)
    def get(self) -> list[dict[str, Any]]:
        """Every registered task form with its fields."""
        return [form_doc(f) for f in registered_forms()]


@blp.route("/forms/<key>")
class FormDetail(MethodView):
    @blp.response(200, s.FormSchema)
    @_errors(401, 404)
    def get(self, key: str) -> dict[str, Any]:
        """One form's fields: name, Chinese label, help, widget, choices, limits."""
        form = get_form(key)
        if form is None:
            raise NotFound(f"no form {key}")
        return form_doc(form)

"""Case pages (header, tasks, deadlines, diagram, audit timeline, documents), starting a case,
and entity pages (一户一档: every case of one supervised organisation)."""

from __future__ import annotations

import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response as WResponse

from engine import Actor, EngineError, NotFound
from engine import permissions as perm
from engine.models import HumanTask, ProcessDefinition, ProcessInstance
from forms.names import safe_filename
from integrations.celery_app import dispatch_after_commit
from processes.directory.models import ENTITY_CATEGORIES, CaseDocument, Entity, StoredFile, Unit
from processes.directory.services import DirectoryError, create_entity, search_entities
from processes.registry import StartRequest, package_for_process, start_process

from . import directory
from .api.schemas import EntityUpdateSchema
from .case_history import case_stages, element_names
from .casework import (
    case_view,
    entity_cases,
    process_names,
    startable_processes,
    upload_store,
    visible_entity,
    visible_instance,
)
from .diagram import process_xml
from .extensions import dbs
from .packages import case_panel, entity_panels, related_panels
from .security import current_actor, require_roles

bp = Blueprint("cases", __name__)
LOCAL_TZ = ZoneInfo("Asia/Shanghai")
MAX_NAME_MATCHES = 10  # entities listed when a typed name matches several


@bp.get("/cases/<instance_id>")
@login_required
def show(instance_id: str) -> str:
    actor = current_actor()
    instance = visible_instance(actor, instance_id)
    view = case_view(actor, instance)
    current = [t.task_name for t, _name, _d in view.tasks]
    return render_template("case.html", view=view, panel=case_panel(actor, instance),
                           related=related_panels(actor, instance), current=current,
                           completed=view.instance.completed_elements or [],
                           stages=case_stages(instance, view.definition, view.events, current),
                           names=element_names(view.definition))


@bp.get("/cases/<instance_id>/diagram.bpmn")
@login_required
def diagram(instance_id: str) -> Response:
    instance = visible_instance(current_actor(), instance_id)
    definition = dbs().get(ProcessDefinition, instance.definition_id)
    if definition is None:
        abort(404)
    return Response(process_xml(definition), mimetype="application/xml")


@bp.get("/documents/<int:document_id>")
@login_required
def document(document_id: int) -> WResponse:
    row = dbs().get(CaseDocument, document_id)
    if row is None:
        abort(404)
    visible_instance(current_actor(), row.instance_id)  # 404 for other units' documents
    stored = dbs().get(StoredFile, row.sha256)
    store = upload_store()
    if stored is None or not store.exists(row.sha256):
        abort(404)
    return send_file(store.path(row.sha256), mimetype=stored.content_type, as_attachment=True,
                     download_name=safe_filename(row.details.get("filename") or stored.filename), etag=row.sha256)


@bp.route("/cases/new", methods=["GET", "POST"])
@login_required
@require_roles("officer", "head", "complaint_clerk")
def new_case() -> str | WResponse | tuple[str, int]:
    actor = current_actor()
    processes = startable_processes(actor)
    units = list(dbs().scalars(select(Unit).where(Unit.id.in_(sorted(actor.unit_ids)), Unit.active)
                                     .order_by(Unit.path)))
    values = {"process": request.values.get("process", ""), "entity": request.values.get("entity", ""),
              "unit": request.values.get("unit", "")}
    errors: dict[str, str] = {}
    if request.method == "POST":
        keys = {d.process_key: d for d in processes}
        if values["process"] not in keys:
            errors["process"] = _("Choose a process.")
        unit_id = values["unit"] or (units[0].id if units else "")
        if not perm.can_start(actor, unit_id) or unit_id not in {u.id for u in units}:
            errors["unit"] = _("Choose one of your units.")
        entity, problem = _entity(actor, values["entity"])
        if problem:
            errors["entity"] = problem
        if not errors and entity is not None:
            # the case number is never typed: a package numbers its cases itself (penalty: at
            # filing, from its numbering service); a plain process gets a fresh unique key
            key = None if package_for_process(values["process"]) else unique_business_key()
            try:
                unit = next(u for u in units if u.id == unit_id)
                instance = start_process(dbs(), actor, StartRequest(
                    values["process"], unit_id, unit.name, unit.short_name or "", entity.credit_code, entity.name,
                    key))
            except EngineError as exc:
                dbs().rollback()
                errors["_"] = exc.message
            else:
                dbs().commit()
                dispatch_after_commit(dbs())
                flash(_("Case %(key)s started.", key=instance.business_key) if instance.business_key
                      else _("Case started."), "success")
                return redirect(url_for("cases.show", instance_id=instance.id))
        dbs().rollback()
    entities = search_entities(dbs(), actor, "", limit=300)
    return render_template("case_new.html", processes=processes, units=units, entities=entities,
                           values=values, errors=errors), 422 if errors else 200


def unique_business_key() -> str:
    """A key no other case has (the day and a random part, drawn again on the rare collision)."""
    while True:
        key = f"{datetime.now(LOCAL_TZ):%Y%m%d}-{secrets.token_hex(3).upper()}"
        if dbs().scalar(select(ProcessInstance.id).where(ProcessInstance.business_key == key).limit(1)) is None:
            return key


def _entity(actor: Actor, typed: str) -> tuple[Entity | None, str]:
    """The entity a person typed into the box: its credit code, or its name (a unique match among
    the entities of their units; several matches are listed to choose from by credit code)."""
    text = typed.strip()
    if not text:
        return None, _("Choose the entity concerned.")
    try:
        return visible_entity(actor, text), ""
    except NotFound:
        pass
    stmt = select(Entity).order_by(Entity.name, Entity.credit_code).limit(MAX_NAME_MATCHES + 1)
    if not actor.is_admin:
        stmt = stmt.where(Entity.unit_id.in_(sorted(actor.unit_ids)))
    matches = list(dbs().scalars(stmt.where(Entity.name == text))) \
        or list(dbs().scalars(stmt.where(Entity.name.contains(text, autoescape=True))))
    if len(matches) == 1:
        return matches[0], ""
    if not matches:
        return None, _("No such entity in your units.")
    listed = "、".join(f"{e.name}（{e.credit_code}）" for e in matches[:MAX_NAME_MATCHES])
    return None, _("Several entities in your units match “%(name)s”; type the credit code of the one you mean: "
                   "%(choices)s", name=text, choices=listed + ("……" if len(matches) > MAX_NAME_MATCHES else ""))


@bp.get("/entities")
@login_required
def entities() -> str:
    actor = current_actor()
    q = request.args.get("q", "")[:100]
    return render_template("entities.html", entities=search_entities(dbs(), actor, q, limit=200), q=q)


@bp.get("/entities/<credit_code>")
@login_required
def entity(credit_code: str) -> str:
    actor = current_actor()
    row = visible_entity(actor, credit_code)
    cases = entity_cases(actor, row.credit_code)
    open_tasks = {c.id: [] for c in cases}  # type: dict[str, list[HumanTask]]
    if cases:
        for t in dbs().scalars(select(HumanTask).where(HumanTask.instance_id.in_(list(open_tasks)),
                                                            HumanTask.status == "ready")):
            open_tasks[t.instance_id].append(t)
    unit = dbs().get(Unit, row.unit_id)
    return render_template("entity.html", entity=row, cases=cases, open_tasks=open_tasks, unit=unit,
                           process_names=process_names(),
                           can_edit=perm.can_edit_entity(actor, row.unit_id), panels=entity_panels(actor, row))


@bp.route("/entities/<credit_code>/edit", methods=["GET", "POST"])
@login_required
def edit_entity(credit_code: str) -> str | WResponse | tuple[str, int]:
    """Correct an entity's particulars (or a mistyped credit code before its first case); audited."""
    actor = current_actor()
    row = visible_entity(actor, credit_code)  # another unit's entity: 404
    if not perm.can_edit_entity(actor, row.unit_id):
        abort(403)
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {k: request.form.get(k, "") for k in directory.ENTITY_FIELDS}
        body, errors = directory.load(EntityUpdateSchema(), directory.form_body(
            request.form, directory.ENTITY_FIELDS, optional=("address", "region_code", "legal_representative")))
        if not errors:
            try:
                directory.save_entity(dbs(), actor, row, body)
            except DirectoryError as exc:
                dbs().rollback()
                errors[exc.field or "_"] = exc.message
            else:
                dbs().commit()
                flash(_("Entity saved."), "success")
                return redirect(url_for("cases.entity", credit_code=row.credit_code))
    else:
        values = {k: getattr(row, k) or "" for k in directory.ENTITY_FIELDS}
        values["licence_numbers"] = ", ".join(row.licence_numbers or [])
    units = [u for u in dbs().scalars(select(Unit).order_by(Unit.path))
             if u.id == row.unit_id or (u.active and perm.can_edit_entity(actor, u.id))]
    return render_template("entity_edit.html", entity=row, units=units, values=values, errors=errors,
                           categories=ENTITY_CATEGORIES), 422 if errors else 200


@bp.route("/entities/new", methods=["GET", "POST"])
@login_required
@require_roles("officer", "head", "complaint_clerk")
def new_entity() -> str | WResponse | tuple[str, int]:
    actor = current_actor()
    units = list(dbs().scalars(select(Unit).where(Unit.id.in_(sorted(actor.unit_ids)), Unit.active)
                                     .order_by(Unit.path)))
    values = {k: request.form.get(k, "") for k in ("credit_code", "name", "category", "unit_id", "address",
                                                   "legal_representative", "licence_numbers")}
    errors: dict[str, str] = {}
    if request.method == "POST":
        if not perm.can_see_unit(actor, values["unit_id"]):
            errors["unit_id"] = _("Choose one of your units.")
        else:
            try:
                row = create_entity(dbs(), values["credit_code"], values["name"], values["category"],
                                    values["unit_id"], address=values["address"],
                                    legal_representative=values["legal_representative"],
                                    licence_numbers=values["licence_numbers"].replace("，", ",").split(","))
                dbs().commit()
                flash(_("Entity registered."), "success")
                return redirect(url_for("cases.entity", credit_code=row.credit_code))
            except DirectoryError as exc:
                dbs().rollback()
                errors[exc.field or "_"] = exc.message
    return render_template("entity_new.html", units=units, values=values, errors=errors,
                           categories=ENTITY_CATEGORIES), 422 if errors else 200

"""The task page (case context, instructions, form) and the claim / release / reassign / due-date
commands.

A submission is validated by the task's form schema first; with any error the page comes back
(422) with the messages beside the fields and the input kept, and the transaction is rolled
back, so nothing is written. Uploaded files are stored by content hash before validation
(harmless: content-addressed, not yet part of any case) so a correction need not upload again.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from engine import ConflictError, InvalidData, TaskNotReady, assign, claim, set_due, unclaim
from engine import permissions as perm
from engine.materialize import to_due_datetime
from engine.models import HumanTask, ProcessInstance
from forms import FieldSpec, RegisteredForm, UploadRejected, describe, get_form, validate_submission
from integrations.celery_app import dispatch_after_commit
from processes.directory.files import grant_upload
from processes.directory.services import search_entities, staff_in_units

from .casework import DirectoryRefs, case_view, complete_with_form, upload_store, visible_instance, visible_task
from .extensions import dbs
from .i18n import domain_text
from .packages import file_reader, public_values, submit_form, submits_itself, task_panel
from .security import current_actor

bp = Blueprint("tasks", __name__)


def picker_options(specs: list[FieldSpec]) -> dict[str, list[tuple[str, str]]]:
    """Choices for entity and staff pickers: what the actor's units hold."""
    actor = current_actor()
    options: dict[str, list[tuple[str, str]]] = {}
    for spec in specs:
        if spec.widget == "entity":
            options[spec.name] = [(e.credit_code, f"{e.name}（{e.credit_code}）")
                                  for e in search_entities(dbs(), actor, "", limit=300)]
        elif spec.widget == "staff":
            options[spec.name] = [(u.id, f"{u.display_name}（{u.certificate_no or u.id}）")
                                  for u in staff_in_units(dbs(), actor.unit_ids, spec.attrs.get("role"))]
    return options


def read_html_submission(form: RegisteredForm) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The posted values of the form's own fields (anything else is ignored); files are stored."""
    raw: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    store = upload_store()
    for spec in describe(form.schema):
        name = spec.name
        if spec.multiple:
            raw[name] = request.form.getlist(name)
        elif spec.widget == "checkbox":
            raw[name] = request.form.get(name) in ("true", "on", "1")
        elif spec.widget == "json":
            text = request.form.get(name, "").strip()
            try:
                raw[name] = json.loads(text) if text else None
            except ValueError:
                raw[name] = text
                errors[name] = [_("Not valid JSON.")]
        elif (reader := file_reader(form.key, spec.widget)) is not None:  # a process package's widget
            raw[name], problems = reader(name, int(current_app.config["UPLOAD_MAX_BYTES"]))
            if problems:
                errors[name] = problems
        elif spec.widget == "file":
            upload = request.files.get(name)
            if upload is not None and upload.filename:
                try:
                    stored = store.save(upload.stream, upload.filename, spec.attrs["accept"],
                                        spec.attrs.get("max_bytes") or current_app.config["UPLOAD_MAX_BYTES"])
                except UploadRejected as exc:
                    errors[name] = [str(exc)]
                    continue
                grant_upload(dbs(), stored.sha256, current_actor().user_id)
                dbs().commit()  # stored on disk whatever the form's fate: so is the right to name it again
                raw[name] = {"sha256": stored.sha256, "filename": stored.filename}
            elif request.form.get(f"{name}__sha256"):
                raw[name] = {"sha256": request.form.get(f"{name}__sha256", ""),
                             "filename": request.form.get(f"{name}__filename", "")}
        else:
            raw[name] = request.form.get(name)
    return raw, errors


def _render(task: HumanTask, form: RegisteredForm | None, values: dict[str, Any], errors: dict[str, list[str]],
            status: int = 200) -> tuple[str, int]:
    actor = current_actor()
    instance = visible_instance(actor, task.instance_id)
    specs = describe(form.schema) if form else []
    view = case_view(actor, instance)
    assignable = staff_in_units(dbs(), actor.unit_ids, task.candidate_role) \
        if task.status == "ready" and perm.can_reassign(actor, task) else []
    return render_template(
        "task.html", task=task, form=form, specs=specs, values=public_values(task.form_key, values), errors=errors,
        panel=task_panel(actor, instance, task),
        options=picker_options(specs) if task.status == "ready" else {}, view=view,
        can_complete=task.status == "ready" and perm.can_complete(actor, task),
        can_claim=task.status == "ready" and perm.can_claim(actor, task),
        can_release=task.status == "ready" and task.assignee is not None
        and (task.assignee == actor.user_id or perm.can_reassign(actor, task)),
        assignable=assignable, can_set_due=task.status == "ready" and perm.can_reassign(actor, task)), status


@bp.get("/tasks/<task_id>")
@login_required
def show(task_id: str) -> tuple[str, int]:
    task = visible_task(current_actor(), task_id)
    return _render(task, get_form(task.form_key), {}, {})


@bp.post("/tasks/<task_id>")
@login_required
def submit(task_id: str) -> Response | tuple[str, int]:
    actor = current_actor()
    task = visible_task(actor, task_id)
    if task.status != "ready":
        raise TaskNotReady(_("This task is already done."), task_id=task.id)
    if not perm.can_complete(actor, task):
        abort(403)
    form = get_form(task.form_key)
    raw, errors = read_html_submission(form) if form is not None else ({}, {})
    instance = None
    if submits_itself(task.form_key):
        # The form's process package checks it (legal checks) and completes the task itself.
        if not errors:
            instance, errors = submit_form(actor, task, form, raw)
    else:
        data: dict[str, Any] = {}
        if form is not None:
            data, invalid = validate_submission(form, raw, DirectoryRefs(actor, task.instance_id))
            errors.update(invalid)
        if not errors:
            instance = complete_with_form(actor, task, form, data)
    if errors or instance is None:
        dbs().rollback()
        flash(_("Please correct the marked fields."), "error")
        return _render(task, form, raw, errors, 422)
    return _done(task, instance)


def _done(task: HumanTask, instance: ProcessInstance) -> Response:
    dbs().commit()
    dispatch_after_commit(dbs())
    flash(_("Task “%(title)s” completed.", title=domain_text(task.title)), "success")
    if instance.status == "running":
        return redirect(url_for("inbox.index"))
    return redirect(url_for("cases.show", instance_id=instance.id))


def _command(task_id: str, action: str) -> Response:
    actor = current_actor()
    task = visible_task(actor, task_id)
    try:
        if action == "claim":
            claim(dbs(), task.id, actor)
            message = _("You took the task.")
        elif action == "unclaim":
            unclaim(dbs(), task.id, actor)
            message = _("You released the task.")
        elif action == "assign":
            assignee = request.form.get("assignee", "")
            if not assignee or not DirectoryRefs(actor).staff_visible(assignee, task.candidate_role):
                raise InvalidData(_("Choose a person of this unit with the task's role."))
            reason = request.form.get("reason", "").strip()
            if not reason:
                raise InvalidData(_("Give the reason for reassigning this task."))
            assign(dbs(), task.id, actor, assignee, reason)
            message = _("The task was reassigned.")
        elif action == "due":
            set_due(dbs(), task.id, actor, _end_of_day(request.form.get("due", "")), _reason_for_due())
            message = _("The due date was set.")
    except (ConflictError, InvalidData) as exc:
        dbs().rollback()
        flash(exc.message if isinstance(exc, InvalidData) else _("Someone else changed this task first."), "error")
        return redirect(url_for("tasks.show", task_id=task.id))
    dbs().commit()
    dispatch_after_commit(dbs())
    flash(message, "success")
    if action in ("claim", "due"):
        return redirect(url_for("tasks.show", task_id=task.id))
    return redirect(url_for("inbox.index"))


def _end_of_day(text: str) -> datetime:
    """A due date typed as a day means the end of that day in China, as BPMN due dates do."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidData(_("Enter the due date as a date.")) from None
    due = to_due_datetime(day, "due")
    assert due is not None
    return due


def _reason_for_due() -> str:
    reason = request.form.get("reason", "").strip()
    if not reason:
        raise InvalidData(_("Give the reason for setting this due date."))
    return reason


@bp.post("/tasks/<task_id>/claim")
@login_required
def claim_task(task_id: str) -> Response:
    return _command(task_id, "claim")


@bp.post("/tasks/<task_id>/unclaim")
@login_required
def unclaim_task(task_id: str) -> Response:
    return _command(task_id, "unclaim")


@bp.post("/tasks/<task_id>/assign")
@login_required
def assign_task(task_id: str) -> Response:
    return _command(task_id, "assign")


@bp.post("/tasks/<task_id>/due")
@login_required
def due_task(task_id: str) -> Response:
    """A head confirms or moves an open task's due date (an approved extension, or a deadline
    counted before its year's holidays were entered: ``engine.set_due`` clears that flag)."""
    return _command(task_id, "due")

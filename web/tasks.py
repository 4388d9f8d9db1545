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
from engine.clock import china_today
from engine.db import utcnow
from engine.materialize import to_due_datetime
from engine.models import HumanTask, ProcessInstance
from forms import FieldSpec, RegisteredForm, UploadRejected, describe, get_form, validate_submission
from integrations.celery_app import dispatch_after_commit
from processes.directory.files import grant_upload
from processes.directory.models import User
from processes.directory.notifications import announce_assigned
from processes.registry import package_for_process

from .casework import DirectoryRefs, case_view, complete_with_form, upload_store, visible_instance, visible_task
from .delegation import can_delegate, delegate_candidates, draft_values
from .extensions import dbs
from .follow_up import current_follow_up
from .i18n import domain_text
from .oversight import eligible_staff, refusal, unit_paths
from .packages import file_reader, public_values, submit_form, submits_itself, task_panel
from .pickers import person_options, picker_options
from .security import current_actor
from .task_history import task_events
from .task_record import task_record

bp = Blueprint("tasks", __name__)


def read_people(spec: FieldSpec) -> tuple[list[dict[str, Any]], list[str]]:
    """The rows of a people picker as the form's list of people: each chosen person's name and
    certificate number come from the directory (so documents agree with it), never typed."""
    actor = current_actor()
    refs = DirectoryRefs(actor)
    users = request.form.getlist(f"{spec.name}__user")
    roles = request.form.getlist(f"{spec.name}__role")
    subfields = set(spec.attrs.get("subfields") or ())
    people: list[dict[str, Any]] = []
    errors: list[str] = []
    for index, user_id in enumerate(users):
        if not user_id:
            continue
        user = dbs().get(User, user_id)
        if user is None or not refs.staff_visible(user_id, spec.attrs.get("role")):
            errors.append(_("Row %(n)d: choose a person of your units from the list.", n=index + 1))
            continue
        if any(p["user_id"] == user_id for p in people):
            errors.append(_("%(name)s is chosen twice.", name=user.display_name))
            continue
        person = {"user_id": user.id, "name": user.display_name, "certificate_no": user.certificate_no or "",
                  "role": roles[index] if index < len(roles) else ""}
        people.append({k: v for k, v in person.items() if k in subfields})
    return people, errors


def read_html_submission(form: RegisteredForm) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The posted values of the form's own fields (anything else is ignored); files are stored."""
    raw: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for spec in describe(form.schema):
        name = spec.name
        problems: list[str] = []
        if spec.widget == "people":
            people, problems = read_people(spec)
            raw[name] = (people[0] if people else None) if spec.attrs.get("single") else people
        elif spec.multiple:
            raw[name] = request.form.getlist(name)
        elif spec.widget == "checkbox":
            raw[name] = request.form.get(name) in ("true", "on", "1")
        elif spec.widget == "json":
            text = request.form.get(name, "").strip()
            try:
                raw[name] = json.loads(text) if text else None
            except ValueError:
                raw[name], problems = text, [_("Not valid JSON.")]
        elif (reader := file_reader(form.key, spec.widget)) is not None:  # a process package's widget
            raw[name], problems = reader(name, int(current_app.config["UPLOAD_MAX_BYTES"]))
        elif spec.widget == "file":
            value, problems = _read_file(spec)
            if value is not None:
                raw[name] = value
        else:
            raw[name] = request.form.get(name)
        if problems:
            errors[name] = problems
    return raw, errors


def _read_file(spec: FieldSpec) -> tuple[dict[str, str] | None, list[str]]:
    """A new upload (stored, and granted to its uploader) or the file kept from an earlier try."""
    name = spec.name
    upload = request.files.get(name)
    if upload is not None and upload.filename:
        try:
            stored = upload_store().save(upload.stream, upload.filename, spec.attrs["accept"],
                                         spec.attrs.get("max_bytes") or current_app.config["UPLOAD_MAX_BYTES"])
        except UploadRejected as exc:
            return None, [str(exc)]
        grant_upload(dbs(), stored.sha256, current_actor().user_id)
        dbs().commit()  # stored on disk whatever the form's fate: so is the right to name it again
        return {"sha256": stored.sha256, "filename": stored.filename}, []
    if request.form.get(f"{name}__sha256"):
        return {"sha256": request.form.get(f"{name}__sha256", ""),
                "filename": request.form.get(f"{name}__filename", "")}, []
    return None, []


def _render(task: HumanTask, form: RegisteredForm | None, values: dict[str, Any], errors: dict[str, list[str]],
            status: int = 200) -> tuple[str, int]:
    actor = current_actor()
    instance = visible_instance(actor, task.instance_id)
    specs = describe(form.schema) if form else []
    view = case_view(actor, instance)
    assignable = eligible_staff(actor, task) if task.status == "ready" and perm.can_reassign(actor, task) else []
    delegates = delegate_candidates(actor, task) if can_delegate(actor, task) else []
    return render_template(
        "task.html", task=task, form=form, specs=specs, values=public_values(task.form_key, values), errors=errors,
        panel=task_panel(actor, instance, task),
        options=picker_options(specs) if task.status == "ready" else {}, view=view,
        can_complete=task.status == "ready" and perm.can_complete(actor, task) and task.delegation != "pending",
        delegated_to_me=task.status == "ready" and task.delegation == "pending" and task.assignee == actor.user_id,
        delegates=person_options(delegates) if delegates else [],
        can_claim=task.status == "ready" and perm.can_claim(actor, task),
        can_release=task.status == "ready" and task.assignee is not None
        and (task.assignee == actor.user_id or perm.can_reassign(actor, task)),
        assignable=person_options(assignable) if assignable else [],
        can_set_due=task.status == "ready" and perm.can_reassign(actor, task),
        history=task_events(task), record=task_record(task),
        follow_up=current_follow_up(task) if task.status == "ready" else None,
        can_follow_up=task.status == "ready" and task.assignee == actor.user_id), status


@bp.get("/tasks/<task_id>")
@login_required
def show(task_id: str) -> tuple[str, int]:
    task = visible_task(current_actor(), task_id)
    values = draft_values(task) if task.status == "ready" and task.owner else {}  # a delegate's entries
    if not values and task.status == "ready":
        values = form_defaults(task)
    return _render(task, get_form(task.form_key), values, {})


def form_defaults(task: HumanTask) -> dict[str, Any]:
    """What the case and the directory already know, from the task's package (``form_defaults``)."""
    package = package_for_process(task.process_key)
    if package is None or package.form_defaults is None:
        return {}
    return package.form_defaults(dbs(), task.instance_id, task.task_name)


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
            path = unit_paths({task.unit_id}).get(task.unit_id or "")
            problem = refusal(actor, task, dbs().get(User, assignee), path)
            if problem and perm.can_reassign(actor, task):  # otherwise the engine refuses it (403)
                raise InvalidData(problem)
            assign(dbs(), task.id, actor, assignee, reason)
            announce_assigned(dbs(), [(task, task.assignee or assignee)], utcnow())  # a substitute, maybe
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
    if day < china_today():  # the agency's day: a past due date would make the task overdue at once
        raise InvalidData(_("The due date cannot be before today (%(today)s).", today=china_today().isoformat()))
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

"""A completed task's record for its page: what its form entered (labels, values as a person reads
them, files by name with a link where the case holds them), who completed it and when.

Read from the task's ``task_completed`` audit event, the data the engine completed it with: the
same chain the case's history and key facts are read from, never a second copy that could
disagree. Nothing internal is shown: fields the schema only loads (a signing passphrase) and what
the form's package keeps from the browser (``web.packages.public_values``).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as default
from datetime import datetime

from flask import url_for
from sqlalchemy import select

from engine.models import AuditEvent, HumanTask
from forms import get_form
from processes.directory.models import CaseDocument
from processes.directory.services import display_names

from .casework import schema_specs
from .entered import FILE_WIDGETS, file_names, form_entries, reading, staff_ids
from .extensions import dbs
from .packages import public_values


@dataclass
class EnteredValue:
    field: str
    label: str
    text: str
    files: list[tuple[str, str | None]] = default(default_factory=list)  # (file name, download link or None)


@dataclass
class TaskRecord:
    who: str
    at: datetime
    values: list[EnteredValue]


def task_record(task: HumanTask) -> TaskRecord | None:
    """The record of a completed task (None for an open or cancelled one)."""
    if task.status != "completed":
        return None
    event = dbs().scalar(select(AuditEvent).where(AuditEvent.instance_id == task.instance_id,
                                                  AuditEvent.task_id == task.id,
                                                  AuditEvent.action == "task_completed")
                         .order_by(AuditEvent.seq.desc()).limit(1))
    if event is None:
        return None
    form_key = (event.data or {}).get("form_key") or task.form_key
    form = get_form(form_key)
    specs = schema_specs(form.schema) if form else {}
    internal = {name for name, f in form.schema().fields.items() if f.load_only} if form else set()
    entered = public_values(form_key, form_entries((event.data or {}).get("data") or {}, specs))
    entered = {name: value for name, value in entered.items() if name not in internal}
    shown = {name: spec for name, spec in specs.items() if name in entered}
    names = display_names(dbs(), staff_ids(shown, entered) | {event.actor})
    links = _document_links(task) if any(s.widget in FILE_WIDGETS for s in shown.values()) else {}
    values = [EnteredValue(name, spec.label, reading(spec, entered[name], names),
                           [(file, links.get(sha)) for file, sha in file_names(entered[name])])
              for name, spec in shown.items()]  # in the form's own order
    return TaskRecord(names.get(event.actor, event.actor), event.created_at, values)


def _document_links(task: HumanTask) -> dict[str, str]:
    """Download links of the case's documents by SHA-256 (an upload the task attached to the case)."""
    rows = dbs().execute(select(CaseDocument.sha256, CaseDocument.id)
                         .where(CaseDocument.instance_id == task.instance_id)).all()
    return {sha: url_for("cases.document", document_id=doc_id) for sha, doc_id in rows}

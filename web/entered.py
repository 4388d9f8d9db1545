"""What a task's completion entered, as a person reads it: the form's labels, choice labels, people
by name, files by name. Used by the case's key facts (``casework.case_facts``) and by a completed
task's read-only record (``task_record``).

Where the values come from: the ``task_completed`` audit event keeps the data the task was
completed with. A generic form stores its fields flat (``{"amount": 20000, "facts": ...}``); a
process package may keep a form's fields under one key (the penalty forms: ``{"filing_approval":
{"approved": true, "opinion": ...}}``, the name its BPMN expressions read), so one level of such
wrapping is opened. Keys that are no field of the form (rule snapshots, computed periods) have no
label an officer would understand and are left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from forms import FieldSpec, format_value

FILE_WIDGETS = ("file", "files")
PEOPLE_WIDGETS = ("people", "staff", "staffnames")


def form_entries(payload: Mapping[str, Any], specs: Mapping[str, FieldSpec]) -> dict[str, Any]:
    """The values of the form's own fields in a completion's data (one level of wrapping opened)."""
    found: dict[str, Any] = {}
    for name, value in payload.items():
        spec = specs.get(name)
        if isinstance(value, Mapping) and not _is_value(spec, value):
            found.update({sub: v for sub, v in value.items() if sub in specs and _shown(specs[sub], v)})
        elif spec is not None and _shown(spec, value):
            found[name] = value
    return found


def _is_value(spec: FieldSpec | None, value: Mapping[str, Any]) -> bool:
    """A mapping that is itself a field's value (a file, one person), not a form's wrapped fields."""
    return spec is not None and (spec.widget in FILE_WIDGETS + PEOPLE_WIDGETS or "sha256" in value)


def _shown(spec: FieldSpec, value: Any) -> bool:
    """Whether a value can be read: blank values were not entered; nested structures other than
    people and files (a JSON list of objects) have no reading a person would understand."""
    if value is None or value in ("", []):
        return False
    items = value if isinstance(value, list) else [value]
    nested = [v for v in items if isinstance(v, Mapping)]
    return not nested or all("name" in v or "sha256" in v for v in nested) or spec.widget in FILE_WIDGETS


def staff_ids(specs: Mapping[str, FieldSpec], values: Mapping[str, Any]) -> set[str]:
    """User ids in staff-picker values (their display names are looked up once for all)."""
    ids: set[str] = set()
    for name, value in values.items():
        if specs[name].widget == "staff":
            ids |= {str(v) for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)}
    return ids


def file_names(value: Any) -> list[tuple[str, str]]:
    """(file name, SHA-256) of each file in a file field's value."""
    items = value if isinstance(value, list) else [value]
    return [(str(v.get("filename") or v.get("file_name") or v["sha256"]), str(v["sha256"]))
            for v in items if isinstance(v, Mapping) and "sha256" in v]


def reading(spec: FieldSpec, value: Any, names: Mapping[str, str]) -> str:
    """The value as a person reads it: people by name (with their role in the case, if given),
    staff ids as display names, files by name, else ``forms.format_value``."""
    items = value if isinstance(value, list) else [value]
    if spec.widget in FILE_WIDGETS or any(isinstance(v, Mapping) and "sha256" in v for v in items):
        return "、".join(name for name, _sha in file_names(value))
    if any(isinstance(v, Mapping) for v in items):
        return "、".join(f"{v['name']}（{v['role']}）" if v.get("role") else str(v["name"])
                        for v in items if isinstance(v, Mapping) and v.get("name"))
    if spec.widget == "staff":
        return "、".join(names.get(str(v), str(v)) for v in items)
    return format_value(spec, value)

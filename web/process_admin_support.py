"""What the process administration pages and API share: the validation context built from the
registries, problems in the user's language, per-activity counts, and a version's main file."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import registered_operators
from engine.models import HumanTask, OutboxJob, ProcessDefinition, ProcessInstance
from engine.validation import Problem
from engine.xmlsafe import parse_xml
from forms.registry import registered_forms
from processes.directory.models import ROLES
from processes.validation_context import latest_definitions

from .diagram import BPMN, BPMNDI, _add_layout
from .i18n import domain_text


def _messages() -> dict[str, str]:
    return {
        "no_bpmn": _("The bundle holds no BPMN file."),
        "unsafe_xml": _("The file cannot be read safely: %(detail)s"),
        "invalid": _("The engine cannot run this: %(detail)s"),
        "unknown_form": _("Form '%(form)s' is not registered."),
        "unknown_role": _("'%(role)s' is not a known role."),
        "no_operator": _("The service task names no operator."),
        "unknown_operator": _("Operator '%(operator)s' is not registered."),
        "expression_refused": _("The %(what)s is refused: %(reason)s"),
        "no_way_out": _("No outgoing sequence flow: a case would stay here for ever."),
        "no_form": _("No form: the officer sees only a done button."),
        "bad_timer": _("The timer '%(value)s' is not a valid ISO 8601 %(kind)s."),
        "call_no_target": _("The call activity names no process."),
        "call_unknown": _("It calls '%(target)s', which is not in this bundle (a called process is deployed "
                          "with its caller)."),
        "call_cycle": _("It calls '%(target)s', which calls back to '%(process)s': a case would nest for ever."),
        "message_uncaught": _("It throws message '%(message_name)s', which no process catches."),
    }


def problem_view(problem: Problem | dict[str, Any]) -> dict[str, Any]:
    """A problem as the modeler and the API show it: element, severity, a sentence to read."""
    p = problem.as_dict() if isinstance(problem, Problem) else dict(problem)
    template = _messages().get(p.get("code", ""))
    params = dict(p.get("params") or {})
    params.setdefault("detail", p.get("message", ""))
    try:
        text = template % params if template else p.get("message", "")
    except (KeyError, ValueError, TypeError):
        text = p.get("message", "")
    where = p.get("name") or p.get("element")
    return {"element": p.get("element"), "name": p.get("name"), "file": p.get("file"), "code": p.get("code"),
            "severity": p.get("severity", "error"),
            "message": _("%(where)s: %(text)s", where=domain_text(where), text=text) if where else text}


def activity_counts(session: Session, definition_id: int) -> dict[str, dict[str, int]]:
    """element id -> {running, incidents} for the instances on one version (Cockpit's overlays)."""
    counts: dict[str, dict[str, int]] = {}
    ready = session.execute(select(HumanTask.task_name, func.count()).join(
        ProcessInstance, ProcessInstance.id == HumanTask.instance_id).where(
        ProcessInstance.definition_id == definition_id, HumanTask.status == "ready").group_by(HumanTask.task_name))
    for element, n in ready:
        counts.setdefault(element, {"running": 0, "incidents": 0})["running"] = n
    jobs = session.execute(select(OutboxJob.element_id, OutboxJob.status, func.count()).join(
        ProcessInstance, ProcessInstance.id == OutboxJob.instance_id).where(
        ProcessInstance.definition_id == definition_id, OutboxJob.status.in_(("pending", "incident")))
        .group_by(OutboxJob.element_id, OutboxJob.status))
    for element, status, n in jobs:
        entry = counts.setdefault(element, {"running": 0, "incidents": 0})
        entry["incidents" if status == "incident" else "running"] += n
    return counts


def main_file(definition: ProcessDefinition) -> tuple[str, str]:
    """(file name, text) of the BPMN file holding the process itself, with a layout when it has none
    (the modeler draws only what BPMNDI describes)."""
    for filename, text in sorted(definition.sources.items()):
        if not filename.endswith(".bpmn"):
            continue
        root = parse_xml(text.encode("utf-8"), filename, max(len(text) * 4, 1))
        process = root.find(f"{{{BPMN}}}process[@id='{definition.process_key}']")
        if process is None:
            continue
        if root.find(f".//{{{BPMNDI}}}BPMNShape") is None:
            _add_layout(root, process)
            return filename, etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode("utf-8")
        return filename, text
    raise LookupError(f"no BPMN file of {definition.process_key} in its deployment")


def modeler_lists(session: Session) -> dict[str, Any]:
    """The choices the modeler's properties panel offers."""
    return {
        "forms": [{"key": f.key, "title": domain_text(f.title) if f.title else f.key}
                  for f in sorted(registered_forms(), key=lambda f: f.key)],
        "roles": [{"key": k, "label": domain_text(v)} for k, v in ROLES.items()],
        "operators": [{"key": o.name, "label": o.name} for o in registered_operators()],
        "processes": [{"key": d.process_key, "label": domain_text(d.name)} for d in latest_definitions(session)],
    }

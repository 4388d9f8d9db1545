"""BPMN written by other modelling tools: ignore, with a warning, what never affects execution.

Camunda Modeler, bpmn.io-based Chinese tools and others write things the engine never runs but
that SpiffWorkflow's strict schema or parser refuses: extra attributes on diagram elements
(``label`` on a ``bpmndi:BPMNPlane``), data stores (``bpmn:dataStore``,
``bpmn:dataStoreReference``: SpiffWorkflow wants a Python implementation for each) and the
data associations that connect tasks to them. Refusing a whole process for a drawing detail
helps nobody, so these are removed from the *parsed tree* before validation (the stored text,
which the modeler opens again, is unchanged) and each removal becomes a ``BundleWarning``.

Warnings are also what an administrator should know but that does not stop a deploy: processes
marked ``isExecutable="false"`` that are skipped, and elements the engine cannot drive (a task
SpiffWorkflow leaves manual that no inbox row or job would ever complete; an ad-hoc sub-process,
whose activities someone would have to pick). A bundle with no executable process at all is
refused (``require_executable``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import AdHocSubprocess

from .errors import InvalidDefinition

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DIAGRAM_NAMESPACES = frozenset({"http://www.omg.org/spec/BPMN/20100524/DI", "http://www.omg.org/spec/DD/20100524/DC",
                                "http://www.omg.org/spec/DD/20100524/DI"})
_MAX_ROUNDS = 20  # schema passes while removing diagram details (each pass reports new errors)
_ATTRIBUTE_ERROR = re.compile(r"attribute '([^']+)'")


@dataclass(frozen=True)
class BundleWarning:
    """Something deploy accepted but an administrator should know: file, element id (or None)."""

    file: str
    element: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "element": self.element, "message": self.message}


def _label(el: etree._Element) -> str:
    kind = etree.QName(el).localname
    name = el.get("name")
    return f"{kind} '{el.get('id') or '?'}'" + (f" ({name})" if name else "")


def _bpmn(local: str) -> str:
    return f"{{{BPMN_NS}}}{local}"


def strip_data_stores(root: etree._Element, filename: str) -> list[BundleWarning]:
    """Remove data stores, their references and the data associations that point at them."""
    warnings: list[BundleWarning] = []
    references = {el.get("id") for el in root.iter(_bpmn("dataStoreReference"))}
    for association in list(root.iter(_bpmn("dataInputAssociation"), _bpmn("dataOutputAssociation"))):
        ends = {(ref.text or "").strip() for ref in association
                if isinstance(ref.tag, str) and etree.QName(ref).localname in ("sourceRef", "targetRef")}
        if ends & references:
            owner = association.getparent()
            store = next(iter(sorted(ends & references)))
            warnings.append(BundleWarning(filename, owner.get("id") if owner is not None else None,
                                          f"ignored the {etree.QName(association).localname} of "
                                          f"{_label(owner) if owner is not None else 'an element'} with data "
                                          f"store '{store}': the engine keeps no data stores"))
            _remove(association)
    for tag in ("dataStoreReference", "dataStore"):
        for el in list(root.iter(_bpmn(tag))):
            warnings.append(BundleWarning(filename, el.get("id"), f"ignored {_label(el)}: the engine keeps no "
                                          "data stores (data lives in the case's process data)"))
            _remove(el)
    return warnings


def check_data_associations(root: etree._Element, filename: str) -> None:
    """A data association must name elements of the file (SpiffWorkflow's own message for a
    dangling one shows a Python object's repr instead of the id)."""
    ids = {el.get("id") for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
    for association in root.iter(_bpmn("dataInputAssociation"), _bpmn("dataOutputAssociation")):
        for ref in association:
            if not isinstance(ref.tag, str) or etree.QName(ref).localname not in ("sourceRef", "targetRef"):
                continue
            target = (ref.text or "").strip()
            if target not in ids:
                owner = association.getparent()
                where = _label(owner) if owner is not None else "an element"
                raise InvalidDefinition(filename, owner.get("id") if owner is not None else None,
                                        f"the {etree.QName(association).localname} of {where} refers to "
                                        f"'{target}', which is no element of this file")


def _remove(el: etree._Element) -> None:
    parent = el.getparent()
    if parent is not None:
        parent.remove(el)


def _in_diagram(el: etree._Element) -> bool:
    return any(isinstance(e.tag, str) and etree.QName(e).namespace in DIAGRAM_NAMESPACES
               for e in (el, *el.iterancestors()))


def _element_at(root: etree._Element, line: int) -> etree._Element | None:
    best = None
    for el in root.iter():
        at: int = getattr(el, "sourceline", None) or 0
        if isinstance(el.tag, str) and 0 < at <= line:
            best = el
    return best


def relax_diagram(root: etree._Element, schema: etree.XMLSchema, filename: str) -> list[BundleWarning]:
    """Drop diagram-interchange details the schema refuses (attributes, then elements), so only
    errors in what executes remain for the caller's validation to report."""
    warnings: list[BundleWarning] = []
    for _round in range(_MAX_ROUNDS):
        if schema.validate(root):
            break
        changed = False
        errors: Any = schema.error_log  # iterable at run time; lxml's stubs say otherwise
        for error in errors:
            el = _element_at(root, error.line)
            if el is None or not _in_diagram(el):
                continue
            found = _ATTRIBUTE_ERROR.search(error.message)
            what = etree.QName(el).localname
            if found and "not allowed" in error.message and found.group(1) in el.attrib:
                del el.attrib[found.group(1)]
                detail = f"attribute '{found.group(1)}' of diagram element {what} '{el.get('id') or '?'}'"
            else:
                _remove(el)
                detail = f"diagram element {what} '{el.get('id') or '?'}'"
            warnings.append(BundleWarning(filename, el.get("id"), f"ignored {detail}: not in the BPMN 2.0 "
                                          "diagram schema, and diagrams do not affect execution"))
            changed = True
            break  # line numbers stay valid, but one fix may clear several errors: validate again
        if not changed:
            break
    return warnings


def non_executable(roots: dict[str, etree._Element]) -> list[BundleWarning]:
    """A warning for each process marked ``isExecutable="false"`` (SpiffWorkflow skips them)."""
    return [BundleWarning(name, process.get("id"), f"{_label(process)} is not executable (isExecutable=\"false\"): "
                          "skipped; set isExecutable=\"true\" to run it")
            for name, root in roots.items() for process in root.iter(_bpmn("process"))
            if process.get("isExecutable", "true") != "true"]


def require_executable(process_ids: list[str], files: list[str]) -> None:
    if not process_ids:
        raise InvalidDefinition(", ".join(files) or "(no files)", None,
                                "no executable process in the deployment: every process is marked "
                                "isExecutable=\"false\"")


def undrivable(spec: Any, filename: str, driven: tuple[type, ...]) -> list[BundleWarning]:
    """Tasks SpiffWorkflow leaves manual that the engine has no way to complete (no inbox row, no
    job): an instance reaching one would stall there."""
    found = []
    for task_spec in spec.task_specs.values():
        element = getattr(task_spec, "bpmn_id", None) or task_spec.name
        name = getattr(task_spec, "bpmn_name", None)
        label = f"'{element}'" + (f" ({name})" if name else "")
        if isinstance(task_spec, AdHocSubprocess):
            found.append(BundleWarning(filename, element, f"the engine cannot drive the ad-hoc sub-process {label}: "
                                       "nobody can choose its activities, and a case reaching it fails"))
        elif getattr(task_spec, "manual", False) and not isinstance(task_spec, driven):
            found.append(BundleWarning(filename, element, f"the engine cannot complete {label} "
                                       f"({type(task_spec).__name__}): a case reaching it would stall"))
    return found

"""Import BPMN and DMN files saved by Camunda Modeler (Camunda 7, and the simple parts of Camunda 8).

Camunda Modeler writes ``camunda:`` (Camunda 7, ``http://camunda.org/schema/1.0/bpmn``) or
``zeebe:`` (Camunda 8) extensions, JUEL ``${...}`` expressions and FEEL decision tables. Weijian
runs SpiffWorkflow with its own extensions and sandboxed Python expressions. ``convert`` rewrites
what has an exact Weijian meaning and reports everything else, element by element.

The intended caller pattern (the admin upload page, ``weijian import-camunda``)::

    result = convert(uploaded_files)
    if not deployable(result):
        show(result.problems)        # file, element, name, message: fix in the Modeler, upload again
        return                       # nothing is deployed
    engine.deploy(session, result.files, actor)

Never deploy ``result.files`` while ``result.problems`` is not empty: a converted file with a
problem still carries Camunda behaviour Weijian would not run (a Java delegate, a listener), and
would deploy as a process that silently does less than the original.

Ignored (harmless in Weijian, listed in ``converted`` as "ignored"): ``async``, ``asyncBefore``,
``asyncAfter``, ``exclusive``, ``jobPriority``, ``historyTimeToLive``, ``versionTag``,
``isStartableInTasklist``, ``failedJobRetryTimeCycle``, ``calledElementBinding="latest"`` and
Camunda 8's ``zeebe:userTask`` marker. Any other ``camunda:``/``zeebe:`` attribute or element is
reported, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR as SPIFF_VALIDATOR
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from .camunda_dmn import Decision, convert_dmn, is_dmn
from .camunda_report import (
    BPMN_NS,
    FOREIGN_NAMESPACES,
    SPIFF_NS,
    ZEEBE_NS,
    FileReport,
    ImportResult,
    sandbox_refusal,
)
from .camunda_tasks import (
    Element,
    check_roles,
    handle_business_rule_task,
    handle_service_task,
    handle_user_task,
    value_expression,
)
from .errors import UnsafeXml
from .juel import NotConvertible, is_expression
from .xmlsafe import DEFAULT_MAX_BYTES, parse_xml

__all__ = ["ImportResult", "convert", "deployable", "looks_like_camunda"]

IGNORED = {"async", "asyncBefore", "asyncAfter", "exclusive", "jobPriority", "historyTimeToLive", "versionTag",
           "isStartableInTasklist"}
IGNORED_EXTENSIONS = {"failedJobRetryTimeCycle", "userTask", "versionTag"}
_EXTENSION_PROBLEMS = {
    "inputOutput": "input/output mappings are not converted; set the variables in a script task",
    "executionListener": "execution listeners run Java or scripts on Camunda; model the step as a task",
    "taskListener": "task listeners run Java or scripts on Camunda; model the step as a task",
    "formData": "embedded form fields are not converted; define the form in Weijian and use its form key",
    "properties": "camunda:properties have no Weijian meaning",
    "in": "call activity variable mappings (camunda:in) are not converted",
    "out": "call activity variable mappings (camunda:out) are not converted",
    "connector": "connectors (HTTP, SOAP) are not converted; choose a registered operator",
    "field": "field injection belongs to a Java delegate; choose a registered operator",
}
_TASK_KINDS_WITH_IMPLEMENTATION = {"serviceTask", "sendTask", "messageEventDefinition"}
_ISO_DURATION = re.compile(r"^-?P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")


def deployable(result: ImportResult) -> bool:
    """Whether ``result.files`` may be given to ``engine.deploy``: only when nothing was left behind."""
    return not result.problems and bool(result.files)


def looks_like_camunda(files: Mapping[str, bytes]) -> bool:
    """Whether any file was saved for a Camunda engine (declares its namespaces or platform), so an
    upload page can send it through ``convert`` instead of deploying it as it is."""
    markers = (b"http://camunda.org/schema/1.0/", b"http://camunda.org/schema/zeebe/", b"modeler:executionPlatform")
    return any(marker in data for data in files.values() for marker in markers)


def convert(files: Mapping[str, bytes], max_bytes: int = DEFAULT_MAX_BYTES) -> ImportResult:
    """Convert a Camunda Modeler upload (BPMN and DMN files by name); see the module docstring."""
    result = ImportResult()
    roots: dict[str, etree._Element] = {}
    for name in sorted(files):
        report = FileReport(result, name)
        if not name.endswith((".bpmn", ".dmn")):
            report.problem(None, None, "not a .bpmn or .dmn file")
            continue
        try:
            roots[name] = parse_xml(files[name], name, max_bytes)
        except UnsafeXml as exc:
            report.problem(None, None, exc.problem)
    decisions: dict[str, Decision] = {}
    for name, root in roots.items():
        if is_dmn(root):
            decision = convert_dmn(root, FileReport(result, name))
            if decision is not None:
                decisions[decision.decision_id] = decision
    for name, root in roots.items():
        if is_dmn(root):
            continue
        if etree.QName(root).namespace != BPMN_NS or etree.QName(root).localname != "definitions":
            FileReport(result, name).problem(None, None, "neither BPMN 2.0 nor DMN definitions")
            continue
        _convert_bpmn(root, FileReport(result, name), decisions)
    for name, root in roots.items():
        etree.cleanup_namespaces(root, top_nsmap=None if is_dmn(root) else {"spiffworkflow": SPIFF_NS})
        etree.indent(root, space="  ")
        result.files[name] = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    if not result.problems:
        _check_spiffworkflow_parses(result)
    return result


def _check_spiffworkflow_parses(result: ImportResult) -> None:
    """What ``engine.deploy`` will do with a clean conversion: validate against the BPMN/DMN schemas
    and build every process. Its refusal becomes a problem here, so ``deployable`` means it."""
    parser = SpiffBpmnParser(validator=SPIFF_VALIDATOR)
    current = ""
    roots = {name: parse_xml(data, name, max(DEFAULT_MAX_BYTES, len(data))) for name, data in result.files.items()}
    if all(is_dmn(root) for root in roots.values()):
        FileReport(result, ", ".join(sorted(roots))).problem(None, None, "no BPMN file: upload the process "
                                                                         "together with its decisions")
        return
    try:
        for name in sorted(roots):
            current = name
            (parser.add_dmn_xml if is_dmn(roots[name]) else parser.add_bpmn_xml)(roots[name], filename=name)
        for process_id in parser.get_process_ids():
            parser.get_spec(process_id)
    except ValidationException as exc:
        file = exc.file_name or current
        element = exc.id or _element_at_line(roots.get(file), exc.line_number)
        FileReport(result, file).problem(element, exc.name or None, str(exc).splitlines()[0].strip())
    except SpiffWorkflowException as exc:
        FileReport(result, current).problem(None, None, str(exc).splitlines()[0].strip())


def _element_at_line(root: etree._Element | None, line: object) -> str | None:
    """The id of the element a schema error's line points into (the last one starting at or before it)."""
    if root is None or not isinstance(line, int):
        return None
    found = None
    for el in root.iter():
        at: int = getattr(el, "sourceline", None) or 0
        if isinstance(el.tag, str) and el.get("id") and at <= line:
            found = el.get("id")
    return found


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


def _foreign(tag_or_attr: str) -> bool:
    return etree.QName(tag_or_attr).namespace in FOREIGN_NAMESPACES


def _convert_bpmn(root: etree._Element, report: FileReport, decisions: dict[str, Decision]) -> None:
    prefix = "zeebe" if ZEEBE_NS in root.nsmap.values() else "camunda"
    for el in list(root.iter()):
        if not isinstance(el.tag, str) or etree.QName(el).namespace != BPMN_NS:
            continue
        if _local(el) == "extensionElements":
            continue
        item = Element(el, report, _take_foreign_attributes(el), prefix)
        for attr, value in el.attrib.items():
            if is_expression(str(value)):
                item.problem(f"{etree.QName(attr).localname}='{value!s}': expressions in BPMN attributes are not "
                             "converted; name the element")
        _lift_zeebe_extensions(item)
        _convert_element(item, decisions)
        _convert_extensions(item)
        for local, value in item.attrs.items():
            item.problem(f"{prefix}:{local}='{value}' is not supported")
    for process in root.iter(f"{{{BPMN_NS}}}process"):
        check_roles(process, report)


def _take_foreign_attributes(el: etree._Element) -> dict[str, str]:
    taken = {}
    for attr in [str(a) for a in el.attrib if _foreign(str(a))]:
        taken[etree.QName(attr).localname] = str(el.attrib.pop(attr))
    return taken


def _convert_element(item: Element, decisions: dict[str, Decision]) -> None:
    for local in sorted(IGNORED & item.attrs.keys()):
        item.attrs.pop(local)
        item.converted(f"ignored {item.prefix}:{local}")
    kind = item.kind
    if kind == "userTask":
        handle_user_task(item)
    elif kind == "businessRuleTask":
        handle_business_rule_task(item, decisions)
    elif kind in _TASK_KINDS_WITH_IMPLEMENTATION:
        handle_service_task(item)
    elif kind == "scriptTask":
        _script_task(item)
    elif kind == "conditionExpression":
        _condition(item)
    elif kind in ("timeDate", "timeDuration", "timeCycle"):
        _timer(item)
    elif kind in ("loopCardinality", "completionCondition"):
        _loop_expression(item)
    elif kind == "startEvent":
        _start_event(item)
    elif kind == "callActivity" and item.attrs.get("calledElementBinding") == "latest":
        item.attrs.pop("calledElementBinding")
        item.converted("ignored camunda:calledElementBinding 'latest'")


def _start_event(item: Element) -> None:
    if "initiator" in item.attrs:
        item.problem(f"camunda:initiator '{item.attrs.pop('initiator')}': Weijian does not put the starting "
                     "user into the process data; remove it and let the start data carry that variable")
    if "formKey" in item.attrs:
        item.problem(f"{item.prefix}:formKey '{item.attrs.pop('formKey')}' on a start event: Weijian starts "
                     "cases from its own pages; remove the start form")


def _convert_extensions(item: Element) -> None:
    ext = item.el.find(f"{{{BPMN_NS}}}extensionElements")
    if ext is None:
        return
    for child in [c for c in ext if isinstance(c.tag, str) and _foreign(c.tag)]:
        local = _local(child)
        namespace = etree.QName(child).namespace
        if local in IGNORED_EXTENSIONS:
            item.converted(f"ignored {item.prefix}:{local}")
        else:
            prefix = "zeebe" if namespace == ZEEBE_NS else "camunda"
            item.problem(f"{prefix}:{local}: " + _EXTENSION_PROBLEMS.get(local, "not supported"))
            continue
        ext.remove(child)
    if not len(ext):
        item.el.remove(ext)


def _lift_zeebe_extensions(item: Element) -> None:
    """Camunda 8 keeps a task's assignment, form, schedule and decision in extension elements; the
    plain ones become attributes, converted like Camunda 7's. Others stay and are reported."""
    ext = item.el.find(f"{{{BPMN_NS}}}extensionElements")
    if ext is None:
        return
    for child in [c for c in ext if isinstance(c.tag, str) and etree.QName(c).namespace == ZEEBE_NS]:
        lifted = _ZEEBE_LIFT.get(_local(child))
        if lifted is None or not set(child.attrib) <= lifted.keys():
            continue
        for attr, value in child.attrib.items():
            item.attrs[lifted[str(attr)]] = str(value)
        if _local(child) == "calledDecision":
            item.attrs["mapDecisionResult"] = "zeebe"
        ext.remove(child)


_ZEEBE_LIFT = {
    "assignmentDefinition": {"assignee": "assignee", "candidateGroups": "candidateGroups",
                             "candidateUsers": "candidateUsers"},
    "formDefinition": {"formKey": "formKey", "formId": "formKey"},
    "taskSchedule": {"dueDate": "dueDate", "followUpDate": "followUpDate"},
    "calledDecision": {"decisionId": "decisionRef", "resultVariable": "resultVariable"},
}


def _script_task(item: Element) -> None:
    language = (item.el.get("scriptFormat") or "").strip().lower()
    script_el = item.el.find(f"{{{BPMN_NS}}}script")
    if language not in ("python", "python3"):
        item.problem(f"script in {language or 'an unnamed language'}: Weijian runs Python scripts only; "
                     "rewrite it in Python")
        return
    if script_el is None or not (script_el.text or "").strip():
        item.problem("script task without a script (camunda:resource scripts are not converted)")
        return
    refusal = sandbox_refusal(script_el.text or "", "exec")
    if refusal:
        item.problem(f"Python script refused by the sandbox: {refusal}")


def _text_expression(item: Element, what: str) -> str | None:
    """The Python expression of an element whose text is a ``${...}`` (JUEL) or ``=...`` (FEEL)
    expression, or None after reporting why not (on the owner: the flow, the event, the task)."""
    owner = _owner(item)
    language = (item.el.get("language") or "").strip().lower()
    text = (item.el.text or "").strip()
    if language and language not in ("juel", "feel", "python"):
        owner.problem(f"{what} in {language}: rewrite it as ${{...}} or Python")
        return None
    try:
        python = text if language == "python" else value_expression(text)
    except NotConvertible as exc:
        owner.problem(f"{what} '{text}': {exc}")
        return None
    if python is None:
        owner.problem(f"{what} '{text}' is not a ${{...}} or =... expression")
        return None
    refusal = sandbox_refusal(python)
    if refusal:
        owner.problem(f"{what} '{text}' -> {python}: refused by the sandbox: {refusal}")
        return None
    if python != text:
        owner.converted(f"{what} '{text}' -> {python}")
    return python


def _owner(item: Element) -> Element:
    """The element that owns an expression element: problems name the flow, event or task."""
    parent = item.el.getparent()
    return Element(parent if parent is not None else item.el, item.report, prefix=item.prefix)


def _condition(item: Element) -> None:
    if "resource" in item.attrs:
        _owner(item).problem(f"condition from resource '{item.attrs.pop('resource')}' is not converted")
        return
    python = _text_expression(item, "condition")
    if python is not None:
        item.el.text = python
        if "language" in item.el.attrib:
            del item.el.attrib["language"]


def _timer(item: Element) -> None:
    text = (item.el.text or "").strip()
    if is_expression(text) or text.startswith("="):
        python = _text_expression(item, "timer")
        if python is not None:
            item.el.text = python
        return
    if _iso_timer(item.kind, text):
        item.el.text = repr(text)
        _owner(item).converted(f"timer '{text}' -> {item.el.text}")
    else:
        _owner(item).problem(f"timer '{text}' is not an ISO 8601 {item.kind[4:].lower()} (cron is not supported)")


def _iso_timer(kind: str, text: str) -> bool:
    if kind == "timeDuration":
        return bool(_ISO_DURATION.match(text))
    if kind == "timeCycle":
        parts = text.split("/")
        return len(parts) in (2, 3) and re.fullmatch(r"R\d*", parts[0]) is not None and \
            all(_ISO_DURATION.match(p) or _iso_date(p) for p in parts[1:])
    return _iso_date(text)


def _iso_date(text: str) -> bool:
    try:
        (datetime.fromisoformat if "T" in text else date.fromisoformat)(text)
    except ValueError:
        return False
    return True


def _loop_expression(item: Element) -> None:
    text = (item.el.text or "").strip()
    if text.isdigit():
        return
    python = _text_expression(item, _local(item.el))
    if python is not None:
        item.el.text = python

"""Camunda task attributes to Weijian's encoding: user tasks, business rule tasks, service tasks.

Weijian reads a user task's ``formKey``, ``candidateRole``, ``dueDate`` (a sandboxed Python
expression) and ``assignee`` (a Python expression) from ``spiffworkflow:property`` elements, a
business rule task's decision from ``spiffworkflow:calledDecisionId`` and a service task's work
from ``spiffworkflow:serviceTaskOperator``. Each ``handle_*`` consumes the Camunda attributes it
converts from ``element.attrs``; what is left is reported by the caller, so nothing is dropped
without a trace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from lxml import etree

from .camunda_dmn import Decision
from .camunda_report import BPMN_NS, SPIFF_NS, FileReport, sandbox_refusal
from .feel import expression_to_python
from .juel import NotConvertible, convert_expression, is_expression

ROLE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass
class Element:
    """One BPMN element being converted, with its not yet consumed ``camunda:``/``zeebe:`` attributes."""

    el: etree._Element
    report: FileReport
    attrs: dict[str, str] = field(default_factory=dict)
    prefix: str = "camunda"  # how the file names its extensions: camunda (7) or zeebe (8)

    @property
    def named(self) -> etree._Element:
        """The element problems name: this one, or for an element the Modeler does not show on its
        own (no id, an event definition) the nearest one it does."""
        node: etree._Element | None = self.el
        while node is not None and (not node.get("id") or etree.QName(node).localname.endswith("EventDefinition")):
            node = node.getparent()
        return node if node is not None else self.el

    @property
    def id(self) -> str:
        return self.named.get("id") or ""

    @property
    def name(self) -> str:
        return self.named.get("name") or ""

    @property
    def kind(self) -> str:
        return etree.QName(self.el).localname

    def problem(self, message: str) -> None:
        self.report.problem(self.id, self.name, message)

    def converted(self, what: str) -> None:
        self.report.converted(self.id, what)


def extension_elements(el: etree._Element) -> etree._Element:
    """The element's ``bpmn:extensionElements``, created in its schema place (after documentation)."""
    tag = f"{{{BPMN_NS}}}extensionElements"
    found = el.find(tag)
    if found is not None:
        return found
    created = etree.Element(tag)
    at = sum(1 for c in el if isinstance(c.tag, str) and etree.QName(c).localname == "documentation")
    el.insert(at, created)
    return created


def set_property(el: etree._Element, name: str, value: str) -> None:
    ext = extension_elements(el)
    props = ext.find(f"{{{SPIFF_NS}}}properties")
    if props is None:
        props = etree.SubElement(ext, f"{{{SPIFF_NS}}}properties")
    prop = etree.SubElement(props, f"{{{SPIFF_NS}}}property")
    prop.set("name", name)
    prop.set("value", value)


def add_spiff_text(el: etree._Element, local: str, text: str) -> None:
    etree.SubElement(extension_elements(el), f"{{{SPIFF_NS}}}{local}").text = text


def value_expression(text: str) -> str | None:
    """The Python expression of a ``${...}`` (Camunda 7) or ``=...`` (Camunda 8, FEEL) value; None
    when the text is not an expression."""
    if is_expression(text):
        return convert_expression(text)
    if text.lstrip().startswith("="):
        return expression_to_python(text.lstrip()[1:])
    return None


def expression_or_literal(value: str) -> str:
    """An expression value as its Python expression, any other text as a quoted Python string."""
    python = value_expression(value)
    return repr(value) if python is None else python


def handle_user_task(item: Element) -> None:
    attrs = item.attrs
    if "formKey" in attrs:
        _form_key(item, attrs.pop("formKey"))
    if "candidateGroups" in attrs:
        _candidate_groups(item, attrs.pop("candidateGroups"))
    if "assignee" in attrs:
        _expression_property(item, "assignee", attrs.pop("assignee"), f"{item.prefix}:assignee")
    if "dueDate" in attrs:
        _due_date(item, attrs.pop("dueDate"))
    if "candidateUsers" in attrs:
        attrs.pop("candidateUsers")
        item.problem(f"{item.prefix}:candidateUsers: Weijian offers a task to a role (candidate group) or one "
                     "assignee, not to a list of users")


def _form_key(item: Element, value: str) -> None:
    if is_expression(value) or ":" in value or value.startswith("="):
        item.problem(f"{item.prefix}:formKey '{value}' is a Camunda form location or expression; name a form "
                     "registered in Weijian")
        return
    set_property(item.el, "formKey", value)
    item.converted(f"{item.prefix}:formKey -> formKey '{value}'")


def _candidate_groups(item: Element, value: str) -> None:
    if is_expression(value) or value.startswith("="):
        item.problem(f"{item.prefix}:candidateGroups '{value}' is an expression; Weijian needs a role name")
        return
    groups = sorted({g.strip() for g in value.split(",") if g.strip()})
    if len(groups) != 1:
        item.problem(f"{item.prefix}:candidateGroups '{value}' names {len(groups)} groups; Weijian offers a task to "
                     "one role (put it in that role's lane or keep one group)")
        return
    if not ROLE_NAME.match(groups[0]):
        item.problem(f"{item.prefix}:candidateGroups '{groups[0]}' is not a Weijian role name (lower case, digits, _)")
        return
    set_property(item.el, "candidateRole", groups[0])
    item.converted(f"{item.prefix}:candidateGroups -> candidateRole '{groups[0]}'")


def _expression_property(item: Element, prop: str, value: str, source: str) -> None:
    try:
        python = expression_or_literal(value)
    except NotConvertible as exc:
        item.problem(f"{source} '{value}': {exc}")
        return
    refusal = sandbox_refusal(python)
    if refusal:
        item.problem(f"{source} '{value}' -> {python}: refused by the sandbox: {refusal}")
        return
    set_property(item.el, prop, python)
    item.converted(f"{source} '{value}' -> {prop} {python}")


def _due_date(item: Element, value: str) -> None:
    if not is_expression(value) and not value.startswith("="):
        try:
            (datetime.fromisoformat if "T" in value else date.fromisoformat)(value.strip())
        except ValueError:
            item.problem(f"{item.prefix}:dueDate '{value}' is neither an ISO date nor a ${{...}} expression")
            return
    elif "(" in value:
        item.problem(f"{item.prefix}:dueDate '{value}' computes a date in Java; write it with Weijian's date "
                     "helpers (for example add_workdays(today(), 5)) as a dueDate property")
        return
    _expression_property(item, "dueDate", value.strip(), f"{item.prefix}:dueDate")


def handle_business_rule_task(item: Element, decisions: dict[str, Decision]) -> None:
    """``camunda:decisionRef`` names a decision of a DMN file in the same upload."""
    attrs = item.attrs
    ref = attrs.pop("decisionRef", None)
    binding = attrs.pop("decisionRefBinding", "latest")
    variable = attrs.pop("resultVariable", None)
    mapping = attrs.pop("mapDecisionResult", "resultList")
    if binding != "latest":
        item.problem(f"{item.prefix}:decisionRefBinding '{binding}': Weijian calls the decision deployed "
                     "with the process")
    if ref is None:
        _no_operator(item)
        return
    if is_expression(ref) or ref.startswith("="):
        item.problem(f"{item.prefix}:decisionRef '{ref}' is an expression; name the decision")
        return
    decision = decisions.get(ref)
    if decision is None:
        item.problem(f"no DMN file in this upload defines decision '{ref}'; upload it with the process")
        return
    add_spiff_text(item.el, "calledDecisionId", ref)
    item.converted(f"{item.prefix}:decisionRef -> calledDecisionId '{ref}'")
    if variable is None:
        item.converted(f"decision outputs {', '.join(decision.outputs)} are set as process variables by name")
        return
    _map_result(item, decision, variable, mapping)


def _map_result(item: Element, decision: Decision, variable: str, mapping: str) -> None:
    """Camunda's result variable, rebuilt from the outputs SpiffWorkflow sets by name. Outputs are
    set to None first, so a table without a matching rule gives None, as Camunda gives null."""
    outputs = decision.outputs
    if mapping == "zeebe":  # Camunda 8: the single output's value, or a context of all outputs
        mapping = "singleEntry" if len(outputs) == 1 else "singleResult"
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", variable) or not all(
            re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", o) for o in outputs) or decision.hit_policy != "UNIQUE":
        item.problem(f"{item.prefix}:resultVariable '{variable}' ({mapping}) cannot be rebuilt for this decision")
        return
    if mapping == "singleEntry" and len(outputs) == 1:
        post = f"{variable} = {outputs[0]}"
    elif mapping == "singleResult":
        none = " and ".join(f"{o} is None" for o in outputs)
        post = f"{variable} = None if {none} else {{{', '.join(f'{o!r}: {o}' for o in outputs)}}}"
    else:
        item.problem(f"{item.prefix}:mapDecisionResult '{mapping}' is not converted; use singleEntry (one output) "
                     "or singleResult, or read the outputs by name")
        return
    add_spiff_text(item.el, "preScript", "\n".join(f"{o} = None" for o in outputs))
    add_spiff_text(item.el, "postScript", post)
    item.converted(f"{item.prefix}:resultVariable '{variable}' ({mapping}) -> postScript: {post}")


_IMPLEMENTATIONS = ("class", "expression", "delegateExpression", "type", "topic", "resultVariable")


def handle_service_task(item: Element) -> None:
    """Java delegates, expressions and external tasks have no Weijian equivalent: each is reported."""
    found = [f"{item.prefix}:{a}='{item.attrs.pop(a)}'" for a in _IMPLEMENTATIONS if a in item.attrs]
    if found or item.kind == "serviceTask":
        _no_operator(item, ", ".join(found))


def _no_operator(item: Element, detail: str = "") -> None:
    what = f" ({detail})" if detail else ""
    item.problem(f"no operator{what}; choose a registered operator (spiffworkflow:serviceTaskOperator)")


def check_roles(process: etree._Element, report: FileReport) -> None:
    """Every user task needs someone: its candidate role, its lane (the lane name is the role; a task
    inside a subprocess takes the subprocess's lane) or an assignee. A lane whose name is not a
    role name would offer its tasks to nobody. Tasks already reported are not reported again."""
    lanes: dict[str, etree._Element] = {}
    for lane in process.iter(f"{{{BPMN_NS}}}lane"):
        for ref in lane.findall(f"{{{BPMN_NS}}}flowNodeRef"):
            lanes[(ref.text or "").strip()] = lane
    reported = {p["element"] for p in report.result.problems if p["file"] == report.file}
    bad_lanes: set[str] = set()
    for task in process.iter(f"{{{BPMN_NS}}}userTask"):
        props = {p.get("name"): p.get("value") for p in task.iter(f"{{{SPIFF_NS}}}property")}
        if props.get("candidateRole") or task.get("id") in reported:
            continue
        found_lane = _lane_of(task, lanes)
        if found_lane is None:
            if not props.get("assignee"):
                report.problem(task.get("id"), task.get("name"), "no role: give it candidate groups or put it "
                                                                 "in a lane named after a role")
            continue
        lane_name = (found_lane.get("name") or "").strip()
        if not ROLE_NAME.match(lane_name):
            if found_lane.get("id") not in bad_lanes:
                bad_lanes.add(found_lane.get("id") or "")
                report.problem(found_lane.get("id"), lane_name, "lane name is not a Weijian role name (lower "
                                                                "case, digits, _); Weijian offers the lane's "
                                                                "tasks to the role it names")
        else:
            report.converted(task.get("id"), f"role from lane '{lane_name}'")


def _lane_of(task: etree._Element, lanes: dict[str, etree._Element]) -> etree._Element | None:
    node: etree._Element | None = task
    while node is not None and etree.QName(node).localname != "process":
        found = lanes.get(node.get("id") or "")
        if found is not None:
            return found
        node = node.getparent()
    return None

"""Camunda Modeler DMN files (DMN 1.1-1.3, FEEL) to the decision tables SpiffWorkflow runs.

SpiffWorkflow's DMN parser validates DMN 1.1 (``20151101``), 1.2 (``20180521``) and 1.3
(``20191111``) against their XSDs, which is what Camunda Modeler 4 and 5 save: the namespace
stays. What changes is the content of each cell: FEEL unary tests become ``?`` expressions
(``engine.feel``), FEEL literals in output cells become Python literals, input expressions
become variable look-ups. SpiffWorkflow runs one decision table per file and knows the hit
policies UNIQUE (first match) and COLLECT; FIRST and ANY mean the same as its UNIQUE for a table
Camunda accepts, the others are reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from .camunda_report import CAMUNDA_DMN_NS, FileReport, sandbox_refusal
from .feel import input_expression_to_python, output_literal_to_python, unary_tests_to_python
from .juel import NotConvertible

DMN_NAMESPACES = ("http://www.omg.org/spec/DMN/20151101/dmn.xsd", "http://www.omg.org/spec/DMN/20180521/MODEL/",
                  "https://www.omg.org/spec/DMN/20191111/MODEL/")
_IGNORED_CAMUNDA = {"historyTimeToLive", "versionTag", "inputVariable"}


@dataclass
class Decision:
    """What a BPMN business rule task needs to know about a converted decision."""

    decision_id: str
    outputs: list[str] = field(default_factory=list)
    hit_policy: str = "UNIQUE"


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


def _child(el: etree._Element, name: str) -> etree._Element | None:
    return next((c for c in el if isinstance(c.tag, str) and _local(c) == name), None)


def _text_of(el: etree._Element) -> etree._Element | None:
    return _child(el, "text")


def is_dmn(root: etree._Element) -> bool:
    return isinstance(root.tag, str) and _local(root) == "definitions" and "DMN" in (etree.QName(root).namespace or "")


def convert_dmn(root: etree._Element, report: FileReport) -> Decision | None:
    """Convert ``root`` in place; returns its decision, or None when there is none to call."""
    namespace = etree.QName(root).namespace
    if namespace not in DMN_NAMESPACES:
        report.problem(None, None, f"DMN namespace {namespace} is not one SpiffWorkflow reads (DMN 1.1-1.3); "
                                   "save it as DMN 1.3")
        return None
    _strip_camunda_attributes(root, report)
    decisions = [el for el in root.iter() if isinstance(el.tag, str) and _local(el) == "decision"]
    if len(decisions) != 1:
        report.problem(None, None, f"{len(decisions)} decisions in one file: Weijian runs one decision table "
                                   "per DMN file; put each decision in a file of its own")
        return None
    decision = decisions[0]
    table = _child(decision, "decisionTable")
    if table is None:
        report.problem(decision.get("id"), decision.get("name"),
                       "only decision tables are converted (this decision has a literal expression or none)")
        return None
    result = Decision(decision.get("id") or "")
    _convert_hit_policy(table, result, report)
    inputs = [c for c in table if isinstance(c.tag, str) and _local(c) == "input"]
    for el in inputs:
        _convert_input(el, report)
    for el in (c for c in table if isinstance(c.tag, str) and _local(c) == "output"):
        if not el.get("name"):
            report.problem(el.get("id"), el.get("label"), "output column has no name (the variable it sets)")
        result.outputs.append(el.get("name") or "")
    for rule in (c for c in table if isinstance(c.tag, str) and _local(c) == "rule"):
        _convert_rule(rule, report)
    for other in [c for c in table if isinstance(c.tag, str) and _local(c) not in ("input", "output", "rule")]:
        report.problem(other.get("id"), other.get("name"), f"decision table element '{_local(other)}' is not "
                                                           "supported")
    return result


def _strip_camunda_attributes(root: etree._Element, report: FileReport) -> None:
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        for attr in [a for a in el.attrib if etree.QName(a).namespace == CAMUNDA_DMN_NS]:
            local = etree.QName(attr).localname
            if local in _IGNORED_CAMUNDA:
                del el.attrib[attr]
                report.converted(el.get("id"), f"ignored camunda:{local}")
            else:
                report.problem(el.get("id"), el.get("name") or el.get("label"), f"camunda:{local} is not supported")


def _convert_hit_policy(table: etree._Element, result: Decision, report: FileReport) -> None:
    policy = (table.get("hitPolicy") or "UNIQUE").upper()
    aggregation = table.get("aggregation")
    if policy in ("FIRST", "ANY"):
        table.set("hitPolicy", "UNIQUE")
        report.converted(table.get("id"), f"hit policy {policy} runs as first match (UNIQUE)")
        policy = "UNIQUE"
    elif policy == "COLLECT" and aggregation:
        report.problem(table.get("id"), None, f"COLLECT with aggregation {aggregation} is not supported")
    elif policy not in ("UNIQUE", "COLLECT"):
        report.problem(table.get("id"), None, f"hit policy {policy} is not supported (use UNIQUE, FIRST, ANY "
                                              "or COLLECT)")
    result.hit_policy = policy


def _foreign_language(el: etree._Element, report: FileReport, label: str | None) -> bool:
    language = (el.get("expressionLanguage") or "feel").lower()
    if language not in ("feel", "http://www.omg.org/spec/feel/20140401", "https://www.omg.org/spec/dmn/20191111/feel/"):
        report.problem(el.get("id"), label, f"expression language {language} is not converted (use FEEL)")
        return True
    if el.get("expressionLanguage"):
        del el.attrib["expressionLanguage"]
    return False


def _convert_input(el: etree._Element, report: FileReport) -> None:
    expression = _child(el, "inputExpression")
    text = _text_of(expression) if expression is not None else None
    label = el.get("label")
    if expression is None or text is None or _foreign_language(expression, report, label):
        if expression is None or text is None:
            report.problem(el.get("id"), label, "input column has no expression")
        return
    try:
        converted = input_expression_to_python(text.text)
    except NotConvertible as exc:
        report.problem(el.get("id"), label, f"input expression '{text.text}': {exc}")
        return
    refusal = sandbox_refusal(converted)
    if refusal:
        report.problem(el.get("id"), label, f"input expression '{text.text}': refused by the sandbox: {refusal}")
        return
    if converted != (text.text or "").strip():
        report.converted(el.get("id"), f"input expression '{text.text}' -> {converted}")
    text.text = converted


def _convert_rule(rule: etree._Element, report: FileReport) -> None:
    for entry in rule:
        if not isinstance(entry.tag, str) or _local(entry) not in ("inputEntry", "outputEntry"):
            continue
        text = _text_of(entry)
        if text is None:
            namespace = etree.QName(entry).namespace
            text = etree.SubElement(entry, f"{{{namespace}}}text" if namespace else "text")
        if _foreign_language(entry, report, rule.get("id")):
            continue
        source = text.text
        try:
            if _local(entry) == "inputEntry":
                converted = unary_tests_to_python(source)
            else:
                converted = output_literal_to_python(source)
        except NotConvertible as exc:
            report.problem(entry.get("id"), rule.get("id"), f"cell '{source}': {exc}")
            continue
        if converted != (source or "").strip() and (source or "").strip():
            report.converted(entry.get("id"), f"'{(source or '').strip()}' -> {converted}")
        if _local(entry) == "outputEntry" and not converted:
            converted = "None"  # an empty output cell is null in Camunda ('' in SpiffWorkflow)
        refusal = sandbox_refusal(converted.replace("?", "dmninputexpr")) if converted != "-" else None
        if refusal:
            report.problem(entry.get("id"), rule.get("id"), f"cell '{source}' -> {converted}: refused by the "
                                                            f"sandbox: {refusal}")
            continue
        text.text = converted or None

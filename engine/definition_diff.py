"""What changed between two versions of a bundle, element by element, for the diagram.

A deploy records which elements were added, removed and changed against the version before,
so an administrator sees on the diagram what a new version does differently before choosing
to migrate running cases onto it. Elements are compared by id; an element "changed" when its
own XML (attributes, properties, scripts, conditions, flows in and out) differs, ignoring
whitespace, attributes written at their default, the diagram's layout (``bpmndi``) and the
contents of child elements that have ids of their own (those are compared on their own).
"""

from __future__ import annotations

from collections.abc import Mapping
from copy import deepcopy

from lxml import etree

from .errors import EngineError
from .xmlsafe import DEFAULT_MAX_BYTES, parse_xml

_DIAGRAM_NS = ("http://www.omg.org/spec/BPMN/20100524/DI", "https://www.omg.org/spec/DMN/20191111/DMNDI/")
# Attributes at their BPMN default: a modeler may write or omit them (bpmn-js omits them).
_DEFAULTS = {"cancelActivity": "true", "isInterrupting": "true", "isForCompensation": "false", "startQuantity": "1",
             "completionQuantity": "1", "isSequential": "false", "parallelMultiple": "false", "instantiate": "false",
             "triggeredByEvent": "false", "gatewayDirection": "Unspecified", "isImmediate": "false",
             "implementation": "##unspecified", "isClosed": "false"}
_SKIP = {"definitions", "process", "collaboration", "laneSet", "extensionElements", "property", "properties",
         "parameter", "parameters", "serviceTaskOperator", "documentation", "text", "message",
         "correlationProperty", "correlationPropertyRetrievalExpression", "formalExpression"}


def _signatures(text: str, filename: str) -> dict[str, bytes]:
    """id -> canonical bytes of each identified element (outside the diagram section)."""
    try:
        root = parse_xml(text.encode("utf-8"), filename, max(DEFAULT_MAX_BYTES, len(text) * 4))
    except EngineError:
        return {}
    found: dict[str, bytes] = {}
    for el in root.iter():
        if not isinstance(el.tag, str) or etree.QName(el).namespace in _DIAGRAM_NS:
            continue
        element_id = el.get("id")
        if not element_id or etree.QName(el).localname in _SKIP:
            continue
        own = deepcopy(el)
        for child in list(own):
            if isinstance(child.tag, str) and child.get("id") and etree.QName(child).localname not in _SKIP:
                own.remove(child)
        for node in own.iter():
            for attr, default in _DEFAULTS.items():
                if node.get(attr) == default:
                    del node.attrib[attr]
            if node.text is not None:
                node.text = node.text.strip()
            node.tail = None
        found[element_id] = etree.tostring(own, method="c14n")
    return found


def diff_sources(old: Mapping[str, str], new: Mapping[str, str]) -> dict[str, list[str]]:
    """{"added": [...], "removed": [...], "changed": [...]} element ids, sorted, over all files."""
    before: dict[str, bytes] = {}
    after: dict[str, bytes] = {}
    for name, text in old.items():
        before.update(_signatures(text, name))
    for name, text in new.items():
        after.update(_signatures(text, name))
    return {
        "added": sorted(set(after) - set(before)),
        "removed": sorted(set(before) - set(after)),
        "changed": sorted(k for k in set(before) & set(after) if before[k] != after[k]),
    }

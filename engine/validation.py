"""Every problem of a BPMN/DMN bundle before it is deployed, each tied to its element.

``deploy`` stops at the first thing it cannot run. An administrator editing a diagram needs
all of them at once, on the elements they concern, and also what would only hurt later: a
form key nobody registered, a lane no role matches, a service task without an operator, call
activities that call each other for ever, a message thrown that nothing catches, an element
a token can enter but never leave. ``validate_bundle`` reports these as ``Problem`` rows;
``error`` ones block a deploy, ``warning`` ones are shown and allowed.

The engine knows no forms, roles or operators of its own: the caller passes what exists in a
``Context`` (the web layer builds it from the registries). Each problem carries a stable
``code`` and its ``params`` so the page can say it in the user's language; ``message`` is
the English sentence for the API and logs. Names are element ids and names, never a repr.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from .errors import EngineError, InvalidDefinition
from .sandbox import SandboxError, check_script
from .xmlsafe import DEFAULT_MAX_BYTES, parse_xml

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"

# Flow nodes a token can rest in and must leave through a sequence flow.
_NEEDS_WAY_OUT = {"task", "userTask", "manualTask", "serviceTask", "scriptTask", "sendTask", "receiveTask",
                  "businessRuleTask", "callActivity", "subProcess", "startEvent", "intermediateCatchEvent",
                  "intermediateThrowEvent", "boundaryEvent", "exclusiveGateway", "inclusiveGateway",
                  "parallelGateway", "eventBasedGateway", "complexGateway"}
_CATCHERS = {"startEvent", "intermediateCatchEvent", "boundaryEvent", "receiveTask"}
_THROWERS = {"intermediateThrowEvent", "endEvent", "sendTask"}


@dataclass(frozen=True)
class Problem:
    severity: str  # "error" blocks deploy, "warning" does not
    code: str
    message: str
    file: str | None = None
    element: str | None = None
    name: str | None = None
    params: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Context:
    """What exists outside the bundle. Empty sets mean "unknown": that check is skipped."""

    forms: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()
    operators: frozenset[str] = frozenset()
    processes: frozenset[str] = frozenset()  # process keys deployed (call-activity targets)
    calls: Mapping[str, frozenset[str]] = field(default_factory=dict)  # deployed key -> keys it calls
    catchers: frozenset[str] = frozenset()  # message names some deployed process catches
    external_messages: frozenset[str] = frozenset()  # messages the packages' code delivers itself


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _named(el: etree._Element) -> tuple[str | None, str | None]:
    return el.get("id"), el.get("name")


def _where(el: etree._Element) -> str:
    element, name = _named(el)
    return f"'{element}'" + (f" ({name})" if name else "")


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, severity: str, code: str, message: str, file: str | None, el: etree._Element | None = None,
            element: str | None = None, **params: str) -> None:
        name = None
        if el is not None:
            element, name = _named(el)
        self.problems.append(Problem(severity, code, message, file, element, name, dict(params)))


def validate_bundle(files: Mapping[str, bytes], context: Context | None = None,
                    max_bytes: int = DEFAULT_MAX_BYTES) -> list[Problem]:
    """All problems of ``files`` (name -> bytes), errors first; an empty list means deployable."""
    ctx = context or Context()
    out = _Collector()
    roots: dict[str, etree._Element] = {}
    for name in sorted(files):
        try:
            roots[name] = parse_xml(files[name], name, max_bytes)
        except EngineError as exc:
            out.add("error", "unsafe_xml", exc.message, name)
    if not any(n.endswith(".bpmn") for n in files):
        out.add("error", "no_bpmn", "the bundle holds no BPMN file", None)
    bpmn_roots = {n: r for n, r in roots.items() if not n.endswith(".dmn")}
    for name, root in bpmn_roots.items():
        _check_elements(name, root, ctx, out)
    _check_calls(bpmn_roots, ctx, out)
    _check_messages(bpmn_roots, ctx, out)
    if not out.problems or all(p.severity == "warning" for p in out.problems):
        _check_parse(files, max_bytes, out)
    return sorted(out.problems, key=lambda p: (p.severity != "error", p.file or "", p.element or ""))


def blocking(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def _check_parse(files: Mapping[str, bytes], max_bytes: int, out: _Collector) -> None:
    """What only SpiffWorkflow's parser sees (schema, references, script refusals), and what a
    deploy would accept but ignore or never complete (its warnings, code ``ignored``)."""
    from .definitions import bundle_warnings

    try:
        warnings = bundle_warnings(files, max_bytes)
    except InvalidDefinition as exc:
        problem = exc.details.get("problem", exc.message)
        out.add("error", "invalid", str(problem), exc.filename, element=exc.element_id)
        return
    except EngineError as exc:
        out.add("error", "invalid", exc.message, None)
        return
    for warning in warnings:
        out.add("warning", "ignored", warning["message"], warning["file"], element=warning["element"])


def _properties(el: etree._Element) -> dict[str, str]:
    return {p.get("name", ""): p.get("value", "") for p in el.iter(f"{{{SPIFF}}}property")}


def _text(el: etree._Element, local: str) -> str:
    found = el.find(f"{{{BPMN}}}{local}")
    return (found.text or "").strip() if found is not None else ""


def _check_expression(source: str, mode: str, file: str, el: etree._Element, what: str, out: _Collector) -> bool:
    try:
        check_script(source, "eval" if mode == "eval" else "exec")
    except SandboxError as exc:
        out.add("error", "expression_refused", f"{what} of {_where(el)} refused: {exc}", file, el,
                what=what, reason=str(exc))
        return False
    except (RecursionError, SyntaxError, ValueError) as exc:
        out.add("error", "expression_refused", f"{what} of {_where(el)} cannot be read: {type(exc).__name__}",
                file, el, what=what, reason=type(exc).__name__)
        return False
    return True


def _check_elements(file: str, root: etree._Element, ctx: Context, out: _Collector) -> None:
    flows_out: set[str] = set()
    for flow in root.iter(f"{{{BPMN}}}sequenceFlow"):
        flows_out.add(flow.get("sourceRef", ""))
        condition = flow.find(f"{{{BPMN}}}conditionExpression")
        if condition is not None and (condition.text or "").strip():
            _check_expression((condition.text or "").strip(), "eval", file, flow, "condition", out)
    for lane in root.iter(f"{{{BPMN}}}lane"):
        role = (lane.get("name") or "").strip()
        if ctx.roles and role and role not in ctx.roles:
            out.add("error", "unknown_role", f"lane {_where(lane)} names no known role", file, lane, role=role)
    for el in root.iter():
        local = _local(el)
        if local in _NEEDS_WAY_OUT and el.get("id") not in flows_out and not _may_end_here(el, local):
            out.add("error", "no_way_out", f"{_where(el)} has no outgoing sequence flow: a token would stay "
                    "there for ever", file, el)
        if local:
            _check_one(file, el, local, ctx, out)


def _check_one(file: str, el: etree._Element, local: str, ctx: Context, out: _Collector) -> None:
    """The checks of one element by its kind: forms and roles, operators, scripts, timers."""
    if local in ("userTask", "manualTask"):
        _check_user_task(file, el, local, ctx, out)
    elif local == "serviceTask":
        _check_service_task(file, el, ctx, out)
    elif local == "scriptTask":
        _check_expression(_text(el, "script"), "exec", file, el, "script", out)
    elif local == "timerEventDefinition":
        _check_timer(file, el, out)
    for script_tag in ("preScript", "postScript"):
        found = el.find(f"{{{SPIFF}}}{script_tag}")
        if found is not None and (found.text or "").strip():
            _check_expression((found.text or "").strip(), "exec", file, el, script_tag, out)


def _check_service_task(file: str, el: etree._Element, ctx: Context, out: _Collector) -> None:
    operator = el.find(f".//{{{SPIFF}}}serviceTaskOperator")
    key = operator.get("id", "") if operator is not None else ""
    if not key:
        out.add("error", "no_operator", f"service task {_where(el)} names no operator", file, el)
    elif ctx.operators and key not in ctx.operators:
        out.add("error", "unknown_operator", f"service task {_where(el)}: operator '{key}' is not registered",
                file, el, operator=key)
    for param in el.iter(f"{{{SPIFF}}}parameter"):
        if param.get("value"):
            _check_expression(param.get("value", ""), "eval", file, el, f"parameter {param.get('id')}", out)


def _may_end_here(el: etree._Element, local: str) -> bool:
    """A subprocess's last element or a task inside an event subprocess may end its scope; and a
    compensation boundary event has no flow. Everything else needs a way out."""
    if local == "boundaryEvent" and el.find(f"{{{BPMN}}}compensateEventDefinition") is not None:
        return True
    if local == "subProcess" and el.get("triggeredByEvent") == "true":
        return True
    return bool(el.get("isForCompensation") == "true")


def _check_user_task(file: str, el: etree._Element, local: str, ctx: Context, out: _Collector) -> None:
    props = _properties(el)
    form = props.get("formKey", "").strip()
    if local == "userTask" and not form:
        out.add("warning", "no_form", f"user task {_where(el)} has no form: the officer sees only a done button",
                file, el)
    elif form and ctx.forms and form not in ctx.forms:
        out.add("error", "unknown_form", f"user task {_where(el)}: form '{form}' is not registered", file, el,
                form=form)
    role = props.get("candidateRole", "").strip()
    if role and ctx.roles and role not in ctx.roles:
        out.add("error", "unknown_role", f"user task {_where(el)}: candidate role '{role}' is not a known role",
                file, el, role=role)
    for key in ("dueDate", "assignee"):
        if props.get(key, "").strip():
            _check_expression(props[key].strip(), "eval", file, el, key, out)


def _literal(source: str) -> str | None:
    try:
        value = ast.literal_eval(source)
    except (ValueError, SyntaxError, RecursionError, MemoryError):
        return None
    return value if isinstance(value, str) else None


def _check_timer(file: str, el: etree._Element, out: _Collector) -> None:
    parent = el.getparent()
    owner = parent if parent is not None else el
    for kind in ("timeDate", "timeDuration", "timeCycle"):
        source = _text(el, kind)
        if not source:
            continue
        if not _check_expression(source, "eval", file, owner, f"timer {kind}", out):
            return
        value = _literal(source)
        if value is None:
            return
        try:
            if kind == "timeDate":
                TimerEventDefinition.get_datetime(value)
            elif kind == "timeDuration":
                TimerEventDefinition.parse_iso_duration(value)
            else:
                TimerEventDefinition.parse_iso_recurring_interval(value)
        except Exception as exc:  # SpiffWorkflow raises plain Exception/ValueError here
            out.add("error", "bad_timer", f"timer of {_where(owner)}: '{value}' is not an ISO 8601 {kind}",
                    file, owner, value=value, kind=kind, reason=type(exc).__name__)
        return
    out.add("error", "bad_timer", f"timer of {_where(owner)} has no date, duration or cycle", file, owner,
            value="", kind="")


def _processes(roots: Mapping[str, etree._Element]) -> dict[str, tuple[str, etree._Element]]:
    return {p.get("id", ""): (f, p) for f, r in roots.items() for p in r.iter(f"{{{BPMN}}}process")}


def _check_calls(roots: Mapping[str, etree._Element], ctx: Context, out: _Collector) -> None:
    """Call-activity targets are in the bundle, and no process calls itself, directly or around a
    circle (also through deployed processes, whose calls ``Context.calls`` gives)."""
    here = _processes(roots)
    graph: dict[str, set[str]] = {k: set(v) for k, v in ctx.calls.items()}
    activities: list[tuple[str, str, etree._Element, str]] = []
    for key, (file, process) in here.items():
        graph[key] = set()
        for call in process.iter(f"{{{BPMN}}}callActivity"):
            target = (call.get("calledElement") or "").strip()
            if not target:
                out.add("error", "call_no_target", f"call activity {_where(call)} names no process", file, call)
                continue
            graph[key].add(target)
            activities.append((key, file, call, target))
    for key, file, call, target in activities:
        if target not in here:  # SpiffWorkflow builds a called process from its caller's bundle only
            out.add("error", "call_unknown", f"call activity {_where(call)} calls '{target}', which is not in this "
                    "bundle (a called process is deployed with its caller)", file, call, target=target)
        elif _reaches(graph, target, key):
            out.add("error", "call_cycle", f"call activity {_where(call)} calls '{target}', which calls back to "
                    f"'{key}': an instance would nest for ever", file, call, target=target, process=key)


def _reaches(graph: Mapping[str, set[str]], start: str, goal: str) -> bool:
    seen: set[str] = set()
    frontier = [start]
    while frontier and len(seen) < 10_000:
        node = frontier.pop()
        if node == goal:
            return True
        if node in seen:
            continue
        seen.add(node)
        frontier.extend(graph.get(node, ()))
    return False


def message_names(root: etree._Element) -> tuple[set[str], set[str]]:
    """(thrown, caught) message names of one BPMN document."""
    names = {m.get("id"): (m.get("name") or m.get("id") or "") for m in root.iter(f"{{{BPMN}}}message")}
    thrown: set[str] = set()
    caught: set[str] = set()
    for el in root.iter():
        local = _local(el)
        ref = el.get("messageRef")
        if ref is None:
            definition = el.find(f"{{{BPMN}}}messageEventDefinition")
            ref = definition.get("messageRef") if definition is not None else None
        if ref is None:
            continue
        if local in _CATCHERS:
            caught.add(names.get(ref, ref))
        elif local in _THROWERS:
            thrown.add(names.get(ref, ref))
    return thrown, caught


def _check_messages(roots: Mapping[str, etree._Element], ctx: Context, out: _Collector) -> None:
    caught = set(ctx.catchers)
    throws: list[tuple[str, etree._Element, str]] = []
    for file, root in roots.items():
        thrown_here, caught_here = message_names(root)
        caught |= caught_here
        if thrown_here:
            names = {m.get("id"): (m.get("name") or m.get("id") or "") for m in root.iter(f"{{{BPMN}}}message")}
            for el in root.iter():
                if _local(el) not in _THROWERS:
                    continue
                definition = el.find(f"{{{BPMN}}}messageEventDefinition")
                ref = el.get("messageRef") or (definition.get("messageRef") if definition is not None else None)
                if ref:
                    throws.append((file, el, names.get(ref, ref)))
    for file, el, name in throws:
        if name not in caught and name not in ctx.external_messages:
            out.add("error", "message_uncaught", f"{_where(el)} throws message '{name}', which no process catches "
                    "and no process starts on", file, el, message_name=name)


def catchers_of(sources: Mapping[str, str]) -> set[str]:
    """Message names the stored sources of a deployed definition catch (for ``Context.catchers``)."""
    caught: set[str] = set()
    for name, text in sources.items():
        if name.endswith(".bpmn"):
            try:
                caught |= message_names(parse_xml(text.encode("utf-8"), name, max(DEFAULT_MAX_BYTES, len(text) * 4)))[1]
            except EngineError:
                continue
    return caught

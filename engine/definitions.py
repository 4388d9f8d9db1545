"""Deploying BPMN/DMN: validate, parse, store an immutable version; cache parsed specs.

A deployment is a bundle of files (one process package: its BPMN and DMN). Every executable
process in the bundle gets a version keyed by the bundle's content hash, so redeploying the
same files is a no-op and changed files make a new version that running instances ignore.
"""

from __future__ import annotations

import ast
import hashlib
import logging
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.specs.mixins.manual_task import ManualTask
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.specs.mixins.none_task import NoneTask
from SpiffWorkflow.bpmn.specs.mixins.service_task import ServiceTask
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR as SPIFF_VALIDATOR
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, object_session

from . import audit
from .actor import Actor
from .bpmn_tolerance import (
    BundleWarning,
    check_data_associations,
    non_executable,
    relax_diagram,
    require_executable,
    strip_data_stores,
    undrivable,
)
from .db import database_key
from .errors import InvalidDefinition, UnknownProcess
from .hotread import DefinitionRef, newest_definition
from .materialize import is_human_task
from .models import ProcessDefinition, StartTimer
from .sandbox import SandboxError, check_script
from .timer_horizon import check_literal_timers
from .xmlsafe import DEFAULT_MAX_BYTES, parse_xml, utf8_files

log = logging.getLogger(__name__)
_DRIVEN = (UserTask, ManualTask, ServiceTask)  # manual specs the engine completes (inbox rows, jobs)


def _validator() -> BpmnValidator:
    """BPMN 2.0 XSD plus SpiffWorkflow's extension schema, loaded once by SpiffWorkflow."""
    return SPIFF_VALIDATOR


@dataclass(frozen=True)
class LoadedSpec:
    spec: BpmnProcessSpec
    subprocess_specs: dict[str, BpmnProcessSpec]


def _element_at_line(root: etree._Element, line: int | None) -> str | None:
    if not line:
        return None
    best = None
    for el in root.iter():
        at: int = getattr(el, "sourceline", None) or 0
        if isinstance(el.tag, str) and el.get("id") and at <= line:
            best = el.get("id")
            if at == line:
                break
    return best


BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def _check_references(root: etree._Element, filename: str) -> None:
    """Sequence flows must join elements of their own process (SpiffWorkflow's message is cryptic)."""
    for container in root.iter(f"{{{BPMN_NS}}}process", f"{{{BPMN_NS}}}subProcess"):
        ids = {el.get("id") for el in container if isinstance(el.tag, str) and el.get("id")}
        for flow in container.findall(f"{{{BPMN_NS}}}sequenceFlow"):
            for attr in ("sourceRef", "targetRef"):
                ref = flow.get(attr)
                if ref not in ids:
                    raise InvalidDefinition(filename, flow.get("id"),
                                            f"sequence flow {attr} '{ref}' is not an element of "
                                            f"'{container.get('id')}'")


DMN_QMARK = re.compile(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)")  # SpiffWorkflow's DMNEngine rewrite


def _check_dmn_expressions(root: etree._Element, filename: str) -> None:
    """Decision tables run through the same sandbox: refuse at deploy time what it would refuse.

    Input entries are checked as the DMN engine evaluates them (``?`` stands for the input).
    """
    for el in root.iter():
        if not isinstance(el.tag, str) or etree.QName(el).localname not in ("inputExpression", "inputEntry",
                                                                            "outputEntry"):
            continue
        text_el = next((c for c in el if isinstance(c.tag, str) and etree.QName(c).localname == "text"), None)
        source = (text_el.text or "").strip() if text_el is not None else ""
        if not source or source == "-":
            continue
        if etree.QName(el).localname == "inputEntry":
            source = DMN_QMARK.sub("dmninputexpr", source)
            if "dmninputexpr" not in source:
                try:
                    ast.parse(source)
                    source = f"(dmninputexpr) == ({source})"
                except SyntaxError:
                    source = f"dmninputexpr {source}"
                except (RecursionError, MemoryError):
                    pass  # too deeply nested to parse: check_script refuses it and says so
        try:
            check_script(source, "eval")
        except SandboxError as exc:
            raise InvalidDefinition(filename, el.get("id"), f"decision table expression refused: {exc}") from exc


@dataclass
class _Bundle:
    parser: SpiffBpmnParser
    process_ids: list[str]
    warnings: list[BundleWarning]


def _parse_bundle(files: Mapping[str, bytes], max_bytes: int) -> _Bundle:
    """Parse every file through the hardened parser; raise InvalidDefinition naming file and element.

    What never executes but other tools write (diagram extras, data stores) is removed from the
    parsed tree first, each with a warning (``engine.bpmn_tolerance``)."""
    parser = SpiffBpmnParser()
    bpmn_roots: dict[str, etree._Element] = {}
    warnings: list[BundleWarning] = []
    for name in sorted(files):
        root = parse_xml(files[name], name, max_bytes)
        if name.endswith(".dmn"):
            try:
                parser.add_dmn_xml(root, filename=name)
            except ValidationException as exc:
                raise InvalidDefinition(name, exc.id or None, str(exc).splitlines()[0]) from exc
            _check_dmn_expressions(root, name)
            continue
        check_data_associations(root, name)
        warnings.extend(strip_data_stores(root, name))
        warnings.extend(relax_diagram(root, _validator().validator, name))
        try:
            _validator().validate(root, name)
        except ValidationException as exc:
            line = exc.line_number if isinstance(exc.line_number, int) else None
            element = _element_at_line(root, line)
            where = f" (line {line})" if line else ""
            raise InvalidDefinition(name, element, f"not valid BPMN 2.0{where}: {exc}") from exc
        _check_references(root, name)
        try:
            parser.add_bpmn_xml(root, filename=name)
        except ValidationException as exc:
            raise InvalidDefinition(name, exc.id or None, str(exc).splitlines()[0]) from exc
        bpmn_roots[name] = root
    if not bpmn_roots:
        raise InvalidDefinition(", ".join(sorted(files)) or "(no files)", None, "no BPMN file in the deployment")
    warnings.extend(non_executable(bpmn_roots))
    require_executable(parser.get_process_ids(), sorted(bpmn_roots))
    return _Bundle(parser, parser.get_process_ids(), warnings)


def _load(parser: SpiffBpmnParser, process_id: str, filename: str,
          warnings: list[BundleWarning] | None = None) -> LoadedSpec:
    try:
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except ValidationException as exc:
        raise InvalidDefinition(exc.file_name or filename, exc.id or None, str(exc).splitlines()[0]) from exc
    except SpiffWorkflowException as exc:
        raise InvalidDefinition(filename, None, str(exc).splitlines()[0]) from exc
    for s in [spec, *subprocess_specs.values()]:
        _check_scripts(s, filename)
        check_literal_timers(s, filename)
        _prepare_spec(s, top=s is spec)
        if warnings is not None:
            warnings.extend(undrivable(s, getattr(s, "file", None) or filename, _DRIVEN))
    return LoadedSpec(spec, subprocess_specs)


def _expressions(task_spec: Any) -> list[tuple[str, str, str]]:
    """(element id, mode, source) of every script and expression a task spec will run."""
    element = getattr(task_spec, "bpmn_id", None) or task_spec.name
    found: list[tuple[str, str, str]] = []
    for attr in ("script", "prescript", "postscript"):
        source = getattr(task_spec, attr, None)
        if isinstance(source, str) and source.strip():
            found.append((element, "exec", source))
    for condition, _target in getattr(task_spec, "cond_task_specs", []) or []:
        if isinstance(condition, str) and condition.strip():
            found.append((element, "eval", condition))
        elif getattr(condition, "args", None):
            found.extend((element, "eval", a) for a in condition.args if isinstance(a, str))
    definition = getattr(task_spec, "start_timer", None) or getattr(task_spec, "event_definition", None)
    expression = getattr(definition, "expression", None)
    if isinstance(expression, str) and expression.strip():
        found.append((element, "eval", expression))
    props = (getattr(task_spec, "extensions", None) or {}).get("properties", {})
    found.extend((element, "eval", props[k]) for k in ("dueDate", "assignee") if props.get(k))
    for param in (getattr(task_spec, "operation_params", None) or {}).values():
        if isinstance(param, dict) and isinstance(param.get("value"), str):
            found.append((element, "eval", param["value"]))
    return found


def _check_scripts(spec: BpmnProcessSpec, filename: str) -> None:
    """Refuse at deploy time what the sandbox would refuse at run time, naming the element."""
    for task_spec in spec.task_specs.values():
        for element, mode, source in _expressions(task_spec):
            try:
                check_script(source, "eval" if mode == "eval" else "exec")
            except SandboxError as exc:
                raise InvalidDefinition(filename, element, f"script/expression refused: {exc}") from exc


def _prepare_spec(spec: BpmnProcessSpec, top: bool) -> None:
    """Adapt a parsed spec to how the engine runs it.

    Service tasks become waits: the engine runs them asynchronously through the outbox. A plain
    ``bpmn:task`` (SpiffWorkflow makes it manual: a task nothing would ever complete) passes
    straight through, as in Camunda; a ``bpmn:manualTask`` stays manual and becomes an inbox
    task like a user task without a form (``engine.materialize.is_human_task``).
    A timer start event of the process is the engine's schedule (``engine_start_timer``
    starts one instance per firing), so inside an instance it behaves as a none start event.

    A loop or multi-instance task merges each finished instance into itself through a handler
    on the instance spec's ``completed_event``. SpiffWorkflow connects it when the first
    instance is created, or when a spec is restored by its own serializer; a spec parsed from
    BPMN in a process that never created an instance would leave it unconnected, and the
    instances completed there would never merge (the case stuck with no ready task). It is
    connected here, once, for every spec the engine runs.
    """
    connect_loop_merges(spec)
    for task_spec in spec.task_specs.values():
        if isinstance(task_spec, ServiceTask):
            task_spec.manual = True
        elif isinstance(task_spec, NoneTask):
            task_spec.manual = False
        definition = getattr(task_spec, "event_definition", None)
        if top and isinstance(task_spec, StartEvent) and isinstance(definition, TimerEventDefinition):
            task_spec.start_timer = definition
            task_spec.event_definition = NoneEventDefinition()


def connect_loop_merges(spec: BpmnProcessSpec) -> None:
    """Connect each loop task's ``merge_child`` to the completion of its instance spec, as
    SpiffWorkflow's own spec deserializer does (``BpmnProcessSpecConverter.from_dict``)."""
    for task_spec in spec.task_specs.values():
        if isinstance(task_spec, LoopTask):
            child = spec.task_specs[task_spec.task_spec]
            if not child.completed_event.is_connected(task_spec.merge_child):
                child.completed_event.connect(task_spec.merge_child)


def _summarize(loaded: LoadedSpec) -> dict[str, Any]:
    spec = loaded.spec
    user_tasks = []
    start: dict[str, Any] = {"kind": "none"}
    messages: list[str] = []
    lanes: set[str] = set()
    for s in [spec, *loaded.subprocess_specs.values()]:
        for ts in s.task_specs.values():
            if is_human_task(ts):
                props = (getattr(ts, "extensions", None) or {}).get("properties", {})
                user_tasks.append({"id": ts.bpmn_id, "name": ts.bpmn_name, "lane": ts.lane,
                                   "form_key": props.get("formKey")})
                if ts.lane:
                    lanes.add(ts.lane)
            definition = getattr(ts, "start_timer", None) or getattr(ts, "event_definition", None)
            if isinstance(definition, MessageEventDefinition):
                messages.append(definition.name)
            if isinstance(ts, StartEvent) and s is spec:
                if isinstance(definition, TimerEventDefinition):
                    start = {"kind": "timer", "element": ts.bpmn_id, "expression": definition.expression,
                             "type": type(definition).__name__}
                elif isinstance(definition, MessageEventDefinition):
                    start = {"kind": "message", "element": ts.bpmn_id, "message": definition.name}
    return {"start": start, "user_tasks": user_tasks, "lanes": sorted(lanes), "messages": sorted(set(messages)),
            "called": sorted(loaded.subprocess_specs)}


def content_hash(files: Mapping[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return digest.hexdigest()


def parse_and_load(files: Mapping[str, bytes], max_bytes: int = DEFAULT_MAX_BYTES) -> dict[str, LoadedSpec]:
    """Every executable process of a bundle, parsed and checked as a deploy would (nothing stored)."""
    return _parse_and_load(files, max_bytes)[0]


def _parse_and_load(files: Mapping[str, bytes], max_bytes: int
                    ) -> tuple[dict[str, LoadedSpec], list[BundleWarning]]:
    bundle = _parse_bundle(files, max_bytes)
    first_file = sorted(files)[0]
    loaded = {pid: _load(bundle.parser, pid, first_file, bundle.warnings) for pid in bundle.process_ids}
    return loaded, list(dict.fromkeys(bundle.warnings))  # a spec shared by two processes warns once


def bundle_warnings(files: Mapping[str, bytes], max_bytes: int = DEFAULT_MAX_BYTES) -> list[dict[str, Any]]:
    """What a deploy of ``files`` would accept but warn about (``{"file", "element", "message"}``
    each), without deploying; raises ``InvalidDefinition`` as deploy would for what it refuses."""
    return [w.as_dict() for w in _parse_and_load(utf8_files(files, max_bytes), max_bytes)[1]]


def deploy(session: Session, files: Mapping[str, bytes], actor: Actor,
           max_bytes: int = DEFAULT_MAX_BYTES, reason: str | None = None,
           rollback: bool = False) -> list[ProcessDefinition]:
    """Deploy a bundle; returns the definition (new or existing) of each executable process.

    Files already deployed as some version of a process are that version: deploying a package
    from disk again (``weijian deploy`` at every start) neither adds a version nor undoes what an
    administrator deployed since. Only ``rollback=True`` (an administrator deploying an older
    version's files on purpose) makes them a new version, which records that it is a rollback.
    A bundle identical to the newest version is always that version. Each new version records
    what changed against the one before (``summary["diff"]``) and the administrator's reason.
    """
    from .definition_diff import diff_sources

    files = utf8_files(files, max_bytes)  # GBK or UTF-16 from a modelling tool: stored as UTF-8 text
    loaded, warnings = _parse_and_load(files, max_bytes)
    for warning in warnings:
        log.warning("deploy: %s: %s", warning.file, warning.message)
    bundle_hash = content_hash(files)
    sources = {n: files[n].decode("utf-8") for n in files}
    result = []
    for pid, spec in loaded.items():
        previous = session.scalar(select(ProcessDefinition).where(ProcessDefinition.process_key == pid)
                                  .order_by(ProcessDefinition.version.desc()).limit(1))
        if previous is not None and previous.content_hash == bundle_hash:
            result.append(previous)
            continue
        if not rollback:
            existing = session.scalar(select(ProcessDefinition).where(
                ProcessDefinition.process_key == pid, ProcessDefinition.content_hash == bundle_hash)
                .order_by(ProcessDefinition.version.desc()).limit(1))
            if existing is not None:
                result.append(existing)
                continue
        summary = _summarize(spec)
        summary["warnings"] = [w.as_dict() for w in warnings]
        same_as = None
        if previous is not None:
            summary["diff"] = diff_sources(previous.sources, sources)
            same_as = session.scalar(select(func.min(ProcessDefinition.version)).where(
                ProcessDefinition.process_key == pid, ProcessDefinition.content_hash == bundle_hash))
            if same_as is not None:
                summary["rollback_to"] = same_as
        if reason:
            summary["reason"] = reason
        definition = ProcessDefinition(
            process_key=pid, name=spec.spec.description or pid, version=(previous.version if previous else 0) + 1,
            content_hash=bundle_hash, sources=sources, summary=summary, deployed_by=actor.user_id)
        session.add(definition)
        session.flush()
        _SPEC_CACHE[_cache_key(session, definition.id)] = spec
        _register_start_timer(session, definition)
        data: dict[str, Any] = {"process_key": pid, "version": definition.version, "content_hash": bundle_hash,
                                "files": sorted(files)}
        if reason:
            data["reason"] = reason
        if "diff" in summary:
            data["diff"] = {k: len(v) for k, v in summary["diff"].items()}
        if same_as is not None:
            data["rollback_to"] = same_as
        audit.append(session, actor.user_id, "deploy", data=data)
        result.append(definition)
    return result


def read_bundle(folder: Path) -> dict[str, bytes]:
    """The BPMN and DMN files of one process folder."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.suffix in (".bpmn", ".dmn")}


def deploy_directory(session: Session, directory: Path, actor: Actor,
                     bundle_files: Callable[[Path], Mapping[str, bytes]] = read_bundle) -> list[ProcessDefinition]:
    """Deploy every process package under ``directory`` (each folder with BPMN files is a bundle).

    ``bundle_files`` gives a folder's files; a process package may substitute files kept
    elsewhere (the penalty package puts its administrators' DMN tables in place of the files').
    """
    deployed: list[ProcessDefinition] = []
    folders = sorted({p.parent for p in directory.rglob("*.bpmn")})
    for folder in folders:
        deployed.extend(deploy(session, bundle_files(folder), actor))
    return deployed


def _register_start_timer(session: Session, definition: ProcessDefinition) -> None:
    from .timers import schedule_start_timer

    start = definition.summary.get("start", {})
    existing = session.scalar(select(StartTimer).where(StartTimer.process_key == definition.process_key))
    if start.get("kind") != "timer":
        if existing is not None:
            session.delete(existing)
        return
    schedule_start_timer(session, definition, existing)


_Found = TypeVar("_Found")
_SPEC_CACHE: dict[tuple[object, int], LoadedSpec] = {}
_CACHE_LOCK = threading.Lock()
_PROCESS_ID_RE = re.compile(r"^[A-Za-z_][\w.-]*$")


def load_spec(definition: ProcessDefinition) -> LoadedSpec:
    """Parsed spec of a deployed version, cached per database and definition id (never changes)."""
    key = _cache_key(object_session(definition), definition.id)
    cached = _SPEC_CACHE.get(key)
    if cached is not None:
        return cached
    with _CACHE_LOCK:
        cached = _SPEC_CACHE.get(key)
        if cached is None:
            files = {n: t.encode("utf-8") for n, t in definition.sources.items()}
            bundle = _parse_bundle(files, max(DEFAULT_MAX_BYTES, *(len(v) for v in files.values())))
            cached = _load(bundle.parser, definition.process_key, sorted(files)[0])
            _SPEC_CACHE[key] = cached
    return cached


def clear_spec_cache() -> None:
    """Forget every parsed spec (``engine.caches.clear_caches``); the next use parses again."""
    with _CACHE_LOCK:
        _SPEC_CACHE.clear()


def spec_by_id(session: Session, definition_id: int) -> LoadedSpec:
    """The parsed spec of a definition id without touching the database once cached."""
    cached = _SPEC_CACHE.get(_cache_key(session, definition_id))
    if cached is not None:
        return cached
    definition = session.get(ProcessDefinition, definition_id)
    if definition is None:
        raise UnknownProcess(f"process definition {definition_id} does not exist")
    return load_spec(definition)


def _cache_key(session: Session | None, definition_id: int) -> tuple[object, int]:
    """Definition ids are per database: a process serving two databases must not mix them up."""
    return (database_key(session), definition_id)


_LATEST = (select(ProcessDefinition).where(ProcessDefinition.process_key == bindparam("process_key"))
           .order_by(ProcessDefinition.version.desc()).limit(1))


def _deployed(process_key: str, found: _Found | None) -> _Found:
    """What the look-up of ``process_key`` found, or the typed error of a key never deployed."""
    if found is None:
        raise UnknownProcess(f"unknown process {process_key!r}: not deployed", process_key=process_key)
    return found


def _well_formed(process_key: str) -> str:
    if not _PROCESS_ID_RE.match(process_key or ""):
        raise UnknownProcess(f"unknown process {process_key!r}", process_key=process_key)
    return process_key


def latest_definition(session: Session, process_key: str) -> ProcessDefinition:
    return _deployed(process_key, session.scalar(_LATEST, {"process_key": _well_formed(process_key)}))


def newest_version(session: Session, process_key: str) -> DefinitionRef:
    """Id and version of the newest deployment of ``process_key`` (what a start needs)."""
    return _deployed(process_key, newest_definition(session, _well_formed(process_key)))

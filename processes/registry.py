"""Process packages: one registration surface for every process family (penalty, complaints, ...).

Why: the web layer, the CLI and the Celery worker must not know any process by name. Each
subpackage of ``processes/`` that is a process family defines ``PACKAGE = ProcessPackage(...)``
in its ``__init__``; ``discover()`` imports every such subpackage, which registers the package
and, as a side effect of the import, its service-task operators and task forms. Callers ask
the registry (``package_for_form``, ``package_for_process``, ``packages``) instead of importing
a package.

This module imports neither Flask nor any process package (the web side has its own registry,
``web.packages``). See ``docs/process-packages.md``.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from engine import Actor
    from engine.models import HumanTask, ProcessDefinition, ProcessInstance

__all__ = [
    "CaseOfficerHook",
    "CaseTextHook",
    "DemoHook",
    "DeployHook",
    "EntityComplaintsHook",
    "EntityEvent",
    "EntityEventHook",
    "Errors",
    "ProcessPackage",
    "ScheduledHook",
    "StartHook",
    "StartRequest",
    "SubmitHook",
    "can_start_by_hand",
    "complaints_about_entities",
    "default_deploy",
    "deploy_packages",
    "discover",
    "entity_event",
    "operators_named",
    "package_for_folder",
    "package_for_form",
    "package_for_process",
    "packages",
    "register",
    "start_process",
    "unregister",
    "unregistered_operators",
]

Errors = dict[str, list[str]]
# session, actor, the ready task, the submitted data (blank values removed) -> (instance, errors).
# On errors the instance is None and nothing must be kept: the caller rolls back.
SubmitHook = Callable[["Session", "Actor", "HumanTask", dict[str, Any]], tuple["ProcessInstance | None", Errors]]
# session, actor, what to start -> the new instance (the package writes its own records with it).
StartHook = Callable[["Session", "Actor", "StartRequest"], "ProcessInstance"]
# session, actor, the folder to deploy (the package's own, or a copy given to ``weijian deploy PATH``).
DeployHook = Callable[["Session", "Actor", Path], list["ProcessDefinition"]]
# session factory (a callable giving a new Session), now=None -> one report line per unit of work done.
ScheduledHook = Callable[..., list[str]]
# session -> one line per record added (idempotent: nothing added on a second run); the caller commits.
DemoHook = Callable[["Session"], list[str]]
# A LIKE pattern (``%term%``, backslash escapes) -> SELECT of the process_instance ids whose package
# record (case number, party, facts...) matches it; the case list ORs it with its own columns.
CaseTextHook = Callable[[str], Any]
# A user id -> SELECT of the process_instance ids of the package's cases naming that person as an
# officer (handler, inspector); the case list's officer filter.
CaseOfficerHook = Callable[[str], Any]


@dataclass(frozen=True)
class EntityEvent:
    """Something that happened to a supervised entity that other packages may care about.

    ``kind``: ``complaint_violation`` (a complaint's verification found a violation) or
    ``penalty_decided`` (a penalty decision was made). ``source_ref`` identifies the complaint or
    case, so a handler can act once per source however often the event is sent.
    """

    kind: str
    credit_code: str
    source_ref: str
    reason: str
    on: date


EntityEventHook = Callable[["Session", EntityEvent], None]
# (session, since, until) -> {credit code: how many complaints about that directory entity the
# package received on a day in [since, until]}; the draw weights entities by it.
EntityComplaintsHook = Callable[["Session", date, date], "dict[str, int]"]
# Why ``user_id`` may not hold a task of ``instance_id`` (a zh-CN sentence: decided recused in
# that case), or None. Asked when a task is reassigned, handed or routed to a substitute.
HolderRefusalHook = Callable[["Session", str, str], "str | None"]
# (session, instance id, task name) -> what a ready task's form shows filled in before anyone
# types: what the case and the directory already know (the lead's party from the entity picked,
# the decision's facts, basis and penalty from the case), values as the form posts them.
FormDefaultsHook = Callable[["Session", str, str], "dict[str, Any]"]

NOT_PACKAGES = frozenset({"directory", "registry"})  # subpackages/modules of processes/ that are no family


def default_deploy(session: Session, actor: Actor, folder: Path) -> list[ProcessDefinition]:
    """``engine.deploy_directory`` of the folder: every BPMN/DMN file as it is on disk."""
    from engine import deploy_directory

    return deploy_directory(session, folder, actor)


@dataclass(frozen=True)
class StartRequest:
    """A case started by hand (the case page or ``POST /api/v1/cases``): which process, in which
    unit (its name and the region character of case numbers), for which entity."""

    process_key: str
    unit_id: str
    unit_name: str = ""
    unit_short_name: str = ""
    entity_id: str | None = None
    entity_name: str | None = None
    business_key: str | None = None


@dataclass(frozen=True)
class ProcessPackage:
    """What a process family tells the rest of Weijian about itself.

    ``name`` is the package's short name (``"penalty"``); it also names the web package and the
    member of the API's case JSON. ``folder`` holds its BPMN/DMN bundle. ``process_keys`` are the
    BPMN process ids it owns (also called subprocesses). Task forms belong to it when their key
    starts with one of ``form_prefixes`` or is one of ``form_keys``.
    """

    name: str
    folder: Path
    process_keys: frozenset[str]
    form_prefixes: tuple[str, ...] = ()
    form_keys: frozenset[str] = frozenset()
    # Legal checks before the engine completes a task of this package (None: generic path,
    # the form schema validates and the engine completes).
    submit: SubmitHook | None = None
    # How a person starts one of its processes by hand (None: only from the package's own pages;
    # a process no package owns starts through the engine alone).
    start: StartHook | None = None
    # Which of its processes a person starts by hand (the others are called or started by
    # messages), and the roles that may (empty: any role that may start cases in the unit).
    startable: frozenset[str] = frozenset()
    start_roles: frozenset[str] = frozenset()
    # What production mode must refuse (e.g. a development encryption key): one sentence each,
    # saying how to fix it.
    production_problems: Callable[[], list[str]] | None = None
    # How the bundle is deployed (None: ``default_deploy``).
    deploy: DeployHook | None = None
    # Demo data for ``weijian demo load`` (None: the generic loader may start its processes).
    load_demo: DemoHook | None = None
    # Lines printed after the demo summary (sign-in hints, passphrases of demo keys).
    demo_notes: Callable[[], list[str]] | None = None
    # Periodic work the one scheduler process runs each tick (recurring plans):
    # ``(session_factory, now=None) -> [report line]``, each unit of work its own transaction.
    scheduled: ScheduledHook | None = None
    # Lower runs first (deploy and demo); the directory always comes before every package.
    order: int = 100
    # English catalogs of the package's Chinese domain text: language -> a ``.po`` file
    # (msgid Chinese, msgstr English), merged into ``web.i18n``'s domain catalog.
    catalogs: Mapping[str, Path] = field(default_factory=dict)
    # Chinese name of the kind of case each process key is (``{"penalty_ordinary": "行政处罚（一般程序）"}``).
    case_kinds: Mapping[str, str] = field(default_factory=dict)
    # The case list's search and officer filter over the package's own tables (None: the case
    # list searches process_instance alone). See ``CaseTextHook``, ``CaseOfficerHook``.
    case_text: CaseTextHook | None = None
    case_officers: CaseOfficerHook | None = None
    # What this package does when something happens to a supervised entity in another package
    # (a complaint found a violation, a penalty was decided): the inspections package opens a
    # risk-ledger entry. See ``EntityEvent`` and ``entity_event``.
    on_entity_event: EntityEventHook | None = None
    # How many complaints about each directory entity the package received in a period
    # (``EntityComplaintsHook``); the complaints package answers, the draw asks.
    entity_complaints: EntityComplaintsHook | None = None
    # Who may not hold the package's tasks in a given case (``HolderRefusalHook``).
    holder_refusal: HolderRefusalHook | None = None
    # What a ready task's form is filled in with (``FormDefaultsHook``).
    form_defaults: FormDefaultsHook | None = None
    description: str = ""

    def owns_form(self, form_key: str | None) -> bool:
        if not form_key:
            return False
        key = str(form_key)
        return key in self.form_keys or any(key.startswith(prefix) for prefix in self.form_prefixes)

    def owns_process(self, process_key: str | None) -> bool:
        return bool(process_key) and process_key in self.process_keys

    def case_kind(self, process_key: str) -> str | None:
        return self.case_kinds.get(process_key)

    def deploy_bundle(self, session: Session, actor: Actor, folder: Path | None = None) -> list[ProcessDefinition]:
        """Deploy the package's bundle (or a copy of it in ``folder``) through its hook."""
        hook = self.deploy or default_deploy
        return hook(session, actor, folder or self.folder)


def can_start_by_hand(process_key: str, roles: frozenset[str] | set[str] | None = None) -> bool:
    """A process no package owns, or one its package lets people start (``startable``, with a
    start hook) by one of ``roles`` when the package names ``start_roles``."""
    package = package_for_process(process_key)
    if package is None:
        return True
    if package.start is None or process_key not in package.startable:
        return False
    return roles is None or not package.start_roles or bool(package.start_roles & set(roles))


def start_process(session: Session, actor: Actor, request: StartRequest) -> ProcessInstance:
    """Start a case by hand through its package (which writes the records its tasks need), or
    through the engine alone for a process no package owns. The one path for pages and API."""
    from engine import NotFound, start

    package = package_for_process(request.process_key)
    if package is None:
        return start(session, request.process_key, actor, {}, request.business_key, unit_id=request.unit_id,
                     entity_id=request.entity_id, entity_name=request.entity_name)
    if not can_start_by_hand(request.process_key, actor.roles if not actor.is_admin else None):
        raise NotFound(f"process {request.process_key!r} is not started by hand (or not by your roles)")
    assert package.start is not None
    return package.start(session, actor, request)


_PACKAGES: dict[str, ProcessPackage] = {}
_LOCK = threading.Lock()
_DISCOVERED = False


def register(package: ProcessPackage) -> ProcessPackage:
    """Add a package (again with the same object: no change). Two packages may not share a name,
    a process key or a form key (prefixes overlapping are the author's care)."""
    with _LOCK:
        existing = _PACKAGES.get(package.name)
        if existing is not None and existing is not package and existing != package:
            raise ValueError(f"process package {package.name!r} is already registered")
        for other in _PACKAGES.values():
            if other.name == package.name:
                continue
            shared = (other.process_keys & package.process_keys) | (other.form_keys & package.form_keys)
            if shared:
                raise ValueError(f"process package {package.name!r} claims {sorted(shared)} of {other.name!r}")
        _PACKAGES[package.name] = package
    return package


def unregister(name: str) -> None:
    """Remove a package (tests that register a throw-away package)."""
    with _LOCK:
        _PACKAGES.pop(name, None)


def packages() -> list[ProcessPackage]:
    """Every registered package, in ``order`` then name."""
    return sorted(_PACKAGES.values(), key=lambda p: (p.order, p.name))


def package_for_form(form_key: str | None) -> ProcessPackage | None:
    return next((p for p in packages() if p.owns_form(form_key)), None)


def package_for_process(process_key: str | None) -> ProcessPackage | None:
    return next((p for p in packages() if p.owns_process(process_key)), None)


def package_for_folder(folder: Path) -> ProcessPackage | None:
    """The package whose bundle ``folder`` is: its own folder, else a copy named like the package."""
    resolved = folder.resolve()
    found = next((p for p in packages() if p.folder.resolve() == resolved), None)
    return found or next((p for p in packages() if p.name == folder.name), None)


def deploy_packages(session: Session, actor: Actor, root: Path | None = None) -> list[ProcessDefinition]:
    """What ``weijian deploy`` runs.

    Without ``root``: every registered package through its ``deploy`` hook (in ``order``), then
    any other folder with BPMN files under ``processes/`` as it is on disk. With ``root``: every
    folder with BPMN files under it; one that is a package's bundle (``package_for_folder``) goes
    through that package's hook, any other is deployed as it is. Each bundle is deployed once.
    """
    import processes
    from engine import deploy
    from engine.definitions import read_bundle

    discover()
    deployed: list[ProcessDefinition] = []
    done: list[Path] = []
    if root is None:
        for package in packages():
            deployed.extend(package.deploy_bundle(session, actor))
            done.append(package.folder.resolve())
        root = Path(processes.__file__).resolve().parent
    for folder in sorted({p.parent.resolve() for p in root.rglob("*.bpmn")}):
        if any(folder == d or d in folder.parents for d in done):
            continue
        owner = package_for_folder(folder)
        if owner is not None:
            deployed.extend(owner.deploy_bundle(session, actor, folder))
        else:
            deployed.extend(deploy(session, read_bundle(folder), actor))
        done.append(folder)
    return deployed


SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"


def operators_named(xml: bytes, filename: str) -> set[str]:
    """The operator ids BPMN service tasks in ``xml`` call (``spiffworkflow:serviceTaskOperator``)."""
    from engine.xmlsafe import parse_xml

    root = parse_xml(xml, filename)
    return {str(el.get("id")) for el in root.iter(f"{{{SPIFF_NS}}}serviceTaskOperator") if el.get("id")}


def unregistered_operators(session: Session | None = None) -> dict[str, list[str]]:
    """Operators that a service task names but nobody registered: operator -> where it is named.

    Looks at every registered package's bundled BPMN files and, with a session, at every deployed
    definition's BPMN sources (running cases may be on older versions). The Celery worker refuses
    to start while this is not empty: its jobs would fail and become incidents one by one.
    """
    from engine import registered_operators

    discover()
    known = {o.name for o in registered_operators()}
    found: dict[str, list[str]] = {}
    for package in packages():
        for path in sorted(package.folder.glob("*.bpmn")):
            for name in operators_named(path.read_bytes(), path.name) - known:
                found.setdefault(name, []).append(f"{package.name}/{path.name}")
    if session is not None:
        from sqlalchemy import select

        from engine.models import ProcessDefinition

        for definition in session.scalars(select(ProcessDefinition).order_by(ProcessDefinition.id)):
            for filename, text in (definition.sources or {}).items():
                if filename.endswith(".bpmn"):
                    for name in operators_named(text.encode("utf-8"), filename) - known:
                        found.setdefault(name, []).append(f"{definition.process_key} v{definition.version}")
    return found


def entity_event(session: Session, event: EntityEvent) -> None:
    """Tell every package that handles entity events (in the caller's transaction)."""
    for package in discover():
        if package.on_entity_event is not None:
            package.on_entity_event(session, event)


def complaints_about_entities(session: Session, since: date, until: date) -> dict[str, int]:
    """Complaints about each directory entity received in [since, until], over every package."""
    total: dict[str, int] = {}
    for package in discover():
        if package.entity_complaints is not None:
            for code, n in package.entity_complaints(session, since, until).items():
                total[code] = total.get(code, 0) + n
    return total


def discover() -> list[ProcessPackage]:
    """Import every subpackage of ``processes`` that defines ``PACKAGE`` and register it.

    Idempotent and cheap after the first call. Importing a package registers its operators and
    forms too, which is why the worker, the web app and the CLI all call this first.
    """
    global _DISCOVERED  # noqa: PLW0603 - one discovery per process
    if _DISCOVERED:
        return packages()
    import processes

    for module in pkgutil.iter_modules(processes.__path__):
        if not module.ispkg or module.name in NOT_PACKAGES or module.name.startswith("_"):
            continue
        imported = importlib.import_module(f"processes.{module.name}")
        package = getattr(imported, "PACKAGE", None)
        if isinstance(package, ProcessPackage):
            register(package)
    importlib.import_module("processes.directory.substitution")  # registers the engine's substitute router
    _DISCOVERED = True
    return packages()

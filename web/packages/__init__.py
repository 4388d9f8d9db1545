"""Process packages on the web: what each family adds to the generic pages, the API and the nav.

Why: ``web/tasks.py``, ``web/cases.py``, ``web/api/routes.py`` and ``web/app.py`` serve every
process family, so they must not import one by name. Each module ``web/packages/<name>.py``
(``<name>`` as in ``processes.registry``) defines ``WEB_PACKAGE = WebPackage(...)``;
``discover_web()`` imports every module here (pkgutil) and registers those. The generic code asks
``web_package_for_form(key)`` / ``web_package_for_instance(instance)`` and renders whatever panel
template the package names (``{% include panel.template %}``), posts a package's task forms
through its process package's ``submit`` hook (``submit_form``), and puts the package's member
into the API's case JSON (``api_case_members``). See ``docs/process-packages.md``.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, url_for

from engine import Actor
from engine.models import HumanTask, ProcessInstance
from forms import RegisteredForm, describe
from processes.registry import ProcessPackage, discover, package_for_form, package_for_process, packages
from web.extensions import dbs

if TYPE_CHECKING:
    from flask_smorest import Blueprint as ApiBlueprint

__all__ = [
    "NavLink",
    "Panel",
    "WebPackage",
    "api_blueprints",
    "api_case_members",
    "case_panel",
    "clean_submission",
    "discover_web",
    "entity_panels",
    "field_errors",
    "file_reader",
    "init_packages",
    "public_values",
    "register_web",
    "related_panels",
    "submit_form",
    "submits_itself",
    "task_panel",
    "unregister_web",
    "web_package",
    "web_package_for_form",
    "web_package_for_instance",
    "web_packages",
]

Errors = dict[str, list[str]]


@dataclass(frozen=True)
class Panel:
    """A package's part of a generic page: the template included there and what it shows
    (the template reads ``panel.view``; every variable of the including page is visible too)."""

    template: str
    view: Any


@dataclass(frozen=True)
class NavLink:
    """A link in the main navigation or on the administration tabs.

    ``label`` is an English message id made with ``flask_babel.lazy_gettext`` (translated when
    the page renders). ``roles`` empty: everyone signed in; administrators see every link.
    """

    endpoint: str
    label: Any
    values: Mapping[str, str] = field(default_factory=dict)
    element_id: str = ""
    roles: frozenset[str] = frozenset()

    def visible_to(self, actor: Actor | None) -> bool:
        if actor is None:
            return False
        return actor.is_admin or not self.roles or bool(actor.roles & self.roles)

    def url(self) -> str:
        values: dict[str, Any] = dict(self.values)
        return url_for(self.endpoint, **values)


# actor, the case, the task shown -> the panel above the task's form (None: nothing to show)
TaskPanelHook = Callable[[Actor, ProcessInstance, HumanTask], Panel | None]
# actor, the case -> the panel on the case page (None: nothing to show)
CasePanelHook = Callable[[Actor, ProcessInstance], Panel | None]
# actor, a supervised entity -> the package's part of its 一户一档 page (None: nothing to show)
EntityPanelHook = Callable[[Actor, Any], Panel | None]
# actor, the case -> the package's member of the API's case JSON (None: not one of its cases)
ApiCaseHook = Callable[[Actor, ProcessInstance], dict[str, Any] | None]
# field name, upload limit in bytes -> (the field's value, messages), reading the current request
FileReader = Callable[[str, int], tuple[Any, list[str]]]
# the form (None: no form), the data about to be submitted -> errors by field (empty: go on)
# actor, the task being completed, its form, the submitted data -> errors per field (none: go on)
PrepareHook = Callable[[Actor, HumanTask, RegisteredForm | None, dict[str, Any]], Errors]


@dataclass(frozen=True)
class WebPackage:
    """What one process family adds to the web. ``name`` is its ``processes.registry`` name."""

    name: str
    blueprints: tuple[Blueprint, ...] = ()
    api_blueprints: tuple[ApiBlueprint, ...] = ()
    task_panel: TaskPanelHook | None = None
    case_panel: CasePanelHook | None = None
    entity_panel: EntityPanelHook | None = None
    # a case of any package that one of this package's records points to (a penalty lead opened
    # from a complaint shows the complaint): links stay visible from both sides
    related_panel: CasePanelHook | None = None
    api_case_body: ApiCaseHook | None = None
    api_case_description: str = ""
    # widget name (``FieldSpec.widget``) -> how the task page reads such a field from the request
    file_readers: Mapping[str, FileReader] = field(default_factory=dict)
    # runs before the process package's ``submit`` hook (e.g. copy uploads into the package's store)
    prepare_submission: PrepareHook | None = None
    # what of a submitted form's values may go back to the browser (None: all of them)
    public_values: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None
    nav: tuple[NavLink, ...] = ()
    admin_links: tuple[NavLink, ...] = ()

    @property
    def process(self) -> ProcessPackage | None:
        return next((p for p in packages() if p.name == self.name), None)


_WEB: dict[str, WebPackage] = {}
_LOCK = threading.Lock()
_DISCOVERED = False


def register_web(package: WebPackage) -> WebPackage:
    with _LOCK:
        existing = _WEB.get(package.name)
        if existing is not None and existing is not package:
            raise ValueError(f"web package {package.name!r} is already registered")
        _WEB[package.name] = package
    return package


def unregister_web(name: str) -> None:
    """Remove a web package (tests that register a throw-away one)."""
    with _LOCK:
        _WEB.pop(name, None)


def web_packages() -> list[WebPackage]:
    """Registered web packages in their process packages' order (then by name)."""
    order = {p.name: i for i, p in enumerate(packages())}
    return sorted(_WEB.values(), key=lambda w: (order.get(w.name, len(order)), w.name))


def web_package(name: str | None) -> WebPackage | None:
    return _WEB.get(name) if name else None


def web_package_for_form(form_key: str | None) -> WebPackage | None:
    package = package_for_form(form_key)
    return web_package(package.name) if package else None


def web_package_for_instance(instance: ProcessInstance) -> WebPackage | None:
    package = package_for_process(instance.process_key)
    return web_package(package.name) if package else None


def discover_web() -> list[WebPackage]:
    """The process packages (``processes.registry.discover``), then every module of this package
    that defines ``WEB_PACKAGE``. Idempotent."""
    global _DISCOVERED  # noqa: PLW0603 - one discovery per process
    if not _DISCOVERED:
        discover()
        for module in pkgutil.iter_modules(__path__):
            imported = importlib.import_module(f"{__name__}.{module.name}")
            found = getattr(imported, "WEB_PACKAGE", None)
            if isinstance(found, WebPackage):
                register_web(found)
        _DISCOVERED = True
    return web_packages()


def init_packages(app: Flask) -> None:
    """Register every web package's blueprints and the nav links' template globals."""
    for package in discover_web():
        for blueprint in package.blueprints:
            app.register_blueprint(blueprint)

    @app.context_processor
    def _package_links() -> dict[str, Any]:
        from flask_login import current_user

        from web.security import current_actor

        actor = current_actor() if current_user.is_authenticated else None
        return {"package_nav": [link for p in web_packages() for link in p.nav if link.visible_to(actor)],
                "package_admin_links": [link for p in web_packages() for link in p.admin_links
                                        if link.visible_to(actor)]}


def api_blueprints() -> list[ApiBlueprint]:
    return [blp for package in discover_web() for blp in package.api_blueprints]


# -- the generic pages and API ask these -------------------------------------------------------

def task_panel(actor: Actor, instance: ProcessInstance, task: HumanTask) -> Panel | None:
    package = web_package_for_form(task.form_key) or web_package_for_instance(instance)
    return package.task_panel(actor, instance, task) if package and package.task_panel else None


def entity_panels(actor: Actor, entity: Any) -> list[Panel]:
    """Every package's part of an entity's page (its archived files, say), in package order."""
    found = (p.entity_panel(actor, entity) for p in web_packages() if p.entity_panel is not None)
    return [panel for panel in found if panel is not None]


def related_panels(actor: Actor, instance: ProcessInstance) -> list[Panel]:
    """What other packages link to this case (e.g. the complaint a penalty lead came from)."""
    found = (p.related_panel(actor, instance) for p in web_packages() if p.related_panel is not None)
    return [panel for panel in found if panel is not None]


def case_panel(actor: Actor, instance: ProcessInstance) -> Panel | None:
    package = web_package_for_instance(instance)
    return package.case_panel(actor, instance) if package and package.case_panel else None


def api_case_members(actor: Actor, instance: ProcessInstance) -> dict[str, Any]:
    """One member per package that adds to the case JSON: its body for its own cases, else None."""
    own = web_package_for_instance(instance)
    return {p.name: (p.api_case_body(actor, instance) if p is own else None)
            for p in web_packages() if p.api_case_body is not None}


def file_reader(form_key: str | None, widget: str) -> FileReader | None:
    """How to read a field of this widget: the form's own package first, else any package's."""
    own = web_package_for_form(form_key)
    for package in [own, *web_packages()] if own else web_packages():
        if package is not None and widget in package.file_readers:
            return package.file_readers[widget]
    return None


def public_values(form_key: str | None, values: Mapping[str, Any]) -> dict[str, Any]:
    package = web_package_for_form(form_key)
    if package is None or package.public_values is None:
        return dict(values)
    return package.public_values(values)


def clean_submission(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Blank values mean "not given" (as for every other form)."""
    def blank(v: Any) -> bool:
        return v is None or (isinstance(v, str) and not v.strip()) or (isinstance(v, list | tuple) and not v)
    return {k: v for k, v in raw.items() if not blank(v)}


def field_errors(form: RegisteredForm | None, errors: Mapping[str, list[str]]) -> Errors:
    """Messages by field; keys that are not fields of the form go to ``_schema``."""
    names = {spec.name for spec in describe(form.schema)} if form else set()
    out: Errors = {}
    for key, texts in errors.items():
        out.setdefault(key if key in names else "_schema", []).extend(texts)
    return out


def submits_itself(form_key: str | None) -> bool:
    """Whether the form's process package has a ``submit`` hook (else: the generic path, the form
    schema validates and ``web.casework.complete_with_form`` completes the task)."""
    package = package_for_form(form_key)
    return package is not None and package.submit is not None


def submit_form(actor: Actor, task: HumanTask, form: RegisteredForm | None, raw: Mapping[str, Any]
                ) -> tuple[ProcessInstance | None, Errors]:
    """Submit a task form through its process package's ``submit`` hook (legal checks, engine).

    Only for forms that ``submits_itself``. On refusal the transaction is rolled back and the
    errors come back by field (keys that are no field of the form under ``_schema``).
    """
    package = package_for_form(task.form_key)
    if package is None or package.submit is None:
        raise LookupError(f"form {task.form_key!r} has no process package with a submit hook")
    data = clean_submission(raw)
    web = web_package(package.name)
    if web is not None and web.prepare_submission is not None:
        missing = web.prepare_submission(actor, task, form, data)
        if missing:
            dbs().rollback()
            return None, missing
    instance, errors = package.submit(dbs(), actor, task, data)
    if errors:
        dbs().rollback()
        return None, field_errors(form, errors)
    if instance is None:
        raise RuntimeError(f"the submit hook of {package.name!r} returned neither an instance nor errors")
    return instance, {}

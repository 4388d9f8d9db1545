"""Flask application factory. Never starts the scheduler (``weijian serve`` does, once)."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from babel import Locale
from flask import Flask, has_request_context, request, session
from jinja2 import ChoiceLoader, FileSystemLoader

import forms
import processes
from engine.dbconnect import engine_options, install_sqlite_pragmas
from engine.settings import Settings

from .config import LANGUAGES, web_config
from .extensions import babel, csrf, db

__all__ = ["create_app", "db", "engine_url", "load_form_modules"]

BUILTIN_FORM_MODULES = ("forms.lead",)


def create_app(settings: Settings | None = None, config: Mapping[str, Any] | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config.update(
        SQLALCHEMY_DATABASE_URI=engine_url(settings.database_url),
        SQLALCHEMY_ENGINE_OPTIONS=engine_options(settings.database_url),
        WEIJIAN_SETTINGS=settings,
    )
    app.config.update(web_config(settings))
    app.config.update(config or {})
    db.init_app(app)
    with app.app_context():
        # Same per-dialect settings (SQLite WAL, busy timeout) as workers and the CLI.
        install_sqlite_pragmas(db.engine)
    _use_celery_for(settings)
    app.jinja_loader = ChoiceLoader([app.jinja_loader, FileSystemLoader(str(forms.TEMPLATE_DIR))])  # type: ignore[list-item]
    csrf.init_app(app)
    babel.init_app(app, locale_selector=selected_locale)
    load_form_modules()

    from . import api, comments, errors, filters, notifications, operations, pickers, public, security
    from .admin import bp as admin_bp
    from .admin_calendar import bp as admin_calendar_bp
    from .admin_instances import bp as admin_instances_bp
    from .admin_migrations import bp as admin_migrations_bp
    from .admin_processes import bp as admin_processes_bp
    from .auth import bp as auth_bp
    from .case_list import bp as case_list_bp
    from .cases import bp as cases_bp
    from .delegation import bp as delegation_bp
    from .follow_up import bp as follow_up_bp
    from .inbox import bp as inbox_bp
    from .inbox_bulk import bp as inbox_bulk_bp
    from .oversight import bp as oversight_bp
    from .packages import init_packages
    from .substitution import bp as substitution_bp
    from .tasks import bp as tasks_bp
    from .views import bp as home_bp

    operations.init_operations(app)  # first: the request id is set before any other hook
    security.init_security(app)
    filters.init_filters(app)
    pickers.init_pickers(app)  # picker_option / picker_search for pages' own person, unit and entity lists
    public.init_public(app)  # /public/: no sign-in, its own limits and challenge
    comments.init_comments(app)
    notifications.init_notifications(app)
    for blueprint in (home_bp, auth_bp, inbox_bp, inbox_bulk_bp, oversight_bp, tasks_bp, follow_up_bp,
                      delegation_bp, substitution_bp,
                      case_list_bp, cases_bp, admin_bp, admin_calendar_bp, admin_processes_bp, admin_migrations_bp,
                      admin_instances_bp):
        app.register_blueprint(blueprint)
    init_packages(app)  # every process package's pages, nav and admin links (web.packages)
    api.init_api(app)
    errors.init_errors(app)
    return app


def select_locale() -> str:
    """Chinese unless the user switched (Babel 4 resolves ``zh_CN`` to the ``zh_Hans_CN`` catalog).

    An API request with no language chosen in its session (a program with a token, usually)
    follows ``Accept-Language``; pages ignore the browser's header, so the UI is Chinese until a
    person switches."""
    chosen = session.get("lang") if has_request_context() else None
    if chosen not in LANGUAGES and has_request_context() and request.path.startswith("/api/"):
        chosen = request.accept_languages.best_match(["zh_CN", "zh", "en"])
        chosen = "en" if chosen == "en" else None
    return chosen if chosen in LANGUAGES else "zh_CN"


@lru_cache(maxsize=8)
def parsed_locale(name: str) -> Locale:
    """``Locale.parse`` of one of our few language names, kept: parsing checks the name against
    every locale Babel knows (a thousand lower-cased strings), twice per request otherwise."""
    return Locale.parse(name)


def selected_locale() -> Locale:
    """Flask-Babel's selector: ``select_locale``'s choice as a parsed ``Locale`` (which Flask-Babel
    takes as it is)."""
    return parsed_locale(select_locale())


def load_form_modules() -> list[str]:
    """Import every module that registers task forms: the built-in ones and each process
    package's ``forms`` module (``processes/<name>/forms.py``). Explicit, so no registration
    depends on what happened to be imported first."""
    loaded = []
    for name in BUILTIN_FORM_MODULES:
        importlib.import_module(name)
        loaded.append(name)
    for module in pkgutil.iter_modules(processes.__path__):
        candidate = f"processes.{module.name}.forms"
        if module.ispkg and importlib.util.find_spec(candidate) is not None:
            importlib.import_module(candidate)
            loaded.append(candidate)
    return loaded


def _use_celery_for(settings: Settings) -> None:
    """Run outbox jobs against this app's database (Flask's Celery pattern, one app per process)."""
    from celery import current_app as current_celery

    from integrations.celery_app import make_celery

    if current_celery.conf.get("weijian_settings") != settings:
        make_celery(settings)


def engine_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url

"""Jinja filters and globals: local times, role and action labels, sizes, the current actor."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, g, has_request_context, session
from flask_babel import get_translations
from flask_login import current_user

from processes.directory.models import ENTITY_CATEGORIES, LEVELS, ROLES

from .audit_labels import action_text
from .config import LANGUAGES
from .i18n import domain_text

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
START_ROLES = frozenset({"officer", "head", "complaint_clerk"})


def localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(LOCAL_TZ).strftime(fmt)


def filesize(n: int | None) -> str:
    if n is None:
        return ""
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} B"


def pretty(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True, default=str)


def request_translations() -> Any:
    """The request's catalog, looked up once per request.

    Why: Flask-Babel resolves the locale and its catalog again on every ``_()`` (about 6 µs, most
    of it naming the locale), and a page calls it dozens of times; the locale is chosen once per
    request (``web.app.selected_locale``), so the first answer holds for the rest of the request.
    Outside a request (a job rendering a document) it asks Flask-Babel every time."""
    if not has_request_context():
        return get_translations()
    found = g.get("_translations")
    if found is None:
        found = g._translations = get_translations()
    return found


def init_filters(app: Flask) -> None:
    from .security import current_actor

    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]  # jinja2.ext.i18n's
        gettext=lambda s: request_translations().ugettext(s),
        ngettext=lambda s, p, n: request_translations().ungettext(s, p, n), newstyle=True,
        pgettext=lambda c, s: request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: request_translations().unpgettext(c, s, p, n))

    app.add_template_filter(localtime)
    app.add_template_filter(filesize)
    app.add_template_filter(pretty)
    app.add_template_filter(domain_text, "dt")  # Chinese domain text in the UI language (web.i18n)
    app.add_template_filter(lambda r: domain_text(ROLES.get(r, r)), "role_label")
    app.add_template_filter(lambda a: domain_text(action_text(a)), "action_label")
    app.add_template_filter(lambda c: domain_text(ENTITY_CATEGORIES.get(c, c)), "category_label")
    app.add_template_filter(lambda lv: domain_text(LEVELS.get(lv, lv)), "level_label")

    @app.context_processor
    def _globals() -> dict[str, Any]:
        actor = current_actor() if current_user.is_authenticated else None
        return {"actor": actor, "me": current_user.user if current_user.is_authenticated else None,
                "languages": LANGUAGES, "lang": session.get("lang", "zh_CN"),
                "is_head": bool(actor and (actor.is_admin or "head" in actor.roles)),
                "is_admin": bool(actor and actor.is_admin),
                "can_start_cases": bool(actor and (actor.is_admin or actor.roles & START_ROLES))}

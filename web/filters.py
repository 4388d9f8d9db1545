"""Jinja filters and globals: local times, role and action labels, sizes, the current actor."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, session
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


def init_filters(app: Flask) -> None:
    from .security import current_actor

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

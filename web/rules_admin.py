"""The administration pages of a process package's rules file (``rules.toml``): the list with
each entry's label and source, the change form (value and reason, ``[law]`` only with a
confirmation), reset to the file, history. Penalty and complaints mount the same views on their
own blueprint with their own store and texts, so both behave alike and are written once.

A store is a module (or object) with ``rule_states(session)``, ``rule_state(session, key)``,
``rule_history(session, key)``, ``set_rule(session, actor_id, key, value, reason, confirm_law=)``
and ``reset_rule(session, actor_id, key, reason)``, raising ``RuleValueError`` with a message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from processes.rule_catalogue import RuleValueError, display
from web.extensions import dbs
from web.security import current_actor


def add_rule_pages(bp: Blueprint, store: Any, texts: Callable[[], dict[str, str]],
                   changed: Callable[[str], str], reset: Callable[[str], str]) -> None:
    """Mount ``/rules``, ``/rules/<key>`` and ``/rules/<key>/reset`` on ``bp`` (endpoints
    ``rules``, ``rule_edit``, ``rule_reset``). ``texts()`` gives the page title, heading and
    introduction; ``changed(key)``/``reset(key)`` the messages after a change or a reset."""
    endpoints = {"edit_endpoint": f"{bp.name}.rule_edit", "reset_endpoint": f"{bp.name}.rule_reset"}

    def page(key: str, values: dict[str, Any], error: str | None = None, status: int = 200) -> Any:
        state = store.rule_state(dbs(), key)
        if state is None:
            abort(404)
        return render_template("admin/rules_edit.html", state=state, values=values, error=error,
                               history=store.rule_history(dbs(), key), display=display, **endpoints,
                               page_heading=texts().get("edit_heading")), status

    def rules() -> str:
        return render_template("admin/rules.html", sections=store.rule_states(dbs()), display=display,
                               **endpoints, **texts())

    def rule_edit(key: str) -> Any:
        state = store.rule_state(dbs(), key)
        if state is None:
            abort(404)
        if request.method == "GET":
            return page(key, {"value": display(state.value), "reason": ""})
        values = {k: request.form.get(k, "") for k in ("value", "reason")}
        try:
            store.set_rule(dbs(), current_actor().user_id, key, values["value"], values["reason"],
                           confirm_law=request.form.get("confirm_law") == "1")
        except RuleValueError as exc:
            dbs().rollback()
            return page(key, values, exc.message, 422)
        dbs().commit()
        flash(changed(key), "success")
        return redirect(url_for(f"{bp.name}.rules"))

    def rule_reset(key: str) -> Any:
        if store.rule_state(dbs(), key) is None:
            abort(404)
        try:
            store.reset_rule(dbs(), current_actor().user_id, key, request.form.get("reason", ""))
        except RuleValueError as exc:
            dbs().rollback()
            return page(key, {"value": "", "reason": request.form.get("reason", "")}, exc.message, 422)
        dbs().commit()
        flash(reset(key), "success")
        return redirect(url_for(f"{bp.name}.rules"))

    bp.add_url_rule("/rules", "rules", rules, methods=["GET"])
    bp.add_url_rule("/rules/<key>", "rule_edit", rule_edit, methods=["GET", "POST"])
    bp.add_url_rule("/rules/<key>/reset", "rule_reset", rule_reset, methods=["POST"])


__all__ = ["add_rule_pages"]


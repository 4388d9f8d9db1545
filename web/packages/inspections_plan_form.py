"""The new-plan page's scope and weight fields, and how a plan's weights and scope read on the
plan page and the head's approval task.

Why a module of its own: the scope is several units (the planner's unit and the units below it
that the planner may plan for, chosen with the searchable checkbox picker, ``web/static/picker.js``)
and the weights are ten optional numbers; both are read from the form here and handed as they
were typed to ``processes.inspections.plans.create_plan``, which checks them (bounds in
``plans.WEIGHT_BOUNDS``) and refuses with a Chinese sentence naming the field, writing nothing.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from flask_babel import gettext as _
from sqlalchemy import select

from processes.directory.models import Unit
from processes.inspections.models import Plan
from processes.inspections.plans import WEIGHT_BOUNDS, WEIGHT_LABELS
from processes.inspections.rule_store import effective_rules
from web.extensions import dbs

WEIGHT_KEYS = tuple(WEIGHT_BOUNDS)


class WeightRow(NamedTuple):
    key: str
    label: str  # Chinese domain text (``|dt`` in templates)
    value: Any
    changed: bool  # the plan set it: it differs from the rules in force when the plan was made


def weights_of_form(form: Any) -> dict[str, str]:
    """The weights the planner typed (a blank field keeps the rule in force)."""
    return {key: form.get(f"weight_{key}", "").strip() for key in WEIGHT_KEYS
            if form.get(f"weight_{key}", "").strip()}


def scope_of_form(form: Any, allowed: set[str], errors: dict[str, list[str]]) -> list[str]:
    """The units picked for the scope; one the planner may not plan for is refused here (the
    service then checks each is the plan's unit or below it)."""
    chosen = [u for u in dict.fromkeys(form.getlist("scope")) if u]
    if any(u not in allowed for u in chosen):
        errors.setdefault("scope", []).append(_("The scope may only hold your unit and the units below it."))
    return chosen


def rule_weights() -> dict[str, int]:
    """The weights in force: the placeholders of the new-plan page's weight fields."""
    weights: dict[str, int] = effective_rules(dbs()).as_params()["weights"]
    return weights


def weight_rows(plan: Plan) -> list[WeightRow]:
    """Each weight the plan draws with, the ones the plan set itself marked."""
    weights = plan.params.get("weights") or {}
    changed = set(plan.params.get("weights_changed") or [])
    return [WeightRow(k, WEIGHT_LABELS[k], weights[k], k in changed) for k in WEIGHT_KEYS if k in weights]


def scope_names(plan: Plan) -> list[str]:
    """The plan's scope units by name (the units chosen and every unit below them), in tree order."""
    ids = [str(u) for u in plan.params.get("scope_units") or []]
    if not ids:
        return []
    return list(dbs().scalars(select(Unit.name).where(Unit.id.in_(ids)).order_by(Unit.path)))

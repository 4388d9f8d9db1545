"""Administrators' changes to the inspection rules: ``processes.rule_store`` given this package's parts.

This package's own: the table (``insp_rule_override``), the file and its whole-document check
(``rules.parse_rules``) and the audit event names (``inspection_rule_changed`` /
``inspection_rule_reset``).

What a change reaches: a plan copies the rules in force into its parameters when it is created
(``plans.create_plan``), so plans created after the change use it and earlier plans, their draws
and every re-verification keep the numbers they were made with. Periods read at the time of an
event (the 20-working-day result disclosure, the signing deadline, the risk levels, a new
schedule's grace) use the value in force then.
"""

from __future__ import annotations

import os
from pathlib import Path

from processes.rule_store import RuleStore, RuleValueError

from .models import InspectionRuleOverride
from .rules import RULES_ENV, RULES_FILE, ZERO_MEANS_OFF, Rules, parse_rules


def _path() -> Path:
    return Path(os.environ.get(RULES_ENV) or RULES_FILE)


STORE: RuleStore[InspectionRuleOverride, Rules] = RuleStore(InspectionRuleOverride, _path, parse_rules,
    changed_action="inspection_rule_changed", reset_action="inspection_rule_reset", zero_ok=ZERO_MEANS_OFF)

sections = STORE.sections
latest_overrides = STORE.latest_overrides
rule_states = STORE.rule_states
rule_state = STORE.rule_state
rule_history = STORE.rule_history
effective_raw = STORE.effective_raw
effective_rules = STORE.effective_rules
set_rule = STORE.set_rule
reset_rule = STORE.reset_rule

__all__ = ["STORE", "RuleValueError", "effective_raw", "effective_rules", "latest_overrides", "reset_rule",
           "rule_history", "rule_state", "rule_states", "sections", "set_rule"]

"""Administrators' changes to the complaint rules: ``processes.rule_store`` given this package's parts.

This package's own: the table (``complaint_rule_override``), the file and its whole-document
check (``rules.parse_rules``) and the audit event names (``complaint_rule_changed`` /
``complaint_rule_reset``). A complaint keeps the rules it was registered under
(``Complaint.rules``), read back with ``rules_of``.
"""

from __future__ import annotations

from processes.rule_store import RuleStore, RuleValueError

from .models import ComplaintRuleOverride
from .rules import Rules, parse_rules, rules_path

STORE: RuleStore[ComplaintRuleOverride, Rules] = RuleStore(ComplaintRuleOverride, rules_path, parse_rules,
    changed_action="complaint_rule_changed", reset_action="complaint_rule_reset")

sections = STORE.sections
latest_overrides = STORE.latest_overrides
rule_states = STORE.rule_states
rule_state = STORE.rule_state
rule_history = STORE.rule_history
effective_raw = STORE.effective_raw
effective_rules = STORE.effective_rules
rules_of = STORE.snapshot_rules
set_rule = STORE.set_rule
reset_rule = STORE.reset_rule

__all__ = ["STORE", "RuleValueError", "effective_raw", "effective_rules", "latest_overrides", "reset_rule",
           "rule_history", "rule_state", "rule_states", "rules_of", "sections", "set_rule"]

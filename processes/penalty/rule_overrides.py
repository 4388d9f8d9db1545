"""Administrators' changes to the penalty rules and DMN tables, kept in the database.

The rules are ``processes.rule_store`` given this package's parts: the table
(``penalty_rule_override``), ``rules.toml`` with its whole-document check and the audit event
names (``penalty_rule_changed`` / ``penalty_rule_reset``). The DMN overrides are this package's
own (``dmn_overrides``).

Why a snapshot per case: a case must keep the rules it started under (a running case's
deadlines may not move because an administrator changed a period today). ``start_case``
stores the rules in force in ``penalty_case_rules``; the case's checks and service tasks
read them back with ``rules_for_case``. New cases get whatever is in force when they start.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.db import Base, utcnow
from processes.rule_catalogue import RuleValueError, display
from processes.rule_store import LawConfirmationRequired, RuleOverrideColumns, RuleState, RuleStore

from .rules import Rules, parse_rules, rules_path


class RuleOverride(RuleOverrideColumns, Base):
    """One change of one ``rules.toml`` entry (``key`` = ``section.name``); ``value`` None = reset."""

    __tablename__ = "penalty_rule_override"


class DmnOverride(Base):
    """One change of a penalty DMN file; ``xml`` None = back to the file in ``processes/penalty``."""

    __tablename__ = "penalty_dmn_override"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_name: Mapped[str] = mapped_column(String(100), index=True)
    xml: Mapped[str | None] = mapped_column(Text, nullable=True)
    sha256: Mapped[str] = mapped_column(String(64))
    previous_sha256: Mapped[str] = mapped_column(String(64))
    versions: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    changed_by: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(Text)


class CaseRules(Base):
    """The rules a case started under (``rules.toml`` plus the overrides in force then)."""

    __tablename__ = "penalty_case_rules"

    case_id: Mapped[str] = mapped_column(ForeignKey("penalty_case.id"), primary_key=True)
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


STORE: RuleStore[RuleOverride, Rules] = RuleStore(RuleOverride, rules_path, parse_rules,
    changed_action="penalty_rule_changed", reset_action="penalty_rule_reset")

latest_overrides = STORE.latest_overrides
effective_raw = STORE.effective_raw
effective_rules = STORE.effective_rules
rule_states = STORE.rule_states
rule_state = STORE.rule_state
rule_history = STORE.rule_history
set_rule = STORE.set_rule
reset_rule = STORE.reset_rule


def rules_to_raw(rules: Rules) -> dict[str, Any]:
    """A ``Rules`` as the TOML document it came from (JSON types: decimals as strings)."""
    return {k: _jsonable(v) for k, v in asdict(rules).items()}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, Decimal):
        return str(value)
    return value


def snapshot_case_rules(session: Session, case_id: str, rules: Rules) -> None:
    session.add(CaseRules(case_id=case_id, rules=rules_to_raw(rules)))


def rules_for_case(session: Session, case_id: str) -> Rules:
    """The rules the case started under; entries added to the file since then take the file value.

    Cases started before snapshots existed get the rules in force now.
    """
    row = session.get(CaseRules, case_id)
    return STORE.snapshot_rules(row.rules if row is not None else None, session)


__all__ = [
    "STORE",
    "CaseRules",
    "DmnOverride",
    "LawConfirmationRequired",
    "RuleOverride",
    "RuleState",
    "RuleValueError",
    "display",
    "effective_raw",
    "effective_rules",
    "latest_overrides",
    "reset_rule",
    "rule_history",
    "rule_state",
    "rule_states",
    "rules_for_case",
    "rules_to_raw",
    "set_rule",
    "snapshot_case_rules",
]

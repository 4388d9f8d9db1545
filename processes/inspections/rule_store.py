"""Administrators' changes to the inspection rules, the same way penalty and complaint rules are changed.

Reused, not copied: reading ``rules.toml`` with its comments (``[law]`` / ``[practice]`` /
``[unconfirmed]`` labels and sources) and validating a new value by kind are
``processes.penalty.rule_catalogue``'s functions, given this package's file. This package's own
are the table (``insp_rule_override``: the latest row of a key wins, a row without a value means
"back to the file"), the whole-document check (``rules.parse_rules``) and the audit event names.

What a change reaches: a plan copies the rules in force into its parameters when it is created
(``plans.create_plan``), so plans created after the change use it and earlier plans, their draws
and every re-verification keep the numbers they were made with. Periods read at the time of an
event (the 20-working-day result disclosure, the signing deadline, the risk levels, a new
schedule's grace) use the value in force then.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.audit import append as audit_append
from engine.db import utcnow
from processes.penalty.rule_catalogue import RuleEntry, RuleSection, RuleValueError, catalogue, coerce, entry, file_raw
from processes.penalty.rule_overrides import RuleState

from .models import InspectionRuleOverride
from .rules import RULES_ENV, RULES_FILE, Rules, parse_rules


def _path() -> Path:
    return Path(os.environ.get(RULES_ENV) or RULES_FILE)


def sections() -> tuple[RuleSection, ...]:
    """Every entry of the file with its comment and label, for the admin page."""
    return catalogue(_path())


def latest_overrides(session: Session) -> dict[str, InspectionRuleOverride]:
    newest = select(func.max(InspectionRuleOverride.id)).group_by(InspectionRuleOverride.key)
    rows = session.scalars(select(InspectionRuleOverride).where(InspectionRuleOverride.id.in_(newest)))
    return {row.key: row for row in rows}


def rule_states(session: Session) -> list[tuple[RuleSection, list[RuleState]]]:
    """Every entry with its file default, value in force and last change (the admin page)."""
    overrides = latest_overrides(session)
    raw = effective_raw(session)
    return [(section, [RuleState(item, raw[section.name][item.name], overrides.get(item.key))  # type: ignore[arg-type]
                       for item in section.entries]) for section in sections()]


def rule_state(session: Session, key: str) -> RuleState | None:
    item = entry(key, _path())
    if item is None:
        return None
    return RuleState(item, effective_raw(session)[item.section][item.name],
                     latest_overrides(session).get(key))  # type: ignore[arg-type]


def rule_history(session: Session, key: str) -> list[InspectionRuleOverride]:
    return list(session.scalars(select(InspectionRuleOverride).where(InspectionRuleOverride.key == key)
                                .order_by(InspectionRuleOverride.id.desc())))


def effective_raw(session: Session) -> dict[str, Any]:
    raw = file_raw(_path())
    for key, row in latest_overrides(session).items():
        section, _sep, name = key.partition(".")
        if row.value is not None and isinstance(raw.get(section), dict) and name in raw[section]:
            raw[section][name] = row.value
    return raw


def effective_rules(session: Session) -> Rules:
    """The rules in force now: ``rules.toml`` with the administrators' changes."""
    return parse_rules(effective_raw(session))


def _known(key: str) -> RuleEntry:
    item = entry(key, _path())
    if item is None:
        raise RuleValueError(key, "rules.toml 中没有这项配置")
    return item


def _reason(key: str, reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise RuleValueError(key, "请写明修改理由（记入审计记录）")
    if len(text) > 1000:
        raise RuleValueError(key, "修改理由不得超过1000个字符")
    return text


def _check_whole(key: str, raw: dict[str, Any]) -> None:
    try:
        parse_rules(raw)
    except (ValueError, TypeError, KeyError) as exc:
        raise RuleValueError(key, f"与其他配置冲突：{exc}") from None


def set_rule(session: Session, actor_id: str, key: str, value: Any, reason: str | None, *,
             confirm_law: bool = False, now: datetime | None = None) -> InspectionRuleOverride:
    """Change one entry from now on (plans created afterwards); validated, audited. Caller commits."""
    item = _known(key)
    new = coerce(item, value)
    why = _reason(key, reason)
    if item.is_law and not confirm_law:
        raise RuleValueError(key, "这是法定期限（[law]），只有法规修改时才应变更；确认后再保存")
    raw = effective_raw(session)
    old = raw[item.section][item.name]
    raw[item.section][item.name] = new
    _check_whole(key, raw)
    row = InspectionRuleOverride(key=key, value=new, previous=old, changed_by=actor_id,
                                 changed_at=now or utcnow(), reason=why)
    session.add(row)
    audit_append(session, actor_id, "inspection_rule_changed", now=now, data={
        "key": key, "old": old, "new": new, "law": item.is_law, "reason": why})
    session.flush()
    return row


def reset_rule(session: Session, actor_id: str, key: str, reason: str | None, *,
               now: datetime | None = None) -> InspectionRuleOverride:
    """Back to the value in ``rules.toml``. Caller commits."""
    item = _known(key)
    why = _reason(key, reason)
    last = latest_overrides(session).get(key)
    if last is None or last.value is None:
        raise RuleValueError(key, "当前已是 rules.toml 中的默认值")
    raw = effective_raw(session)
    old = raw[item.section][item.name]
    raw[item.section][item.name] = item.default
    _check_whole(key, raw)
    row = InspectionRuleOverride(key=key, value=None, previous=old, changed_by=actor_id,
                                 changed_at=now or utcnow(), reason=why)
    session.add(row)
    audit_append(session, actor_id, "inspection_rule_reset", now=now,
                 data={"key": key, "old": old, "new": item.default, "reason": why})
    session.flush()
    return row


__all__ = ["RuleValueError", "effective_raw", "effective_rules", "latest_overrides", "reset_rule", "rule_history",
           "rule_state", "rule_states", "sections", "set_rule"]

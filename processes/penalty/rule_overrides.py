"""Administrators' changes to the penalty rules and DMN tables, kept in the database.

Why the database and not the files: the web workers, the scheduler and the Celery workers
all read the same rows, a change needs no file access or redeploy by hand, and every change is
a row with who, when and why (history kept; the latest row of a key wins; a row without a
value means "back to the file default"). ``rules.toml`` stays the documented default.

Why a snapshot per case: a case must keep the rules it started under (a running case's
deadlines may not move because an administrator changed a period today). ``start_case``
stores the rules in force in ``penalty_case_rules``; the case's checks and service tasks
read them back with ``rules_for_case``. New cases get whatever is in force when they start.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.audit import append as audit_append
from engine.db import Base, utcnow

from .rule_catalogue import RuleEntry, RuleSection, RuleValueError, catalogue, coerce, display, entry, file_raw
from .rules import Rules, parse_rules


class RuleOverride(Base):
    """One change of one ``rules.toml`` entry (``key`` = ``section.name``); ``value`` None = reset."""

    __tablename__ = "penalty_rule_override"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), index=True)
    value: Mapped[Any | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    previous: Mapped[Any | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    changed_by: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(Text)


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


class LawConfirmationRequired(RuleValueError):
    """A ``[law]`` entry was to be changed without the explicit confirmation."""


@dataclass(frozen=True)
class RuleState:
    """An entry as the admin page shows it: file default, value in force, last change."""

    entry: RuleEntry
    value: Any
    last: RuleOverride | None

    @property
    def overridden(self) -> bool:
        return self.last is not None and self.last.value is not None


def latest_overrides(session: Session) -> dict[str, RuleOverride]:
    newest = select(func.max(RuleOverride.id)).group_by(RuleOverride.key)
    return {row.key: row for row in session.scalars(select(RuleOverride).where(RuleOverride.id.in_(newest)))}


def effective_raw(session: Session) -> dict[str, Any]:
    """``rules.toml`` with the overrides in force merged in (entries no longer in the file are ignored)."""
    raw = file_raw()
    for key, row in latest_overrides(session).items():
        section, _sep, name = key.partition(".")
        if row.value is not None and isinstance(raw.get(section), dict) and name in raw[section]:
            raw[section][name] = row.value
    return raw


def effective_rules(session: Session) -> Rules:
    """The rules a case starting now gets."""
    return parse_rules(effective_raw(session))


def rule_states(session: Session) -> list[tuple[RuleSection, list[RuleState]]]:
    overrides = latest_overrides(session)
    raw = effective_raw(session)
    return [(section, [RuleState(item, raw[section.name][item.name], overrides.get(item.key))
                       for item in section.entries]) for section in catalogue()]


def rule_state(session: Session, key: str) -> RuleState | None:
    item = entry(key)
    if item is None:
        return None
    raw = effective_raw(session)
    return RuleState(item, raw[item.section][item.name], latest_overrides(session).get(key))


def rule_history(session: Session, key: str) -> list[RuleOverride]:
    return list(session.scalars(select(RuleOverride).where(RuleOverride.key == key).order_by(RuleOverride.id.desc())))


def _known(key: str) -> RuleEntry:
    item = entry(key)
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
    """Rules that involve several entries (e.g. a reminder before its deadline) are checked together."""
    try:
        parse_rules(raw)
    except (ValueError, TypeError) as exc:
        raise RuleValueError(key, f"与其他配置冲突：{exc}") from None


def set_rule(session: Session, actor_id: str, key: str, value: Any, reason: str | None, *,
             confirm_law: bool = False, now: datetime | None = None) -> RuleOverride:
    """Change one entry for new cases; validate by type and range; audit. Caller commits."""
    item = _known(key)
    new = coerce(item, value)
    why = _reason(key, reason)
    if item.is_law and not confirm_law:
        raise LawConfirmationRequired(key, "这是法定期限或者限额（[law]），只有法律修改时才应变更；确认后再保存")
    raw = effective_raw(session)
    old = raw[item.section][item.name]
    raw[item.section][item.name] = new
    _check_whole(key, raw)
    row = RuleOverride(key=key, value=new, previous=old, changed_by=actor_id, changed_at=now or utcnow(), reason=why)
    session.add(row)
    audit_append(session, actor_id, "penalty_rule_changed", data={
        "key": key, "old": old, "new": new, "law": item.is_law, "confirmed_law": bool(confirm_law and item.is_law),
        "reason": why}, now=now)
    session.flush()
    return row


def reset_rule(session: Session, actor_id: str, key: str, reason: str | None, *,
               now: datetime | None = None) -> RuleOverride:
    """Back to the value in ``rules.toml`` for new cases. Caller commits."""
    item = _known(key)
    why = _reason(key, reason)
    last = latest_overrides(session).get(key)
    if last is None or last.value is None:
        raise RuleValueError(key, "当前已是 rules.toml 中的默认值")
    raw = effective_raw(session)
    old = raw[item.section][item.name]
    raw[item.section][item.name] = item.default
    _check_whole(key, raw)
    row = RuleOverride(key=key, value=None, previous=old, changed_by=actor_id, changed_at=now or utcnow(), reason=why)
    session.add(row)
    audit_append(session, actor_id, "penalty_rule_reset", data={
        "key": key, "old": old, "new": item.default, "law": item.is_law, "reason": why}, now=now)
    session.flush()
    return row


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
    if row is None:
        return effective_rules(session)
    raw = file_raw()
    for section, values in (row.rules or {}).items():
        if isinstance(values, dict) and isinstance(raw.get(section), dict):
            raw[section].update(values)
        elif isinstance(values, dict):
            raw[section] = dict(values)
    return parse_rules(raw)


__all__ = [
    "CaseRules", "DmnOverride", "LawConfirmationRequired", "RuleOverride", "RuleState", "RuleValueError",
    "display", "effective_raw", "effective_rules", "latest_overrides", "reset_rule", "rule_history", "rule_state",
    "rule_states", "rules_for_case", "rules_to_raw", "set_rule", "snapshot_case_rules",
]

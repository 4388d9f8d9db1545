"""Administrators' changes to a package's ``rules.toml``, kept in the database: one store for all.

Why the database and not the files: the web workers, the scheduler and the Celery workers all
read the same rows, a change needs no file access or redeploy by hand, and every change is a
row with who, when and why. History is kept: the latest row of a key wins, and a row without a
value means "back to the file default". ``rules.toml`` stays the documented default.

Why one store: penalty, complaints and inspections change their rules the same way (validate
by kind, refuse a ``[law]`` entry without explicit confirmation, check the whole document,
audit). Only three things differ per package, and they are this class's parameters: the
override table (a model with ``RuleOverrideColumns``), the rules file with its whole-document
check (``parse``), and the audit actions of a change and of a reset (literals at the
constructor, where the audit-label test reads them).
Reading the file with its comments and validating a value by kind is
``processes.penalty.rule_catalogue``, given the package's file.

What a change reaches is each package's choice, documented in its own module: a penalty case
and a complaint keep a snapshot of the rules they started under (``snapshot_rules``), a plan
copies them into its parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

from sqlalchemy import JSON, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.audit import append as audit_append
from engine.db import utcnow
from processes.rule_catalogue import RuleEntry, RuleSection, RuleValueError, catalogue, coerce, entry, file_raw

REASON_MAX = 1000
LAW_CONFIRMATION = "这是法定期限或者限额（[law]），只有法律法规修改时才应变更；确认后再保存"


class RuleOverrideColumns:
    """The shape of every package's override table: one change of one entry (``section.name``)."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), index=True)
    value: Mapped[Any | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    previous: Mapped[Any | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    changed_by: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(Text)


class LawConfirmationRequired(RuleValueError):
    """A ``[law]`` entry was to be changed without the explicit confirmation."""


@dataclass(frozen=True)
class RuleState:
    """An entry as the admin page shows it: file default, value in force, last change."""

    entry: RuleEntry
    value: Any
    last: RuleOverrideColumns | None

    @property
    def overridden(self) -> bool:
        return self.last is not None and self.last.value is not None


Row = TypeVar("Row", bound=RuleOverrideColumns)
Parsed = TypeVar("Parsed")


class RuleStore(Generic[Row, Parsed]):
    """One package's rules: its file, its override table, its whole-document check, its audit names."""

    def __init__(self, model: type[Row], path: Callable[[], Path], parse: Callable[[dict[str, Any]], Parsed],
                 *, changed_action: str, reset_action: str, zero_ok: frozenset[str] = frozenset()) -> None:
        self.model = model
        self.path = path
        self.parse = parse
        self.changed_action = changed_action
        self.reset_action = reset_action
        self.zero_ok = zero_ok  # whole-number keys where 0 is a real choice (the package's parse allows it)

    def sections(self) -> tuple[RuleSection, ...]:
        """Every entry of the file with its comment and label, for the admin page."""
        return catalogue(self.path())

    def latest_overrides(self, session: Session) -> dict[str, Row]:
        model: Any = self.model
        newest = select(func.max(model.id)).group_by(model.key)
        return {row.key: row for row in session.scalars(select(self.model).where(model.id.in_(newest)))}

    def rule_history(self, session: Session, key: str) -> list[Row]:
        model: Any = self.model
        return list(session.scalars(select(self.model).where(model.key == key).order_by(model.id.desc())))

    def effective_raw(self, session: Session) -> dict[str, Any]:
        """The file with the overrides in force merged in (entries no longer in the file are ignored)."""
        raw = file_raw(self.path())
        for key, row in self.latest_overrides(session).items():
            section, _sep, name = key.partition(".")
            if row.value is not None and isinstance(raw.get(section), dict) and name in raw[section]:
                raw[section][name] = row.value
        return raw

    def effective_rules(self, session: Session) -> Parsed:
        """The rules in force now: the file with the administrators' changes."""
        return self.parse(self.effective_raw(session))

    def snapshot_rules(self, raw_snapshot: dict[str, Any] | None, session: Session) -> Parsed:
        """Rules kept with a case (its snapshot); entries added to the file since take the file value.

        Without a snapshot (records from before snapshots existed) the rules in force now.
        """
        if not raw_snapshot:
            return self.effective_rules(session)
        raw = file_raw(self.path())
        for section, values in raw_snapshot.items():
            if isinstance(values, dict) and isinstance(raw.get(section), dict):
                raw[section].update(values)
            elif isinstance(values, dict):
                raw[section] = dict(values)
        return self.parse(raw)

    def rule_states(self, session: Session) -> list[tuple[RuleSection, list[RuleState]]]:
        """Every entry with its file default, value in force and last change (the admin page)."""
        overrides = self.latest_overrides(session)
        raw = self.effective_raw(session)
        return [(section, [RuleState(item, raw[section.name][item.name], overrides.get(item.key))
                           for item in section.entries]) for section in self.sections()]

    def rule_state(self, session: Session, key: str) -> RuleState | None:
        item = entry(key, self.path())
        if item is None:
            return None
        return RuleState(item, self.effective_raw(session)[item.section][item.name],
                         self.latest_overrides(session).get(key))

    def set_rule(self, session: Session, actor_id: str, key: str, value: Any, reason: str | None, *,
                 confirm_law: bool = False, now: datetime | None = None) -> Row:
        """Change one entry from now on; validated by kind and as a whole, audited. Caller commits."""
        item = self._known(key)
        new = coerce(item, value, zero_ok=key in self.zero_ok)
        why = _reason(key, reason)
        if item.is_law and not confirm_law:
            raise LawConfirmationRequired(key, LAW_CONFIRMATION)
        raw = self.effective_raw(session)
        old = raw[item.section][item.name]
        raw[item.section][item.name] = new
        self._check_whole(key, raw)
        row = self._row(key=key, value=new, previous=old, changed_by=actor_id, changed_at=now or utcnow(),
                         reason=why)
        session.add(row)
        audit_append(session, actor_id, self.changed_action, now=now, data={
            "key": key, "old": old, "new": new, "law": item.is_law,
            "confirmed_law": bool(confirm_law and item.is_law), "reason": why})
        session.flush()
        return row

    def reset_rule(self, session: Session, actor_id: str, key: str, reason: str | None, *,
                   now: datetime | None = None) -> Row:
        """Back to the file's value from now on. Caller commits."""
        item = self._known(key)
        why = _reason(key, reason)
        last = self.latest_overrides(session).get(key)
        if last is None or last.value is None:
            raise RuleValueError(key, "当前已是 rules.toml 中的默认值")
        raw = self.effective_raw(session)
        old = raw[item.section][item.name]
        raw[item.section][item.name] = item.default
        self._check_whole(key, raw)
        row = self._row(key=key, value=None, previous=old, changed_by=actor_id, changed_at=now or utcnow(),
                         reason=why)
        session.add(row)
        audit_append(session, actor_id, self.reset_action, now=now, data={
            "key": key, "old": old, "new": item.default, "law": item.is_law, "reason": why})
        session.flush()
        return row

    def _row(self, **columns: Any) -> Row:
        make: Callable[..., Row] = self.model  # a mapped class takes its columns as keywords
        return make(**columns)

    def _known(self, key: str) -> RuleEntry:
        item = entry(key, self.path())
        if item is None:
            raise RuleValueError(key, "rules.toml 中没有这项配置")
        return item

    def _check_whole(self, key: str, raw: dict[str, Any]) -> None:
        """Rules that involve several entries (a reminder before its deadline) are checked together."""
        try:
            self.parse(raw)
        except (ValueError, TypeError, KeyError) as exc:
            raise RuleValueError(key, f"与其他配置冲突：{exc}") from None


def _reason(key: str, reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise RuleValueError(key, "请写明修改理由（记入审计记录）")
    if len(text) > REASON_MAX:
        raise RuleValueError(key, f"修改理由不得超过{REASON_MAX}个字符")
    return text


__all__ = ["LawConfirmationRequired", "RuleOverrideColumns", "RuleState", "RuleStore", "RuleValueError"]

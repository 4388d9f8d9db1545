"""Every period and threshold of the complaint processes, loaded from ``rules.toml``.

Why a file and not constants: each period comes from a regulation or from local practice (the
comment beside each value says which, with the article), and a province may change the
practice ones; nothing in the BPMN or in Python repeats a number. A complaint copies
``Rules.process_data()`` into its data when it is registered, so BPMN expressions read e.g.
``rules['verification']['report_workdays']`` and a running complaint keeps the rules it started
under (administrators' later changes reach new complaints only; ``rule_store``).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

RULES_FILE = Path(__file__).resolve().parent / "rules.toml"
RULES_ENV = "WEIJIAN_COMPLAINT_RULES"
"""Environment variable naming another rules file (an agency's own copy)."""

SECTIONS = ("acceptance", "verification", "mediation", "petition", "cohandling", "urging", "review", "intake")


@dataclass(frozen=True)
class Rules:
    """The parsed rules: ``values[section][name]`` (ints, and the similarity ratio as a string)."""

    values: dict[str, dict[str, Any]]

    def get(self, section: str, name: str) -> Any:
        return self.values[section][name]

    def number(self, section: str, name: str) -> int:
        return int(self.values[section][name])

    @property
    def similarity(self) -> float:
        return float(Decimal(str(self.values["intake"]["duplicate_similarity_ratio"])))

    @property
    def max_attachment_bytes(self) -> int:
        return self.number("intake", "max_attachment_mb") * 1024 * 1024

    def process_data(self) -> dict[str, Any]:
        """What a complaint's process data gets (``rules``), as JSON."""
        return {"rules": {section: dict(values) for section, values in self.values.items()}}

    def as_raw(self) -> dict[str, Any]:
        return {section: dict(values) for section, values in self.values.items()}


def parse_rules(raw: dict[str, Any]) -> Rules:
    """Check the whole document (every section present, periods whole numbers >= 1, counts >= 0,
    a reminder shorter than the period it warns of) and return it as ``Rules``."""
    values: dict[str, dict[str, Any]] = {}
    for section in SECTIONS:
        given = raw.get(section)
        if not isinstance(given, dict):
            raise ValueError(f"rules: section [{section}] is missing")
        values[section] = {}
        for name, value in given.items():
            if name.endswith("_ratio"):
                try:
                    ratio = Decimal(str(value))
                except InvalidOperation:
                    raise ValueError(f"{section}.{name} must be a number between 0 and 1") from None
                if not 0 < ratio <= 1:
                    raise ValueError(f"{section}.{name} must be above 0 and at most 1")
                values[section][name] = str(value)
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{section}.{name} must be a whole number")
            minimum = 0 if name.startswith("max_") and name != "max_workdays" else 1
            if value < minimum:
                raise ValueError(f"{section}.{name} must be at least {minimum}")
            values[section][name] = value
    if values["urging"]["reminder_workdays_before"] >= values["verification"]["report_workdays"]:
        raise ValueError("urging.reminder_workdays_before must be shorter than the verification period")
    return Rules(values)


@lru_cache(maxsize=4)
def _load(path: Path, mtime_ns: int) -> Rules:
    with path.open("rb") as fh:
        return parse_rules(tomllib.load(fh))


def rules_path() -> Path:
    return Path(os.environ.get(RULES_ENV) or RULES_FILE)


def load_rules(path: Path | None = None) -> Rules:
    """The file's rules (``WEIJIAN_COMPLAINT_RULES`` or ``rules.toml``), re-read when it changes."""
    chosen = path or rules_path()
    return _load(chosen, chosen.stat().st_mtime_ns)

"""Every period, ratio and weight of double-random inspections, loaded from ``rules.toml``.

Why a file: 国办发〔2015〕58号 leaves ratios and frequencies to the agency, so they are data with
their source and label (see the comments in ``rules.toml``), not constants. A plan copies
``Rules.as_params()`` into its parameters when it is created; the draw and its re-verification
read the plan's copy, so changing the file never changes what an old draw recomputes to.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

RULES_FILE = Path(__file__).resolve().parent / "rules.toml"
RULES_ENV = "WEIJIAN_INSPECTION_RULES"
CREDIT_GRADES = ("A", "B", "C", "D")
RISK_LEVELS = {"normal": "常态", "high": "高风险"}


@dataclass(frozen=True)
class Weights:
    """Integer multipliers: risk level x credit grade x (complaints factor when over the threshold)."""

    risk_normal: int
    risk_high: int
    credit_a: int
    credit_b: int
    credit_c: int
    credit_d: int
    credit_none: int
    complaints_threshold: int
    complaints_factor: int
    # complaints counted are those received within this many months before the draw day (plans
    # made before this key existed carry no value: the default keeps them readable)
    complaints_months: int = 12

    def weight(self, risk_level: str, credit_grade: str | None, complaints: int) -> int:
        risk = self.risk_high if risk_level == "high" else self.risk_normal
        credit = {"A": self.credit_a, "B": self.credit_b, "C": self.credit_c, "D": self.credit_d}.get(
            credit_grade or "", self.credit_none)
        factor = self.complaints_factor if complaints >= self.complaints_threshold else 1
        return risk * credit * factor


@dataclass(frozen=True)
class Rules:
    default_ratio: Decimal
    min_per_category: int
    weights: Weights
    recent_months: int
    frequency_cap: int
    min_inspectors: int
    min_specialists: int
    previous_inspector_months: int
    pair_months: int
    result_workdays: int
    correction_default_days: int
    correction_max_days: int
    grace_hours: int
    risk_levels: dict[str, str] = field(default_factory=dict)  # entity event kind -> ledger level
    decision_workdays: int = 7
    decision_withdraw_workdays: int = 3
    # the reasons a head may give for not disclosing a penalty decision (the task's choices)
    decision_withhold_reasons: tuple[str, ...] = ()
    disclosure_sources: dict[str, str] = field(default_factory=dict)  # rule key -> "[label] source" (public)
    sign_workdays: int = 2  # [signing] record_workdays: each signer's 签署抽取记录 task is due then

    def as_params(self) -> dict[str, Any]:
        """The plan's copy (JSON: the ratio as a string, so no float enters a hash)."""
        return {"default_ratio": str(self.default_ratio), "min_per_category": self.min_per_category,
                "weights": asdict(self.weights), "recent_months": self.recent_months,
                "frequency_cap": self.frequency_cap, "min_inspectors": self.min_inspectors,
                "min_specialists": self.min_specialists, "previous_inspector_months": self.previous_inspector_months,
                "pair_months": self.pair_months, "correction_max_days": self.correction_max_days}


def _positive(value: Any, name: str, minimum: int = 1) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"rules.toml: {name} must be a whole number >= {minimum}, got {value!r}")
    return value


ZERO_MEANS_OFF = frozenset({"sampling.min_per_category", "exclusions.recent_months", "matching.min_specialists",
                            "matching.previous_inspector_months", "matching.pair_months", "schedule.grace_hours"})
"""Whole-number entries where 0 is a real choice (no recent-inspection exclusion, no catch-up after a
missed run...): ``parse_rules`` takes 0 for exactly these, and the rules page offers it."""


def parse_rules(raw: dict[str, Any]) -> Rules:
    """Check and convert the TOML tables; a wrong value names its key."""
    ratio = Decimal(str(raw["sampling"]["default_ratio"]))
    if not Decimal(0) < ratio <= Decimal(1):
        raise ValueError(f"rules.toml: sampling.default_ratio must be in (0, 1], got {ratio}")
    w = raw["weights"]
    weights = Weights(**{k: _positive(w[k], f"weights.{k}") for k in Weights.__dataclass_fields__
                         if k != "complaints_months"},
                      complaints_months=_positive(w.get("complaints_months", 12), "weights.complaints_months"))
    ex, m = raw["exclusions"], raw["matching"]
    rules = Rules(
        default_ratio=ratio, min_per_category=_positive(raw["sampling"]["min_per_category"], "min_per_category", 0),
        weights=weights, recent_months=_positive(ex["recent_months"], "recent_months", 0),
        frequency_cap=_positive(ex["frequency_cap"], "frequency_cap"),
        min_inspectors=_positive(m["min_inspectors"], "min_inspectors", 2),
        min_specialists=_positive(m["min_specialists"], "min_specialists", 0),
        previous_inspector_months=_positive(m["previous_inspector_months"], "previous_inspector_months", 0),
        pair_months=_positive(m["pair_months"], "pair_months", 0),
        result_workdays=_positive(raw["disclosure"]["result_workdays"], "result_workdays"),
        correction_default_days=_positive(raw["correction"]["default_days"], "correction.default_days"),
        correction_max_days=_positive(raw["correction"]["max_days"], "correction.max_days"),
        grace_hours=_positive(raw["schedule"]["grace_hours"], "grace_hours", 0),
        risk_levels=_risk_levels(raw.get("risk", {})),
        decision_workdays=_positive(raw["disclosure"].get("decision_workdays", 7), "decision_workdays"),
        decision_withdraw_workdays=_positive(raw["disclosure"].get("decision_withdraw_workdays", 3),
                                             "decision_withdraw_workdays"),
        decision_withhold_reasons=_reasons(raw["disclosure"].get("decision_withhold_reasons"),
                                           "decision_withhold_reasons"),
        disclosure_sources={str(k): str(v) for k, v in raw.get("disclosure_sources", {}).items()},
        sign_workdays=_positive(raw.get("signing", {}).get("record_workdays", 2), "signing.record_workdays"))
    if rules.min_specialists > rules.min_inspectors:
        raise ValueError("rules.toml: matching.min_specialists cannot exceed matching.min_inspectors")
    return rules


def _reasons(value: Any, name: str) -> tuple[str, ...]:
    """A list; or one text with the reasons separated by "；" (what the administrators' rules page
    stores, its values being text). An agency's older copy without the entry: no reason to choose,
    so every decision is disclosed."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [part for part in re.split(r"[；;\n]", value) if part.strip()]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"rules.toml: disclosure.{name} must be a list of one or more reasons, got {value!r}")
    return tuple(v.strip() for v in value)


def _risk_levels(raw: dict[str, Any]) -> dict[str, str]:
    levels = {str(k): str(v) for k, v in raw.items()}
    for key, level in levels.items():
        if level not in ("normal", "high"):
            raise ValueError(f"rules.toml: risk.{key} must be \"normal\" or \"high\", got {level!r}")
    return levels


@lru_cache(maxsize=4)
def _load(path: str, mtime_ns: int) -> Rules:
    """Parsed per path and modification time: an edited rules file is read again without a restart."""
    with open(path, "rb") as handle:
        return parse_rules(tomllib.load(handle))


def load_rules(path: Path | None = None) -> Rules:
    """The rules file (``WEIJIAN_INSPECTION_RULES`` names an agency's own copy)."""
    name = str(path or os.environ.get(RULES_ENV) or RULES_FILE)
    return _load(name, os.stat(name).st_mtime_ns)

"""Every legal period and limit of the penalty processes, loaded from ``rules.toml``.

Why a file and not constants: the periods come from statute or local practice (see the
comments in ``rules.toml``) and the province may change the practice ones; nothing in the BPMN
or in Python repeats a number. A case copies ``Rules.process_data()`` into its data when it
starts (``processes.penalty.service.start_case``), so BPMN expressions read e.g.
``periods['statement_workdays']`` and a running case keeps the rules it started under.

Thresholds that decide *whether* something applies (hearing right, legal review, collective
discussion) are DMN tables beside the BPMN, not here: they are rows admins add and reorder.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import asdict, dataclass, fields
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

RULES_FILE = Path(__file__).resolve().parent / "rules.toml"
RULES_ENV = "WEIJIAN_PENALTY_RULES"
"""Environment variable naming another rules file (an agency's own copy)."""


@dataclass(frozen=True)
class Limitation:
    """行政处罚法 Art. 36: years after which a violation can no longer be punished."""

    years: int
    years_public_health_harm: int


@dataclass(frozen=True)
class Staffing:
    min_officers: int
    min_deliberation_members: int
    min_collective_participants: int


@dataclass(frozen=True)
class Periods:
    """Lengths of periods; ``*_workdays`` in working days, ``*_days``/``*_months`` in calendar units."""

    filing_workdays: int
    filing_extension_workdays: int
    preservation_decision_workdays: int
    preservation_reminder_workdays_before: int
    statement_workdays: int
    hearing_request_workdays: int
    hearing_notice_workdays: int
    decision_days: int
    decision_first_reminder_days_before: int
    decision_final_reminder_days_before: int
    overdue_repeat_workdays: int
    extension_days: int
    max_extensions: int
    collective_extension_from: int
    service_workdays: int
    public_notice_days: int
    payment_days: int
    reconsideration_days: int
    litigation_months: int
    enforcement_application_months: int
    litigation_after_reconsideration_days: int
    enforcement_reminder_days: int
    transfer_decision_days: int
    transfer_hours: int
    summary_filing_workdays: int


@dataclass(frozen=True)
class Surcharge:
    """Art. 72 late-payment surcharge: ``daily_rate`` of the fine per day, at most ``cap_ratio`` x fine."""

    daily_rate: Decimal
    cap_ratio: Decimal


@dataclass(frozen=True)
class SummaryLimits:
    """Art. 51: the largest fine the summary procedure may impose, per party type."""

    max_fine_person: Decimal
    max_fine_organisation: Decimal
    max_on_spot_collection: Decimal  # Art. 68(1): collected on the spot without another ground
    on_spot_pay_in_days: int  # Art. 71: the officer hands on-the-spot fines to the agency within this

    def max_fine(self, party_type: str) -> Decimal:
        return self.max_fine_person if party_type == "person" else self.max_fine_organisation


@dataclass(frozen=True)
class Execution:
    """Art. 66 instalments (分期缴纳): how many, and how far past the original due date the last may fall."""

    max_instalments: int
    max_instalment_span_days: int


@dataclass(frozen=True)
class Reporting:
    """一案一卡两次报告: working days to report the case card after service and after closing."""

    first_report_workdays: int
    second_report_workdays: int


@dataclass(frozen=True)
class Numbering:
    """Document number formats (卫生行政执法文书规范); fields: unit, category, year, n."""

    case_number: str
    prior_notice: str


@dataclass(frozen=True)
class Rules:
    limitation: Limitation
    staffing: Staffing
    periods: Periods
    surcharge: Surcharge
    summary: SummaryLimits
    numbering: Numbering
    categories: dict[str, str]
    execution: Execution
    reporting: Reporting

    def category_char(self, category: str) -> str:
        try:
            return self.categories[category]
        except KeyError:
            raise ValueError(f"unknown case category {category!r}; known: {', '.join(self.categories)}") from None

    def process_data(self) -> dict[str, Any]:
        """What a case stores at start for its BPMN expressions (JSON types only)."""
        return {
            "periods": asdict(self.periods),
            "staffing": asdict(self.staffing),
            "summary_limits": {"person": float(self.summary.max_fine_person),
                               "organisation": float(self.summary.max_fine_organisation)},
        }


def _decimal(value: object, name: str) -> Decimal:
    try:
        result = Decimal(str(value))
    except ArithmeticError as exc:
        raise ValueError(f"{name} must be a number, got {value!r}") from exc
    if result < 0:
        raise ValueError(f"{name} must not be negative")
    return result


def _ints(section: dict[str, Any], cls: type, name: str) -> dict[str, int]:
    names = [f.name for f in fields(cls)]
    missing = [n for n in names if n not in section]
    if missing:
        raise ValueError(f"[{name}] is missing {', '.join(missing)}")
    values = {}
    for key in names:
        value = section[key]
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"[{name}] {key} must be a whole number >= 0, got {value!r}")
        values[key] = value
    return values


def _summary_days(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"[summary] on_spot_pay_in_days must be a whole number >= 1, got {value!r}")
    return value


def parse_rules(raw: dict[str, Any]) -> Rules:
    """Validate a parsed rules document; raise ValueError naming the bad entry."""
    periods = Periods(**_ints(raw.get("periods", {}), Periods, "periods"))
    if periods.preservation_reminder_workdays_before >= periods.preservation_decision_workdays:
        raise ValueError("[periods] preservation_reminder_workdays_before must be below the decision period")
    staffing = Staffing(**_ints(raw.get("staffing", {}), Staffing, "staffing"))
    if staffing.min_officers < 2:
        raise ValueError("[staffing] min_officers below 2 breaks 行政处罚法 Art. 42")
    if staffing.min_collective_participants < 2:
        raise ValueError("[staffing] min_collective_participants below 2 is no collective discussion (Art. 57(2))")
    surcharge = raw.get("surcharge", {})
    summary = raw.get("summary", {})
    numbering = raw.get("numbering", {})
    for key in (f.name for f in fields(Numbering)):
        if "{n}" not in str(numbering.get(key, "")):
            raise ValueError(f"[numbering] {key} must contain {{n}}")
    execution = Execution(**_ints(raw.get("execution", {}), Execution, "execution"))
    if execution.max_instalments < 2:
        raise ValueError("[execution] max_instalments must be at least 2 (one instalment is a deferral)")
    categories = {str(k): str(v) for k, v in raw.get("categories", {}).items()}
    if not categories:
        raise ValueError("[categories] must name at least one category")
    return Rules(
        limitation=Limitation(**_ints(raw.get("limitation", {}), Limitation, "limitation")),
        staffing=staffing, periods=periods,
        surcharge=Surcharge(_decimal(surcharge.get("daily_rate"), "daily_rate"),
                            _decimal(surcharge.get("cap_ratio"), "cap_ratio")),
        summary=SummaryLimits(_decimal(summary.get("max_fine_person"), "max_fine_person"),
                              _decimal(summary.get("max_fine_organisation"), "max_fine_organisation"),
                              _decimal(summary.get("max_on_spot_collection"), "max_on_spot_collection"),
                              _summary_days(summary.get("on_spot_pay_in_days"))),
        numbering=Numbering(**{f.name: str(numbering[f.name]) for f in fields(Numbering)}),
        categories=categories, execution=execution,
        reporting=Reporting(**_ints(raw.get("reporting", {}), Reporting, "reporting")),
    )


@lru_cache(maxsize=4)
def _load(path: Path, mtime_ns: int) -> Rules:
    with path.open("rb") as handle:
        return parse_rules(tomllib.load(handle))


def rules_path() -> Path:
    """The rules file in use: ``WEIJIAN_PENALTY_RULES`` or the one beside this module."""
    return Path(os.environ.get(RULES_ENV) or RULES_FILE)


def load_rules(path: Path | None = None) -> Rules:
    """The rules in force: ``path``, else ``$WEIJIAN_PENALTY_RULES``, else ``rules.toml`` here.

    Re-read when the file changes (cached by modification time), so an edit applies to the
    next case without a restart.
    """
    chosen = path or Path(os.environ.get(RULES_ENV) or RULES_FILE)
    return _load(chosen, chosen.stat().st_mtime_ns)

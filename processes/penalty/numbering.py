"""Case numbers: gapless per unit, category and year, safe when two filings race.

``宝卫医罚〔2026〕12号`` — 卫生行政执法文书规范: unit short name + 卫 + category + 罚 + 〔year〕 + n.
The counter row is incremented with one ``UPDATE ... RETURNING`` in the caller's transaction:
PostgreSQL locks the row until commit (a second filing waits and then reads the new value);
SQLite takes its single write lock (a second writer waits for the busy timeout, or gets a
conflict and retries). The number is stored on the case in the same transaction, so a rolled
back filing gives its number back and the sequence has no gaps.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from .models import CaseNumberCounter, PenaltyCase
from .rules import Rules


def next_value(session: Session, unit_id: str, category: str, year: int) -> int:
    """Take the next sequence number of (unit, category, year) in the current transaction."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(CaseNumberCounter).values(unit_id=unit_id, category=category, year=year, last_value=0)
                    .on_conflict_do_nothing(index_elements=["unit_id", "category", "year"]))
    value = session.execute(
        update(CaseNumberCounter)
        .where(CaseNumberCounter.unit_id == unit_id, CaseNumberCounter.category == category,
               CaseNumberCounter.year == year)
        .values(last_value=CaseNumberCounter.last_value + 1)
        .returning(CaseNumberCounter.last_value)).scalar_one()
    return int(value)


def format_number(template: str, unit_short_name: str, category_char: str, year: int, n: int) -> str:
    return template.format(unit=unit_short_name, category=category_char, year=year, n=n)


def allocate_case_number(session: Session, case: PenaltyCase, rules: Rules, year: int) -> str:
    """Give ``case`` its number (idempotent: a case that has one keeps it)."""
    if case.case_number:
        return case.case_number
    if not case.category:
        raise ValueError("the case has no category to number it by")
    n = next_value(session, case.unit_id, case.category, year)
    case.case_number = format_number(rules.numbering.case_number, case.unit_short_name,
                                     rules.category_char(case.category), year, n)
    case.number_year, case.number_seq = year, n
    return case.case_number


def document_number(rules: Rules, case: PenaltyCase, template_name: str) -> str | None:
    """A document's number shares the case's sequence (e.g. 宝卫医罚告〔2026〕12号 for its notice)."""
    if case.number_seq is None or case.number_year is None or not case.category:
        return None
    template = getattr(rules.numbering, template_name)
    return format_number(template, case.unit_short_name, rules.category_char(case.category),
                         case.number_year, case.number_seq)

"""一案一卡两次报告: the two reports of a case card (全国卫生监督调查制度), their deadlines, the
record of each report made, and the list of reports due or overdue.

The first report falls due when the decision is served (its effective service date), the second
when the case is closed; each within ``[reporting]`` working days of ``rules.toml``. The dates are
written on the case register (``card_first_due``, ``card_second_due``) when service and closing are
recorded, so "which reports are overdue" is one query over the register, like the card export.
A report made is a ``CardReport`` row: which report, who, when, and the card as reported with
its SHA-256 (canonical JSON), so a card corrected after it was reported is visible as changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from marshmallow import ValidationError
from sqlalchemy import exists, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from engine.calendar import CHINA_TZ, WorkCalendar

from .casecard import case_card
from .models import CardReport, PenaltyCase
from .rules import Rules

REPORTS = {"first": "第一次报告（处罚决定送达后）", "second": "第二次报告（结案后）"}
STATES = {"overdue": "逾期未报告", "pending": "待报告", "late": "逾期报告", "reported": "已按期报告"}


def first_report_due(calendar: WorkCalendar, rules: Rules, served_on: date) -> date:
    return calendar.add_workdays(served_on, rules.reporting.first_report_workdays).due


def second_report_due(calendar: WorkCalendar, rules: Rules, closed_on: date) -> date:
    return calendar.add_workdays(closed_on, rules.reporting.second_report_workdays).due


def card_sha256(card: dict[str, object]) -> str:
    """SHA-256 of the card as canonical JSON (sorted keys, UTF-8, no spaces)."""
    canonical = json.dumps(card, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _due_column(report: str) -> InstrumentedAttribute[date | None]:
    if report not in REPORTS:
        raise ValidationError({"report": [f"报告应为{REPORTS['first']}或{REPORTS['second']}"]})
    return PenaltyCase.card_first_due if report == "first" else PenaltyCase.card_second_due


@dataclass(frozen=True)
class ReportDue:
    """One report a case owes (or made): its deadline, the report made if any, and its state."""

    case: PenaltyCase
    report: str
    due: date
    made: CardReport | None
    state: str
    card_changed: bool

    @property
    def report_label(self) -> str:
        return REPORTS[self.report]

    @property
    def state_label(self) -> str:
        return STATES[self.state]


def _state(due: date, made: CardReport | None, today: date) -> str:
    if made is None:
        return "overdue" if today > due else "pending"
    return "late" if made.reported_on > due else "reported"


def reports_due(session: Session, *, today: date, report: str, only_open: bool = False,
                only_overdue: bool = False, unit_ids: Iterable[str] | None = None) -> list[ReportDue]:
    """The cases owing ``report`` (first or second), earliest deadline first.

    ``only_open``: not reported yet; ``only_overdue``: not reported and past the deadline.
    """
    due_column = _due_column(report)
    query = select(PenaltyCase).where(due_column.is_not(None))
    if only_open or only_overdue:
        reported = exists().where(CardReport.case_id == PenaltyCase.id, CardReport.report == report)
        query = query.where(~reported)
    if only_overdue:
        query = query.where(due_column < today)
    if unit_ids is not None:
        query = query.where(PenaltyCase.unit_id.in_(sorted(unit_ids)))
    cases = list(session.scalars(query.order_by(due_column, PenaltyCase.case_number)))
    first_made: dict[str, CardReport] = {}
    latest: dict[str, CardReport] = {}
    if cases:
        rows = session.scalars(select(CardReport).where(CardReport.report == report,
                                                        CardReport.case_id.in_([c.id for c in cases]))
                               .order_by(CardReport.reported_at, CardReport.id))
        for row in rows:
            first_made.setdefault(row.case_id, row)
            latest[row.case_id] = row
    result = []
    for case in cases:
        due = case.card_first_due if report == "first" else case.card_second_due
        assert due is not None
        made = first_made.get(case.id)
        changed = made is not None and latest[case.id].card_sha256 != card_sha256(case_card(case))
        result.append(ReportDue(case, report, due, made, _state(due, made, today), changed))
    return result


def record_reports(session: Session, user_id: str, case_ids: Sequence[str], report: str, *, now: datetime,
                   unit_ids: Iterable[str] | None = None) -> list[CardReport]:
    """Record that ``report`` of each case's card was made now by ``user_id``; all or nothing.

    A case that owes no such report (not yet served, not yet closed, or outside ``unit_ids``)
    refuses the whole request with the case named, and nothing is written.
    """
    _due_column(report)
    if not case_ids:
        raise ValidationError({"case_ids": ["请选择要报告的案件"]})
    allowed = set(unit_ids) if unit_ids is not None else None
    rows = []
    for case_id in dict.fromkeys(case_ids):
        case = session.get(PenaltyCase, case_id)
        if case is None or (allowed is not None and case.unit_id not in allowed):
            raise ValidationError({"case_ids": [f"未找到案件 {case_id}，或不在您的管辖范围内"]})
        due = case.card_first_due if report == "first" else case.card_second_due
        if due is None:
            what = "处罚决定尚未送达" if report == "first" else "案件尚未结案"
            raise ValidationError({"case_ids": [f"{case.case_number or case.id}：{what}，没有{REPORTS[report]}"]})
        card = case_card(case)
        rows.append(CardReport(case_id=case.id, report=report, due=due, reported_on=now.astimezone(CHINA_TZ).date(),
                               card=card, card_sha256=card_sha256(card), reported_by=user_id, reported_at=now))
    session.add_all(rows)
    session.flush()
    return rows


def reports_of(session: Session, case_id: str) -> list[CardReport]:
    return list(session.scalars(select(CardReport).where(CardReport.case_id == case_id)
                                .order_by(CardReport.reported_at, CardReport.id)))

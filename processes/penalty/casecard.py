"""一案一卡: the case card of 全国卫生监督调查制度, per case and for a date range, as CSV or XLSX.

The card is read from the case register only (no workflow state), so a report over a year
of cases is one query. Rows of a range are the cases decided, served (first report) or closed
(second report) in it; the report deadlines and the record of reports made are in ``reporting``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from processes import spreadsheet

from .forms import SOURCES
from .law import PENALTY_KINDS
from .models import PenaltyCase

CARD_FIELDS: tuple[tuple[str, str], ...] = (
    ("case_number", "案件编号"), ("entity_name", "当事人"), ("registered_address", "注册地址"),
    ("actual_address", "实际地址"), ("region_code", "行政区划代码"), ("credit_code", "统一社会信用代码"),
    ("legal_representative", "法定代表人"), ("unit_category", "单位类别"), ("licence_numbers", "许可证号"),
    ("source", "案件来源"), ("violation", "违法事实"), ("legal_basis", "处罚依据"), ("penalty_kinds", "处罚种类"),
    ("fine", "罚款金额（元）"), ("confiscation", "没收金额（元）"), ("decision_number", "决定书文号"),
    ("decided_on", "决定日期"), ("execution_status", "执行情况"), ("closed_on", "结案日期"),
)
EXECUTION = {"paid": "已执行", "partially_paid": "部分执行", "unpaid": "未执行", "overdue": "逾期未执行",
             "appeal_pending": "复议诉讼中", "revoked": "撤销", "enforcement_applied": "申请强制执行",
             "not_applicable": "无需执行"}


def _date(value: date | None) -> str:
    return value.isoformat() if value else ""


def case_card(case: PenaltyCase) -> dict[str, Any]:
    penalty = case.decided_penalty or {}
    return {
        "case_number": case.case_number or "", "entity_name": case.entity_name or "",
        "registered_address": case.registered_address or "", "actual_address": case.actual_address or "",
        "region_code": case.region_code or "", "credit_code": case.credit_code or "",
        "legal_representative": case.legal_representative or "", "unit_category": case.unit_category or "",
        "licence_numbers": case.licence_numbers or "", "source": SOURCES.get(case.source or "", case.source or ""),
        "violation": case.violation or "", "legal_basis": case.legal_basis or "",
        "penalty_kinds": "、".join(PENALTY_KINDS.get(k, k) for k in penalty.get("kinds", [])),
        "fine": f"{(case.fine_fen or 0) / 100:.2f}", "confiscation": f"{(case.confiscation_fen or 0) / 100:.2f}",
        "decision_number": case.case_number if case.decided_on else "", "decided_on": _date(case.decided_on),
        "execution_status": EXECUTION.get(case.execution_status or "", case.execution_status or ""),
        "closed_on": _date(case.closed_on),
    }


CARD_SELECTIONS = {"decided": "作出处罚决定", "first": "第一次报告：处罚决定已送达", "second": "第二次报告：已结案"}
"""Which cases a range selects: by decision date, by service date (first report), by closing date."""


def case_cards(session: Session, *, date_from: date, date_to: date, unit_ids: Iterable[str] | None = None,
               report: str = "decided") -> list[dict[str, Any]]:
    """Cards of the cases decided (``decided``), served (``first`` report) or closed after a decision
    (``second`` report) from ``date_from`` to ``date_to`` (inclusive), in that date's order."""
    column = {"decided": PenaltyCase.decided_on, "first": PenaltyCase.served_on,
              "second": PenaltyCase.closed_on}.get(report)
    if column is None:
        raise ValueError(f"unknown card selection {report!r}; known: {', '.join(CARD_SELECTIONS)}")
    query = select(PenaltyCase).where(PenaltyCase.decided_on.is_not(None), column >= date_from, column <= date_to)
    if unit_ids is not None:
        query = query.where(PenaltyCase.unit_id.in_(sorted(unit_ids)))
    return [case_card(c) for c in session.scalars(query.order_by(column, PenaltyCase.case_number))]


def to_csv(cards: Iterable[dict[str, Any]]) -> bytes:
    """UTF-8 with BOM (Excel opens it as Chinese text), header row in Chinese, no live formulas."""
    return spreadsheet.to_csv([label for _key, label in CARD_FIELDS],
                              ([card[key] for key, _label in CARD_FIELDS] for card in cards))


def to_xlsx(cards: Iterable[dict[str, Any]]) -> bytes:
    return spreadsheet.to_xlsx("一案一卡", [label for _key, label in CARD_FIELDS],
                               ([card[key] for key, _label in CARD_FIELDS] for card in cards))

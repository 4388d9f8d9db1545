"""Importing the item list, entity profiles and the inspector roster from CSV or XLSX.

Why all-or-nothing: a roster half-imported would let a draw run on a pool nobody meant. Every row
is checked first, errors are reported by row number (as the spreadsheet shows it: the header is
row 1) and column; only when no row is wrong is anything written, through the same services a
person uses (so each change is checked and audited), with one audit event for the file (its
SHA-256, kind and row count). Exports go through ``processes.spreadsheet`` (formula-safe cells).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from engine import Actor, audit
from engine.errors import InvalidData
from processes import spreadsheet
from processes.directory.services import DirectoryError

from . import directories
from .sampling import sha256_hex

ALIASES = {
    "事项编码": "code", "专业类别": "category", "抽查事项": "name", "检查依据": "legal_basis", "检查内容": "checklist",
    "统一社会信用代码": "credit_code", "经营状态": "status", "信用等级": "credit_grade",
    "投诉举报次数": "complaint_count",
    "最近检查日期": "last_inspected_on", "行政区划代码": "region_code", "纬度": "latitude", "经度": "longitude",
    "用户名": "user_id", "执法证号": "certificate_no", "有效期起": "valid_from", "有效期止": "valid_until",
    "专业特长": "specialties", "亲属任职单位": "relatives_at", "曾任职单位": "former_employers",
}
COLUMN_LABELS = {column: header for header, column in ALIASES.items()}
"""A row error's column by its header in the file (Chinese; the English is in the package catalog)."""
LIST_SEPARATORS = ("|", "；", ";", "、")
KINDS = {"items": "抽查事项清单", "entities": "检查对象名录库", "inspectors": "执法检查人员名录库"}
REQUIRED = {"items": ("code", "category", "name", "legal_basis", "checklist"), "entities": ("credit_code",),
            "inspectors": ("user_id", "certificate_no", "valid_from", "valid_until", "specialties")}


@dataclass
class RowError:
    row: int
    column: str
    message: str


class ImportRefused(InvalidData):
    """Some rows are wrong: nothing was written. ``errors`` lists every one."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("; ".join(f"第{e.row}行 {e.column}：{e.message}" for e in errors[:20]))
        self.errors = errors


def read_table(filename: str, content: bytes) -> list[dict[str, str]]:
    """Rows as {column: text}; Chinese headers are mapped to the English column names."""
    if filename.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
        rows = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    else:
        text = content.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return []
    header = [ALIASES.get(h.strip(), h.strip()) for h in rows[0]]
    return [dict(zip(header, (c.strip() for c in row), strict=False))
            for row in rows[1:] if any(c.strip() for c in row)]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _list(text: str) -> list[str]:
    for sep in LIST_SEPARATORS[1:]:
        text = text.replace(sep, LIST_SEPARATORS[0])
    return [part.strip() for part in text.split(LIST_SEPARATORS[0]) if part.strip()]


def _day(text: str, column: str) -> date:
    try:
        return date.fromisoformat(text.replace("/", "-"))
    except ValueError as exc:
        raise DirectoryError("日期格式应为YYYY-MM-DD", column) from exc


def _item(session: Session, actor: Actor, row: dict[str, str]) -> None:
    directories.add_item(session, actor, code=row["code"], category=row["category"], name=row["name"],
                         legal_basis=row["legal_basis"], checklist=_list(row["checklist"]))


def _entity(session: Session, actor: Actor, row: dict[str, str]) -> None:
    values: dict[str, Any] = {}
    for key in ("status", "credit_grade", "region_code", "latitude", "longitude"):
        if row.get(key):
            values[key] = row[key]
    if row.get("complaint_count"):
        if not row["complaint_count"].isdigit():
            raise DirectoryError("投诉举报次数应为不小于0的整数", "complaint_count")
        values["complaint_count"] = int(row["complaint_count"])
    if row.get("last_inspected_on"):
        values["last_inspected_on"] = _day(row["last_inspected_on"], "last_inspected_on")
    directories.set_profile(session, actor, row["credit_code"], **values)


def _inspector(session: Session, actor: Actor, row: dict[str, str]) -> None:
    directories.save_inspector(session, actor, row["user_id"], certificate_no=row["certificate_no"],
                               valid_from=_day(row["valid_from"], "valid_from"),
                               valid_until=_day(row["valid_until"], "valid_until"),
                               specialties=_list(row["specialties"]), relatives_at=_list(row.get("relatives_at", "")),
                               former_employers=_list(row.get("former_employers", "")))


WRITERS: dict[str, Callable[[Session, Actor, dict[str, str]], None]] = {
    "items": _item, "entities": _entity, "inspectors": _inspector}


def import_rows(session: Session, actor: Actor, kind: str, filename: str, content: bytes) -> int:
    """Check every row, then write them all (or raise ``ImportRefused`` with every row's errors).

    Each row is tried inside a savepoint, so a row that fails a service check is reported and
    undone; when any row failed the whole import is undone (the outer savepoint) and refused.
    """
    if kind not in WRITERS:
        raise InvalidData(f"unknown import kind {kind!r}")
    rows = read_table(filename, content)
    errors: list[RowError] = []
    if not rows:
        raise ImportRefused(errors=[RowError(1, "-", "文件中没有数据行")])
    outer = session.begin_nested()
    for number, row in enumerate(rows, start=2):
        missing = [c for c in REQUIRED[kind] if not row.get(c)]
        if missing:
            errors.extend(RowError(number, c, "此项为必填项") for c in missing)
            continue
        inner = session.begin_nested()
        try:
            WRITERS[kind](session, actor, row)
            inner.commit()
        except DirectoryError as exc:
            inner.rollback()
            errors.append(RowError(number, exc.field or "-", str(exc.args[0]) if exc.args else str(exc)))
    if errors:
        outer.rollback()
        raise ImportRefused(errors=errors)
    outer.commit()
    audit.append(session, actor.user_id, "inspection_directory_imported",
                 data={"kind": kind, "file": filename, "sha256": sha256_hex(content), "rows": len(rows)})
    return len(rows)


def export_table(header: list[str], rows: list[list[Any]], fmt: str, sheet: str) -> bytes:
    """CSV or XLSX through ``processes.spreadsheet`` (cells that could start a formula are quoted)."""
    if fmt == "xlsx":
        return spreadsheet.to_xlsx(sheet, header, rows)
    return spreadsheet.to_csv(header, rows)

"""CSV and XLSX exports that a spreadsheet cannot turn into formulas.

A party's name, a complaint's text or any other value people type ends up in exports that
officers open in Excel or WPS. A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return is read as a formula there (``=HYPERLINK(...)`` becomes a live link, DDE can
run commands): OWASP's "CSV injection" advice is to prefix such cells with a single quote, so
they show as the text that was typed. Numbers stay numbers (a negative amount is not text).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """The value as a spreadsheet must show it: text that could start a formula gets a quote."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 with BOM (Excel opens it as Chinese text), CRLF line ends, every cell made safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(sheet_name: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """One sheet, strings stored as strings (never as formulas), every cell made safe."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet(sheet_name)
    sheet.append([_text_cell(sheet, h, WriteOnlyCell) for h in header])
    for row in rows:
        sheet.append([_text_cell(sheet, v, WriteOnlyCell) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _text_cell(sheet: Any, value: Any, cell_type: Any) -> Any:
    safe = safe_cell(value)
    if not isinstance(safe, str):
        return safe
    cell = cell_type(sheet, value=safe)
    cell.data_type = "s"  # openpyxl would store a leading '=' as a formula
    return cell

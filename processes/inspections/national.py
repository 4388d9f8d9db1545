"""National tasks (国家随机监督抽查任务) arriving with their fixed entity list: from a spreadsheet a
head uploads, or from a system that posts the task to the API.

Why a checker of its own and not ``plans.create_plan`` alone: a national list is long and comes
from outside, so a head wants every wrong row at once (unknown credit code, a row repeated, a name
or category that does not match our directory: the list may name an entity we know under another
name, which must be looked at, not guessed), by row number as the spreadsheet shows it (header =
row 1). Nothing is written unless every row is good; then the plan is created through
``create_plan`` (kind ``national``: the list is locked, no entity is drawn, inspectors are still
matched by lot) with one audit event naming the source and, for a file, its SHA-256. The file is
read by the directory imports' reader (``imports.read_table``: CSV or XLSX, Chinese headers).
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import Actor, audit
from processes.directory.codes import normalize_credit_code
from processes.directory.models import ENTITY_CATEGORIES, Entity

from .imports import ImportRefused, RowError, read_table
from .models import Plan
from .plans import create_plan
from .sampling import sha256_hex

MAX_ROWS = 20_000
"""More rows than any national task has (a bound on the work a file can ask for, not a rule)."""
NAME_ALIASES = ("name", "单位名称", "检查对象名称", "名称")
CATEGORY_ALIASES = ("category", "专业类别", "类别")


def _first(row: Mapping[str, Any], keys: Sequence[str]) -> str:
    for key in keys:
        value = row.get(key)
        if value is not None and str(value).strip():
            return str(value).strip()
    return ""


def _category_code(text: str) -> str:
    """A category as its code, whether the list gives the code or the Chinese name."""
    if text in ENTITY_CATEGORIES:
        return text
    return next((code for code, label in ENTITY_CATEGORIES.items() if label == text), text)


def check_rows(session: Session, rows: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[RowError]]:
    """The list's credit codes in order, and every row's problem (row 2 is the first data row)."""
    if not rows:
        return [], [RowError(1, "-", "名单中没有数据行")]
    if len(rows) > MAX_ROWS:
        return [], [RowError(1, "-", f"名单超过{MAX_ROWS}行，请核对文件")]
    wanted = {normalize_credit_code(str(r.get("credit_code") or "")) for r in rows}
    known = {e.credit_code: e for e in session.scalars(select(Entity).where(Entity.credit_code.in_(wanted - {""})))}
    codes: list[str] = []
    seen: dict[str, int] = {}
    errors: list[RowError] = []
    for number, row in enumerate(rows, start=2):
        code = normalize_credit_code(str(row.get("credit_code") or ""))
        if not code:
            errors.append(RowError(number, "credit_code", "此项为必填项"))
            continue
        if code in seen:
            errors.append(RowError(number, "credit_code", f"与第{seen[code]}行重复：{code}"))
            continue
        seen[code] = number
        entity = known.get(code)
        if entity is None:
            errors.append(RowError(number, "credit_code", f"统一社会信用代码不在检查对象名录库中：{code}"))
            continue
        name = _first(row, NAME_ALIASES)
        if name and name != entity.name:
            errors.append(RowError(number, "name", f"单位名称与名录库不一致：名单为{name}，名录库为{entity.name}"))
        category = _first(row, CATEGORY_ALIASES)
        if category and _category_code(category) != entity.category:
            listed = ENTITY_CATEGORIES.get(entity.category, entity.category)
            errors.append(RowError(number, "category", f"专业类别与名录库不一致：名单为{category}，名录库为{listed}"))
        codes.append(code)
    return codes, errors


def create_national_plan(session: Session, actor: Actor, *, title: str, unit_id: str, window_start: date,
                         window_end: date, rows: Sequence[Mapping[str, Any]], source: str, code: str | None = None,
                         seed_source: str = "generated", witness_id: str | None = None,
                         file_sha256: str | None = None) -> Plan:
    """A draft national plan with the locked list, or ``ImportRefused`` with every row's error
    (nothing written). ``source``: ``file:<name>`` or ``api``."""
    codes, errors = check_rows(session, rows)
    if errors:
        raise ImportRefused(errors)
    if code and session.scalar(select(Plan.id).where(Plan.code == code)) is not None:
        raise ImportRefused([RowError(0, "code", f"任务编号{code}已经存在")])
    plan = create_plan(session, actor, title=title, kind="national", unit_id=unit_id, window_start=window_start,
                       window_end=window_end, fixed_entities=codes, seed_source=seed_source, witness_id=witness_id,
                       code=code)
    audit.append(session, actor.user_id, "inspection_national_list_received", data={
        "plan": plan.id, "code": plan.code, "source": source, "sha256": file_sha256, "entities": len(codes)})
    return plan


def rows_of_file(filename: str, content: bytes) -> list[dict[str, str]]:
    """The spreadsheet's rows (``imports.read_table``); a file that cannot be read raises
    ``ImportRefused`` with one sentence."""
    try:
        return read_table(filename, content)
    except (ValueError, KeyError, OSError, zipfile.BadZipFile) as exc:  # UnicodeDecodeError is a ValueError
        message = f"文件无法读取，请使用UTF-8编码的CSV或者XLSX文件（{type(exc).__name__}）"
        raise ImportRefused([RowError(0, "-", message)]) from exc


def file_digest(content: bytes) -> str:
    return sha256_hex(content)


COLUMN_NAMES = {"credit_code": "统一社会信用代码", "name": "单位名称", "category": "专业类别", "code": "任务编号"}


def describe(error: RowError) -> str:
    """One row's error as the page prints it: ``第3行（统一社会信用代码）：…``."""
    where = f"第{error.row}行" if error.row else ""
    column = COLUMN_NAMES.get(error.column, "")
    return f"{where}（{column}）：{error.message}" if where and column else (
        f"{where}：{error.message}" if where else error.message)

"""A DMN decision table as rows and cells an administrator can edit, and back to DMN XML.

Why not let admins upload XML: the thresholds (e.g. the hearing right's "large fine" per party
type) are cells of rows; editing cells keeps the columns, the ids and the hit policy intact, and
every cell can be checked on its own, so an error names the row and the column instead of a
line of XML. Every expression is checked the way the engine will run it: SpiffWorkflow turns an
input entry into ``(input) == (entry)``, ``input<entry>`` (``>= 10000``) or, with ``?``, the
entry with ``?`` replaced by the input; each result must pass the sandbox's static check (what
``engine.deploy`` refuses) and a dry run that catches unknown names.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from engine.sandbox import SandboxedEnvironment, SandboxError, check_script, script_helpers
from engine.xmlsafe import parse_xml

DMN_NS = "https://www.omg.org/spec/DMN/20191111/MODEL/"
_Q = f"{{{DMN_NS}}}"
WILDCARD = "-"
_QMARK_RE = re.compile(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)")  # as SpiffWorkflow's DMNEngine
_SAMPLES: dict[str, Any] = {"number": 0, "string": "", "boolean": False}
MAX_ROWS = 200
STAMP = "weijian-admin-revision"
"""Marks the comment that makes each administrator's save a distinct deployment (see ``stamp``)."""
MAX_CELL = 500


class DmnTableError(ValueError):
    """A table that may not be saved; ``row`` is 1-based, ``column`` the column's label."""

    def __init__(self, file_name: str, message: str, row: int | None = None, column: str | None = None) -> None:
        self.file_name, self.message, self.row, self.column = file_name, message, row, column
        super().__init__(self.where() + message)

    def where(self) -> str:
        parts = [self.file_name]
        if self.row is not None:
            parts.append(f"第{self.row}行")
        if self.column:
            parts.append(f"「{self.column}」列")
        return " ".join(parts) + "："


@dataclass(frozen=True)
class Column:
    id: str
    label: str
    type_ref: str
    expression: str  # inputs: the input expression; outputs: the output variable name


@dataclass
class Row:
    description: str
    inputs: list[str]
    outputs: list[str]
    id: str = ""


@dataclass
class DecisionTable:
    file_name: str
    decision_id: str
    name: str
    hit_policy: str
    comment: str
    inputs: list[Column]
    outputs: list[Column]
    rows: list[Row] = field(default_factory=list)


def _text(el: etree._Element | None) -> str:
    if el is None:
        return ""
    found = el.find(f"{_Q}text")
    return (found.text or "").strip() if found is not None else ""


def _table_element(root: etree._Element, file_name: str) -> tuple[etree._Element, etree._Element]:
    decisions = root.findall(f"{_Q}decision")
    if len(decisions) != 1:
        raise DmnTableError(file_name, "应当恰好包含一个决策（decision）")
    table = decisions[0].find(f"{_Q}decisionTable")
    if table is None:
        raise DmnTableError(file_name, "决策中没有决策表（decisionTable）")
    return decisions[0], table


def _input_column(el: etree._Element) -> Column:
    expression = el.find(f"{_Q}inputExpression")
    type_ref = expression.get("typeRef") if expression is not None else None
    return Column(el.get("id") or "", el.get("label") or "", type_ref or "", _text(expression))


def read_table(xml: bytes, file_name: str) -> DecisionTable:
    """Parse through the engine's hardened parser (no DTD, no entities, size limit)."""
    root = parse_xml(xml, file_name)
    decision, table = _table_element(root, file_name)
    comment = " ".join((c.text or "").strip() for c in root.iter(etree.Comment)
                       if not (c.text or "").strip().startswith(STAMP))
    inputs = [_input_column(el) for el in table.findall(f"{_Q}input")]
    outputs = [Column(el.get("id") or "", el.get("label") or el.get("name") or "", el.get("typeRef") or "",
                      el.get("name") or "") for el in table.findall(f"{_Q}output")]
    rows = []
    for rule in table.findall(f"{_Q}rule"):
        description = rule.find(f"{_Q}description")
        rows.append(Row((description.text or "").strip() if description is not None else "",
                        [_text(e) or WILDCARD for e in rule.findall(f"{_Q}inputEntry")],
                        [_text(e) for e in rule.findall(f"{_Q}outputEntry")], rule.get("id") or ""))
    return DecisionTable(file_name, decision.get("id") or "", decision.get("name") or "",
                         table.get("hitPolicy") or "UNIQUE", comment, inputs, outputs, rows)


def rows_from_data(table: DecisionTable, rows: Iterable[Mapping[str, Any]]) -> list[Row]:
    """Rows as the web form or the API send them: ``{"description", "inputs": [...], "outputs": [...]}``."""
    result = []
    for number, data in enumerate(rows, start=1):
        inputs = [str(v if v is not None else "").strip() for v in (data.get("inputs") or [])]
        outputs = [str(v if v is not None else "").strip() for v in (data.get("outputs") or [])]
        if len(inputs) != len(table.inputs) or len(outputs) != len(table.outputs):
            raise DmnTableError(table.file_name, f"应有{len(table.inputs)}个条件列和{len(table.outputs)}个结果列",
                                row=number)
        result.append(Row(str(data.get("description") or "").strip(), [v or WILDCARD for v in inputs], outputs))
    return result


def validate(table: DecisionTable) -> None:
    """Refuse what the engine would refuse or fail on; the error names the row and the column."""
    name = table.file_name
    if not table.rows:
        raise DmnTableError(name, "决策表至少要有一行")
    if len(table.rows) > MAX_ROWS:
        raise DmnTableError(name, f"决策表不得超过{MAX_ROWS}行")
    for column in table.inputs:
        _check(name, None, column.label, column.expression, "输入表达式")
    for number, row in enumerate(table.rows, start=1):
        if len(row.description) > 200:
            raise DmnTableError(name, "说明不得超过200个字符", number)
        for column, cell in zip(table.inputs, row.inputs, strict=True):
            _check_input(name, number, column, cell)
        for column, cell in zip(table.outputs, row.outputs, strict=True):
            _check_output(name, number, column, cell)
    if any(cell != WILDCARD for cell in table.rows[-1].inputs):
        raise DmnTableError(name, "最后一行应为兜底行（所有条件均为“-”），保证每个案件都有结论", len(table.rows))


def _check_input(file_name: str, row: int, column: Column, cell: str) -> None:
    if len(cell) > MAX_CELL:
        raise DmnTableError(file_name, f"内容不得超过{MAX_CELL}个字符", row, column.label)
    if cell == WILDCARD:
        return
    if _QMARK_RE.search(cell):
        expression = _QMARK_RE.sub("dmninputexpr", cell)
    else:
        try:
            ast.parse(cell)
            expression = f"(dmninputexpr) == ({cell})"
        except SyntaxError:
            expression = f"dmninputexpr {cell}"
    _check(file_name, row, column.label, expression, cell, {"dmninputexpr": _SAMPLES.get(column.type_ref, "")})


def _check_output(file_name: str, row: int, column: Column, cell: str) -> None:
    if not cell:
        raise DmnTableError(file_name, "结果不能为空（文字请加引号，如 '依据'）", row, column.label)
    if len(cell) > MAX_CELL:
        raise DmnTableError(file_name, f"内容不得超过{MAX_CELL}个字符", row, column.label)
    _check(file_name, row, column.label, cell, cell, {})
    if column.type_ref in ("boolean", "number"):
        try:
            value = ast.literal_eval(cell)
        except (ValueError, SyntaxError):
            value = None
        ok = isinstance(value, bool) if column.type_ref == "boolean" else (
            isinstance(value, int | float) and not isinstance(value, bool))
        if not ok:
            expected = "True 或 False" if column.type_ref == "boolean" else "数字"
            raise DmnTableError(file_name, f"应为{expected}，而不是 {cell}", row, column.label)


def _check(file_name: str, row: int | None, column: str, expression: str, shown: str,
           sample: dict[str, Any] | None = None) -> None:
    try:
        check_script(expression, "eval")
    except SandboxError as exc:
        raise DmnTableError(file_name, f"表达式 {shown} 不被允许或者有语法错误：{exc}", row, column) from None
    if sample is None:
        return  # input expressions read case data that only exists at run time
    try:
        SandboxedEnvironment(script_helpers(_no_calendar, _no_clock)).evaluate(expression, dict(sample))
    except NameError as exc:
        raise DmnTableError(file_name, f"表达式 {shown} 使用了未知的名称（{exc}）；文字请加引号", row, column) from None
    except SandboxError as exc:
        raise DmnTableError(file_name, f"表达式 {shown} 不被允许：{exc}", row, column) from None
    except Exception:  # noqa: S110 - a type mismatch with the sample value is not an error here
        pass


def _no_calendar() -> Any:
    raise NameError("calendar helpers are not available in decision tables")


def _no_clock() -> Any:
    raise NameError("the clock is not available in decision tables")


def write_table(xml: bytes, table: DecisionTable) -> bytes:
    """``xml`` with its rules replaced by ``table.rows`` (columns, ids and comments kept)."""
    root = parse_xml(xml, table.file_name)
    decision, element = _table_element(root, table.file_name)
    for rule in element.findall(f"{_Q}rule"):
        element.remove(rule)
    prefix = decision.get("id") or "decision"
    for number, row in enumerate(table.rows, start=1):
        rule = etree.SubElement(element, f"{_Q}rule", id=f"{prefix}_r{number}")
        if row.description:
            etree.SubElement(rule, f"{_Q}description").text = row.description
        for kind, cells in (("i", row.inputs), ("o", row.outputs)):
            tag = "inputEntry" if kind == "i" else "outputEntry"
            for index, cell in enumerate(cells, start=1):
                entry = etree.SubElement(rule, f"{_Q}{tag}", id=f"{prefix}_r{number}_{kind}{index}")
                etree.SubElement(entry, f"{_Q}text").text = cell
    etree.indent(element, space="  ", level=2)
    element.tail = "\n  "
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8") + b"\n"


def same_rows(a: DecisionTable, b: DecisionTable) -> bool:
    return [(r.description, r.inputs, r.outputs) for r in a.rows] == [(r.description, r.inputs, r.outputs)
                                                                       for r in b.rows]


def stamp(xml: bytes, file_name: str, revision: str) -> bytes:
    """``xml`` with one comment naming the administrator's revision (a previous one replaced).

    Why: the engine keys a deployment by the content hash of its files, and deploying content
    it already has returns that old version without making it the newest. Going back to an
    earlier table (or to the file's) must still become the version new cases start, so every
    save is made distinct.
    """
    root = parse_xml(xml, file_name)
    for old in [c for c in root.iter(etree.Comment) if (c.text or "").strip().startswith(STAMP)]:
        parent = old.getparent()
        if parent is not None:
            parent.remove(old)
    mark = etree.Comment(f" {STAMP} {revision} ")
    mark.tail = "\n  "
    root.insert(0, mark)
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8") + b"\n"

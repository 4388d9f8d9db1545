"""What ``rules.toml`` offers an administrator: every entry with its section, comment and type.

Why parse the file's comments: the comment next to each value says whether it is fixed by
statute (``[law]``) or a local choice (``[practice]``) and cites the article. The admin page
shows it so nobody changes a statutory period by accident. Entries are read generically from
the file (a new section such as ``[execution]`` appears without code changes); the kind of an
entry, and so how a new value is validated, follows from its section, name and file value.

Every package's ``rules.toml`` is read here (penalty, complaints, inspections), given its path;
``processes.rule_store`` keeps the administrators' changes to them.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

_SECTION_RE = re.compile(r"^\s*\[([A-Za-z0-9_.-]+)\]\s*(?:#\s*(.*))?$")
_KEY_RE = re.compile(r"""^\s*([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|'[^']*'|[^#]*?)\s*(?:#\s*(.*))?$""")
_COMMENT_RE = re.compile(r"^\s*#\s?(.*)$")
_TAG_RE = re.compile(r"^\[([a-z/]+)\]\s*(.*)$")
_CJK_RE = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff]$")
TEMPLATE_FIELDS = {"unit": "宝", "category": "医", "year": 2026, "n": 1}
INT_MAX = 10_000
MONEY_MAX = Decimal("1000000000")


class RuleValueError(ValueError):
    """A value an administrator may not set; ``key`` names the entry (``section.name``)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message


@dataclass(frozen=True)
class RuleEntry:
    section: str
    name: str
    default: Any
    comment: str
    tag: str  # "law", "practice", "practice/law" or "" when the file says nothing
    kind: str  # int | decimal | rate | category | template | text | bool

    @property
    def key(self) -> str:
        return f"{self.section}.{self.name}"

    @property
    def is_law(self) -> bool:
        """Fixed by statute: changing it needs an explicit confirmation."""
        return "law" in self.tag.split("/")


@dataclass(frozen=True)
class RuleSection:
    name: str
    comment: str
    entries: tuple[RuleEntry, ...]


def file_raw(path: Path) -> dict[str, Any]:
    """The parsed rules file (a fresh copy: callers merge overrides into it)."""
    return _deep_copy(_read(path, path.stat().st_mtime_ns)[0])


def catalogue(path: Path) -> tuple[RuleSection, ...]:
    return _read(path, path.stat().st_mtime_ns)[1]


def entry(key: str, path: Path) -> RuleEntry | None:
    for section in catalogue(path):
        for item in section.entries:
            if item.key == key:
                return item
    return None


def _deep_copy(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: _deep_copy(v) if isinstance(v, dict) else v for k, v in raw.items()}


@lru_cache(maxsize=4)
def _read(path: Path, mtime_ns: int) -> tuple[dict[str, Any], tuple[RuleSection, ...]]:
    text = path.read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    comments: dict[str, str] = {}
    section_notes: dict[str, list[str]] = {}
    section = ""
    seen_key = False
    for line in text.splitlines():
        header = _SECTION_RE.match(line)
        if header:
            section, seen_key = header.group(1), False
            section_notes[section] = [header.group(2).strip()] if header.group(2) else []
            continue
        found = _KEY_RE.match(line)
        if found and section:
            seen_key = True
            comments[f"{section}.{found.group(1)}"] = (found.group(3) or "").strip()
            continue
        note = _COMMENT_RE.match(line)
        if note and section and not seen_key:  # the lines that introduce a section
            section_notes[section].append(note.group(1).strip())
    sections = []
    for name, values in raw.items():
        if not isinstance(values, dict):
            continue
        entries = tuple(_entry(name, key, value, comments.get(f"{name}.{key}", ""))
                        for key, value in values.items() if not isinstance(value, dict))
        sections.append(RuleSection(name, " ".join(n for n in section_notes.get(name, []) if n), entries))
    return raw, tuple(sections)


def _entry(section: str, name: str, value: Any, comment: str) -> RuleEntry:
    tag_match = _TAG_RE.match(comment)
    tag, text = (tag_match.group(1), tag_match.group(2)) if tag_match else ("", comment)
    return RuleEntry(section, name, value, text, tag, _kind(section, name, value))


def _kind(section: str, name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    text = str(value)
    if section == "categories":
        return "category"
    if "{n}" in text:
        return "template"
    if _decimal_or_none(text) is not None:
        return "rate" if ("rate" in name or "ratio" in name) else "decimal"
    return "text"


def _decimal_or_none(text: str) -> Decimal | None:
    try:
        number = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def coerce(item: RuleEntry, given: Any, *, zero_ok: bool = False) -> Any:
    """The value to store for ``given`` (form text or JSON), in the file's type; or RuleValueError.

    ``zero_ok``: the package says 0 is a real choice for this whole number (no exclusion, no
    catch-up); otherwise 0 is allowed only for a ``max_`` count."""
    text = str(given).strip() if given is not None else ""
    if not text:
        raise RuleValueError(item.key, "请填写新的值")
    if item.kind == "bool":
        return _bool(item, text)
    if item.kind == "int":
        return _int(item, text, zero_ok)
    if item.kind in ("decimal", "rate"):
        return _number(item, text)
    if item.kind == "category":
        if not _CJK_RE.match(text):
            raise RuleValueError(item.key, "专业类别代码应为一个汉字")
        return text
    if item.kind == "template":
        return _template(item, text)
    if len(text) > 200:
        raise RuleValueError(item.key, "不得超过200个字符")
    return text


def _bool(item: RuleEntry, text: str) -> bool:
    if text.lower() in ("true", "1", "on", "yes", "false", "0", "off", "no"):
        return text.lower() in ("true", "1", "on", "yes")
    raise RuleValueError(item.key, "应为 true 或 false")


def _int(item: RuleEntry, text: str, zero_ok: bool = False) -> int:
    if not re.fullmatch(r"[+-]?\d+", text):
        raise RuleValueError(item.key, "应为整数")
    number = int(text)
    minimum = 0 if zero_ok or item.name.startswith("max_") else 1  # a count of allowed extensions may be 0
    if number < minimum:
        raise RuleValueError(item.key, f"应为不小于{minimum}的整数")
    if number > INT_MAX:
        raise RuleValueError(item.key, f"不得大于{INT_MAX}")
    return number


def _number(item: RuleEntry, text: str) -> str:
    number = _decimal_or_none(text)
    if number is None:
        raise RuleValueError(item.key, "应为数字（如 0.03 或 3000）")
    if number < 0:
        raise RuleValueError(item.key, "不得为负数")
    if item.kind == "rate":
        if number == 0 or number > 1:
            raise RuleValueError(item.key, "比率应大于0且不大于1（如 0.03 表示3%）")
        if -number.as_tuple().exponent > 6:  # type: ignore[operator]
            raise RuleValueError(item.key, "最多六位小数")
    else:
        if number > MONEY_MAX:
            raise RuleValueError(item.key, "金额过大")
        if -number.as_tuple().exponent > 2:  # type: ignore[operator]
            raise RuleValueError(item.key, "金额最多两位小数（分）")
    return format(number.normalize(), "f") if number == number.to_integral_value() else str(number)


def _template(item: RuleEntry, text: str) -> str:
    for needed in ("{n}", "{year}"):
        if needed not in text:
            raise RuleValueError(item.key, f"编号格式必须包含 {needed}")
    try:
        text.format(**TEMPLATE_FIELDS)
    except (KeyError, IndexError, ValueError) as exc:
        raise RuleValueError(item.key, f"编号格式只能使用 {{unit}} {{category}} {{year}} {{n}}（{exc}）") from None
    if len(text) > 100:
        raise RuleValueError(item.key, "不得超过100个字符")
    return text


def display(value: Any) -> str:
    """How a stored value reads on the page (TOML booleans in lower case)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)

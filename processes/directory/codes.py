"""Identifier checks: 统一社会信用代码 (GB 32100-2015) and 6-digit administrative region codes.

A credit code is 18 characters from a 31-character alphabet (no I, O, Z, S, V): registration
authority, entity type, the 6-digit region code, the 9-character organisation code and a check
character. The check is a weighted sum modulo 31 (weights 3^i mod 31), so any single mistyped
character and almost every swap of neighbours is caught.
"""

from __future__ import annotations

import re

CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
_REGION_RE = re.compile(r"^[1-9]\d{5}$")


def credit_check_char(first17: str) -> str:
    """The check character for the first 17 characters of a credit code."""
    total = sum(CREDIT_ALPHABET.index(ch) * w for ch, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def normalize_credit_code(code: str) -> str:
    return (code or "").strip().upper()


def credit_code_problem(code: str) -> str | None:
    """Why ``code`` is not a valid 统一社会信用代码 (in Chinese, for the form), or None when valid."""
    value = normalize_credit_code(code)
    if len(value) != 18:
        return "统一社会信用代码应为18位"
    if not _CREDIT_RE.match(value):
        return "统一社会信用代码含有不允许的字符（不使用I、O、Z、S、V），第3至8位应为行政区划代码"
    if credit_check_char(value[:17]) != value[17]:
        return "统一社会信用代码校验位不正确，请核对"
    return None


def is_valid_credit_code(code: str) -> bool:
    return credit_code_problem(code) is None


def make_credit_code(region_code: str, serial: str, kind: str = "91") -> str:
    """Build a valid credit code (demo data, tests): kind + region + 9-char serial + check."""
    body = f"{kind}{region_code}{serial}"
    if len(body) != 17:
        raise ValueError("kind (2) + region code (6) + serial (9) must make 17 characters")
    return body + credit_check_char(body)


def region_code_problem(code: str, level: str | None = None, parent_code: str | None = None) -> str | None:
    """Why ``code`` is not a plausible region code for a unit at ``level`` under ``parent_code``."""
    value = (code or "").strip()
    if not _REGION_RE.match(value):
        return "行政区划代码应为6位数字"
    if level == "province" and not value.endswith("0000"):
        return "省级行政区划代码应以0000结尾"
    if level == "city" and (value.endswith("0000") or not value.endswith("00")):
        return "市级行政区划代码应以00结尾（不以0000结尾）"
    if level == "county" and value.endswith("00"):
        return "县级行政区划代码不应以00结尾"
    if parent_code:
        prefix = parent_code[:2] if parent_code.endswith("0000") else parent_code[:4]
        if not value.startswith(prefix):
            return f"行政区划代码应属于上级单位的区划（以{prefix}开头）"
    return None

"""分期缴纳 (行政处罚法 Art. 66): the instalment plan a party applies for, as a form field and
as the checks that need the case.

Why a text field: officers type the plan from the party's written application, one instalment a
line (``2025-10-31 2000``); the JSON API may send the same as a list of ``{"due_on", "amount"}``.
The form alone checks what it can see (dates, positive amounts, dates in order); the case
checks (``plan_problems``) hold the plan against the fine in force and the limits of
``[execution]`` in ``rules.toml`` (how many instalments, how far past the original due date).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import ValidationError, fields

from .law import FEN, cn
from .rules import Rules

_LINE = re.compile(r"^\s*(\S+)\s*[,，\s]\s*(\S+?)\s*(?:元)?\s*$")


def _amount(value: object, where: str) -> Decimal:
    try:
        amount = Decimal(str(value).replace(",", ""))
    except InvalidOperation:
        raise ValidationError(f"{where}：金额“{value}”不是有效数字") from None
    if not amount.is_finite() or amount <= 0:
        raise ValidationError(f"{where}：金额应大于零")
    if amount != amount.quantize(FEN):
        raise ValidationError(f"{where}：金额最多精确到分")
    return amount


def _day(value: object, where: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationError(f"{where}：“{value}”不是有效日期（格式：2025-10-31）") from None


def _items(value: Any) -> list[tuple[object, object]]:
    if isinstance(value, str):
        lines = [line for line in value.splitlines() if line.strip()]
        pairs: list[tuple[object, object]] = []
        for number, line in enumerate(lines, start=1):
            match = _LINE.match(line)
            if match is None:
                raise ValidationError(f"第{number}期：请按“缴款日期 金额”填写一行，如“2025-10-31 2000”")
            pairs.append((match.group(1), match.group(2)))
        return pairs
    if isinstance(value, Sequence):
        pairs = []
        for number, item in enumerate(value, start=1):
            if not isinstance(item, Mapping) or "due_on" not in item or "amount" not in item:
                raise ValidationError(f"第{number}期：应包含缴款日期（due_on）和金额（amount）")
            pairs.append((item["due_on"], item["amount"]))
        return pairs
    raise ValidationError("分期计划应为每行“缴款日期 金额”的文字，或者分期列表")


class InstalmentPlan(fields.Field):
    """A list of instalments ``[{"due_on": date, "amount": Decimal}]``, at least two, dates rising."""

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
                     ) -> list[dict[str, Any]]:
        plan: list[dict[str, Any]] = []
        for number, (day, amount) in enumerate(_items(value), start=1):
            where = f"第{number}期"
            plan.append({"due_on": _day(day, where), "amount": _amount(amount, where)})
        if len(plan) < 2:
            raise ValidationError("分期缴纳至少分两期；一次缴纳的请申请延期缴纳")
        for number, (earlier, later) in enumerate(itertools.pairwise(plan), start=2):
            if later["due_on"] <= earlier["due_on"]:
                raise ValidationError(f"第{number}期的缴款日期应晚于第{number - 1}期")
        return plan

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return "\n".join(f"{item['due_on']} {item['amount']}" for item in value or ())


def instalment_plan(label: str) -> InstalmentPlan:
    help_text = "每行一期：缴款日期 金额（元），例如“2025-10-31 2000”；各期合计应等于罚款金额"
    return InstalmentPlan(load_default=None, allow_none=True,
                          metadata={"label": label, "widget": "textarea", "help": help_text})


def plan_problems(rules: Rules, plan: Sequence[Mapping[str, Any]], *, fine: Decimal, original_due: date,
                  applied_on: date) -> list[str]:
    """Why the plan cannot be accepted for this case (empty when it can), in Chinese.

    ``fine``: the fine in force; ``original_due``: the statutory payment date the span is
    counted from; ``applied_on``: the day of the application (no instalment may fall before it).
    """
    problems = []
    limit = rules.execution.max_instalments
    if len(plan) > limit:
        problems.append(f"最多分{limit}期缴纳，申请了{len(plan)}期")
    total = sum((Decimal(item["amount"]) for item in plan), Decimal(0))
    if fine <= 0:
        problems.append("本案没有罚款，无需分期缴纳")
    elif total != fine:
        problems.append(f"各期金额合计{total:,.2f}元，应等于罚款金额{fine:,.2f}元")
    if plan and plan[0]["due_on"] < applied_on:
        problems.append(f"第1期缴款日期不能早于申请日期{cn(applied_on)}")
    last_allowed = original_due + timedelta(days=rules.execution.max_instalment_span_days)
    if plan and plan[-1]["due_on"] > last_allowed:
        problems.append(f"最后一期不能晚于{cn(last_allowed)}（原缴款期限{cn(original_due)}后"
                        f"{rules.execution.max_instalment_span_days}日）")
    if plan and plan[-1]["due_on"] <= original_due:
        problems.append(f"分期缴纳的最后一期应晚于原缴款期限{cn(original_due)}，否则无需分期")
    return problems


def stored_plan(plan: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The plan as kept on the execution event (ISO dates, fen)."""
    return [{"due_on": item["due_on"].isoformat(), "amount_fen": int(Decimal(item["amount"]) / FEN)}
            for item in plan]


def plan_text(plan: Sequence[Mapping[str, Any]]) -> str:
    """第1期 2025年10月31日 2,000.00元；… (for notes, documents and the case page)."""
    parts = []
    for number, item in enumerate(plan, start=1):
        day = item["due_on"] if isinstance(item["due_on"], date) else date.fromisoformat(str(item["due_on"]))
        amount = Decimal(item["amount"]) if "amount" in item else Decimal(int(item["amount_fen"])) * FEN
        parts.append(f"第{number}期 {cn(day)} {amount:,.2f}元")
    return "；".join(parts)

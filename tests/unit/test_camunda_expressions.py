"""JUEL and FEEL converted to Python: the same answers on the same data, refusals with a reason,
and bounded work on hostile input."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from engine.feel import (
    expression_to_python,
    input_expression_to_python,
    output_literal_to_python,
    unary_tests_to_python,
)
from engine.juel import NotConvertible, convert_expression
from engine.sandbox import check_script, parse_date


def _eval(python: str, **data: Any) -> Any:
    check_script(python, "eval")  # what the engine would refuse, the test refuses too
    return eval(  # the test oracle: plain Python on the converted expression
        python, {"__builtins__": {}, "parse_date": parse_date}, data)


DATA = {"amount": 1500, "approved": False, "a": "x", "b": 2, "name": "", "items": [], "applicant": {"age": 17}}


@pytest.mark.parametrize(("juel", "expected"), [
    ("${amount > 1000}", True),
    ("${amount gt 1000 and amount le 1500}", True),
    ("${approved}", False),
    ("${!approved}", True),
    ("${not approved}", True),
    ("${a == 'x' && b >= 2}", True),
    ('${a eq "y" || b ne 2}', False),
    ("${a || b}", "x"),  # JUEL coerces to boolean; a truthy value takes the flow either way
    ("${empty name}", True),
    ("${empty items && !empty a}", True),
    ("${applicant.age lt 18}", True),
    ("${applicant['age'] + 1 == 18}", True),
    ("${amount / 2 == 750}", True),
    ("${amount mod 7 == 2}", True),
    ("${!approved == true}", True),  # ! binds tighter than ==, as in JUEL
    ("${null == null}", True),
    ("#{b * -1 < 0}", True),
])
def test_juel_conditions_give_camundas_answer(juel: str, expected: Any) -> None:
    assert _eval(convert_expression(juel), **DATA) == expected


@pytest.mark.parametrize(("juel", "reason"), [
    ('${execution.getVariable("amount") > 5}', "Camunda engine object"),
    ("${myBean.check()}", "method call"),
    ("${approved ? 'yes' : 'no'}", "ternary"),
    ("${fn:contains(a, 'x')}", "function call"),
    ("${dateTime().plusDays(5)}", "function call"),
    ("${authenticatedUserId == 'x'}", "Camunda engine object"),
    ("${a instanceof String}", "instanceof"),
    ("amount > 1000", "mixed"),
    ("${a}${b}", "mixed"),
    ("${a} and ${b}", "mixed"),
    ("${import}", "cannot be a variable"),
    ("${__class__}", "cannot be a variable"),
    ("${a ~ b}", "unexpected character"),
    ("${(a}", "expected ')'"),
])
def test_juel_beyond_the_subset_is_refused_with_its_reason(juel: str, reason: str) -> None:
    with pytest.raises(NotConvertible, match=re.escape(reason)):
        convert_expression(juel)


@pytest.mark.parametrize("hostile", [
    "${" + "(" * 5000 + "a" + ")" * 5000 + "}",
    "${" + "!" * 1900 + "a}",
    "${" + "a." * 1500 + "b}",
    "${" + "[" * 1500 + "}",
])
def test_hostile_expressions_are_refused_quickly(hostile: str) -> None:
    began = time.monotonic()
    with pytest.raises(NotConvertible):
        convert_expression(hostile)
    with pytest.raises(NotConvertible):
        expression_to_python(hostile[2:-1])
    with pytest.raises(NotConvertible):
        unary_tests_to_python(hostile[2:-1])
    assert time.monotonic() - began < 1


# FEEL semantics: [a..b] includes both ends, (a..b] and ]a..b] exclude a, [a..b) and [a..b[ exclude b;
# a comparison or a range never matches null; a value list matches any of its values.
UNARY_CASES = [
    ("[250..1000]", [(249.99, False), (250, True), (1000, True), (1000.01, False), (None, False)]),
    ("(250..1000]", [(250, False), (250.01, True), (1000, True), (1000.5, False)]),
    ("]250..1000]", [(250, False), (251, True)]),
    ("[250..1000)", [(250, True), (999.99, True), (1000, False)]),
    ("[250..1000[", [(1000, False), (999, True)]),
    ("< 1000", [(999, True), (1000, False), (None, False)]),
    ("<= 1000", [(1000, True), (1000.01, False)]),
    ("> 5", [(5, False), (6, True)]),
    (">= 5", [(4.99, False), (5, True), (None, False)]),
    ("-5", [(-5, True), (5, False)]),
    ("[-10..-1]", [(-10, True), (0, False)]),
    ('"approver"', [("approver", True), ("Approver", False), (None, False)]),
    ('"a","b"', [("a", True), ("b", True), ("c", False)]),
    ('not("x")', [("x", False), ("y", True), (None, True)]),
    ('not("x", "y")', [("x", False), ("y", False), ("z", True)]),
    ("not(< 5)", [(4, False), (5, True), (None, False)]),
    ('"a", < 5', [("a", True), (3, True)]),
    ("true", [(True, True), (False, False), (1, False)]),
    ("false", [(False, True), (True, False), (0, False)]),
    ("42", [(42, True), (42.0, True), (41, False)]),
    ("null", [(None, True), (0, False)]),
    ('date("2025-01-01")', [("2025-01-01", True), ("2025-01-02", False)]),
    ('[date("2025-01-01")..date("2025-12-31")]', [("2024-12-31", False),
                                               ("2025-01-01", True), ("2025-12-31", True), ("2026-01-01", False)]),
    ("< limit", [(4, True), (6, False)]),
]


@pytest.mark.parametrize(("feel", "cases"), UNARY_CASES)
def test_unary_tests_match_what_feel_matches(feel: str, cases: list[tuple[Any, bool]]) -> None:
    python = unary_tests_to_python(feel)
    source = re.sub(r"\?", "dmninputexpr", python)
    for value, matches in cases:
        assert _eval(source, dmninputexpr=value, limit=5) is matches, (feel, python, value)


@pytest.mark.parametrize("feel", ["-", "", None, "  "])
def test_empty_and_dash_match_anything(feel: str | None) -> None:
    assert unary_tests_to_python(feel) == "-"


@pytest.mark.parametrize(("feel", "reason"), [
    ('contains(?, "a")', "'?' expressions"),
    ("count(items) > 1", "FEEL function"),
    ("{a: 1}", "unexpected character"),
    ("[1, 2, 3]", "'..'"),
    ('date("tomorrow")', "not an ISO date"),
    ("< true", "cannot bound"),
    ("x + 1", "unexpected '+'"),
    ('"it\\"s"', "quotes"),
    ("[1..2", "a range ends"),
])
def test_unary_tests_beyond_the_simple_ones_are_refused(feel: str, reason: str) -> None:
    with pytest.raises(NotConvertible, match=re.escape(reason)):
        unary_tests_to_python(feel)


def test_output_and_input_cells() -> None:
    assert [output_literal_to_python(s) for s in ('"officer"', "5", "-2.5", "true", "false", "null", "")] == \
        ["'officer'", "5", "-2.5", "True", "False", "None", ""]
    # output cells are never searched for '?': any text survives, escapes as FEEL reads them
    for feel, text in (('"you\'re not"', "you're not"), ('"say \\"hi\\""', 'say "hi"'), ('"a\\\\b"', "a\\b"),
                       ('"what?"', "what?")):
        assert eval(output_literal_to_python(feel)) == text
    with pytest.raises(NotConvertible, match="unknown escape"):
        output_literal_to_python('"bad \\q escape"')
    for bad in ("{a: 1}", "amount * 2", 'concat("a")', "[1, 2]"):
        with pytest.raises(NotConvertible, match="only literal outputs"):
            output_literal_to_python(bad)
    assert input_expression_to_python("amount") == "amount"
    assert input_expression_to_python(" applicant.age ") == "applicant['age']"
    for bad in ("amount * 2", "sum(items)", "true", ""):
        with pytest.raises(NotConvertible):
            input_expression_to_python(bad)


@pytest.mark.parametrize(("feel", "expected"), [
    ("amount > 1000", True),
    ('a = "x" and b >= 2', True),
    ("approved or b = 3", False),
    ("not(approved)", True),
    ("applicant.age * 2 - 1 < 40", True),
    ("missing = null", True),
    ("-b < 0", True),
])
def test_feel_expressions_of_camunda_8_give_the_same_answer(feel: str, expected: Any) -> None:
    assert _eval(expression_to_python(feel), missing=None, **DATA) == expected


@pytest.mark.parametrize("feel", ["if a then b else c", "a between 1 and 2", "some x in items satisfies x > 1",
                                  "upper case(a)", "a in [1, 2]"])
def test_feel_expressions_beyond_the_subset_are_refused(feel: str) -> None:
    with pytest.raises(NotConvertible):
        expression_to_python(feel)

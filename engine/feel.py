"""FEEL simple unary tests and literals (Camunda DMN tables) to what SpiffWorkflow's DMN engine runs.

SpiffWorkflow evaluates an input entry as a Python expression in which ``?`` stands for the
input's value. Camunda writes FEEL "simple unary tests": ``[250..1000]``, ``(250..1000]``,
``< 1000``, ``"a","b"``, ``not("x")``, ``-``. Each converts to an explicit ``?`` expression with
the meaning FEEL gives it, including for a missing (null) input, which FEEL never matches with a
comparison or a range (Python would raise): ``[250..1000]`` becomes
``(? is not None and 250 <= ? <= 1000)``.

Anything else (function calls other than ``date("...")``, contexts, lists, arithmetic, names with
spaces, ``?`` expressions) raises ``NotConvertible``. Like ``engine.juel`` this is a small
recursive-descent converter bounded in input length; FEEL has no maintained Python parser small
enough to take on for this subset.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from .juel import MAX_DEPTH, MAX_EXPRESSION_CHARS, NotConvertible

_TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>\d+(?:\.\d+)?)
  | (?P<str>"(?:[^"\\]|\\.)*")
  | (?P<range>\.\.)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<op><=|>=|!=|[<>=()\[\],\-+*/])
""", re.VERBOSE)
_COMPARE = {"<", "<=", ">", ">="}
_LITERALS = {"true": "True", "false": "False", "null": "None"}


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str


@dataclass(frozen=True)
class _Endpoint:
    python: str
    is_date: bool = False


def _tokenize(source: str) -> list[_Tok]:
    if len(source) > MAX_EXPRESSION_CHARS:
        raise NotConvertible(f"entry longer than {MAX_EXPRESSION_CHARS} characters")
    tokens: list[_Tok] = []
    pos = 0
    while pos < len(source):
        match = _TOKEN_RE.match(source, pos)
        if match is None:
            raise NotConvertible(f"unexpected character {source[pos]!r}")
        pos = match.end()
        if match.lastgroup != "ws":
            tokens.append(_Tok(match.lastgroup or "", match.group()))
    tokens.append(_Tok("end", ""))
    return tokens


_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "'": "'"}


def _string(token_text: str, in_test: bool = True) -> str:
    """A FEEL string as a Python literal. In an input entry SpiffWorkflow finds ``?`` by counting
    quotes, so quotes and backslashes inside a test's string are refused rather than misread."""
    body = token_text[1:-1]
    if in_test:
        if "\\" in body or "'" in body or '"' in body:
            raise NotConvertible("strings with quotes or backslashes are not converted in input entries")
        return repr(body)
    try:
        text = re.sub(r"\\(.)", lambda m: _ESCAPES[m.group(1)], body)
    except KeyError as exc:
        raise NotConvertible(f"unknown escape in {token_text}") from exc
    return repr(text)


def _name(text: str) -> str:
    parts = text.split(".")
    for part in parts:
        if keyword.iskeyword(part) or part.startswith("_"):
            raise NotConvertible(f"'{part}' cannot be a name in Weijian")
    return parts[0] + "".join(f"[{p!r}]" for p in parts[1:])


class _UnaryTests:
    """positive tests separated by commas, or ``not( ... )`` around them."""

    def __init__(self, source: str) -> None:
        self.tokens = _tokenize(source)
        self.pos = 0

    def peek(self, ahead: int = 0) -> _Tok:
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def take(self) -> _Tok:
        token = self.tokens[self.pos]
        self.pos = min(self.pos + 1, len(self.tokens) - 1)
        return token

    def expect(self, text: str) -> None:
        token = self.take()
        if token.text != text:
            raise NotConvertible(f"expected {text!r}, found {token.text or 'the end'!r}")

    def parse(self) -> str:
        if self.peek().kind == "name" and self.peek().text == "not" and self.peek(1).text == "(":
            self.take()
            self.take()
            tests, compares = self.positive_tests()
            self.expect(")")
            self.end()
            inner = "(" + " or ".join(tests) + ")"
            # FEEL: not(< 5) of null is null (no match); not("x") of null is true
            return f"(? is not None and not {inner})" if compares else f"(not {inner})"
        tests, _compares = self.positive_tests()
        self.end()
        return tests[0] if len(tests) == 1 else "(" + " or ".join(tests) + ")"

    def end(self) -> None:
        if self.peek().kind != "end":
            raise NotConvertible(f"unexpected {self.peek().text!r}")

    def positive_tests(self) -> tuple[list[str], bool]:
        tests: list[str] = []
        equals: list[str] = []
        compares = False
        while True:
            test, is_compare, equal_to = self.positive_test()
            compares = compares or is_compare
            if equal_to is not None:
                equals.append(equal_to)
            else:
                tests.append(test)
            if self.peek().text != ",":
                break
            self.take()
            if len(tests) + len(equals) > 200:
                raise NotConvertible("more than 200 tests in one entry")
        if len(equals) > 1 and not any(e in ("True", "False", "None") for e in equals):
            tests.insert(0, f"? in ({', '.join(equals)})")
        else:
            tests[:0] = [self.equality(e) for e in equals]
        return tests, compares

    @staticmethod
    def equality(literal: str) -> str:
        if literal in ("True", "False", "None"):
            return f"? is {literal}"
        return f"? == {literal}"

    def positive_test(self) -> tuple[str, bool, str | None]:
        token = self.peek()
        if token.text in _COMPARE:
            self.take()
            end = self.endpoint()
            subject = "parse_date(?)" if end.is_date else "?"
            return f"(? is not None and {subject} {token.text} {end.python})", True, None
        if token.text in ("[", "(", "]"):
            return self.interval(), True, None
        end = self.endpoint(allow_literal=True)
        if end.is_date:
            return f"(? is not None and parse_date(?) == {end.python})", True, None
        return "", False, end.python

    def interval(self) -> str:
        opening = self.take().text
        low = self.endpoint()
        if self.take().kind != "range":
            raise NotConvertible("expected '..' in a range")
        high = self.endpoint()
        closing = self.take().text
        if closing not in ("]", ")", "["):
            raise NotConvertible(f"a range ends with ']', ')' or '[', found {closing or 'the end'!r}")
        low_op = "<=" if opening == "[" else "<"
        high_op = "<=" if closing == "]" else "<"
        subject = "parse_date(?)" if low.is_date or high.is_date else "?"
        return f"(? is not None and {low.python} {low_op} {subject} {high_op} {high.python})"

    def endpoint(self, allow_literal: bool = False) -> _Endpoint:
        token = self.take()
        if token.text == "-" and self.peek().kind == "num":
            return _Endpoint("-" + self.take().text)
        if token.kind == "num":
            return _Endpoint(token.text)
        if token.kind == "str":
            return _Endpoint(_string(token.text))
        if token.kind == "name" and token.text == "date" and self.peek().text == "(":
            self.take()
            literal = self.take()
            self.expect(")")
            if literal.kind != "str":
                raise NotConvertible("date(...) takes an ISO date string")
            try:
                day = date.fromisoformat(literal.text[1:-1])
            except ValueError as exc:
                raise NotConvertible(f"date({literal.text}) is not an ISO date") from exc
            return _Endpoint(f"parse_date({day.isoformat()!r})", is_date=True)
        if token.kind == "name" and token.text in _LITERALS:
            if not allow_literal:
                raise NotConvertible(f"'{token.text}' cannot bound a comparison")
            return _Endpoint(_LITERALS[token.text])
        if token.kind == "name" and self.peek().text != "(":
            return _Endpoint(_name(token.text))
        if token.kind == "name":
            raise NotConvertible(f"FEEL function '{token.text}(...)' is not converted")
        raise NotConvertible(f"unexpected {token.text or 'end of entry'!r}")


def unary_tests_to_python(source: str | None) -> str:
    """The input entry SpiffWorkflow evaluates for a FEEL simple unary test ('-' matches anything)."""
    text = (source or "").strip()
    if text in ("", "-"):
        return "-"
    if "?" in text:
        raise NotConvertible("'?' expressions are not simple unary tests")
    return _UnaryTests(text).parse()


def output_literal_to_python(source: str | None) -> str:
    """An output entry: a FEEL string, number, boolean or null literal, as a Python literal."""
    text = (source or "").strip()
    if not text:
        return ""
    literal_only = "only literal outputs (strings, numbers, true, false, null) are converted"
    try:
        tokens = _tokenize(text)
    except NotConvertible as exc:
        raise NotConvertible(literal_only) from exc
    if tokens[0].text == "-" and len(tokens) == 3 and tokens[1].kind == "num":
        return "-" + tokens[1].text
    if len(tokens) != 2:
        raise NotConvertible(literal_only)
    token = tokens[0]
    if token.kind == "num":
        return token.text
    if token.kind == "str":
        return _string(token.text, in_test=False)
    if token.kind == "name" and token.text in _LITERALS:
        return _LITERALS[token.text]
    raise NotConvertible(literal_only)


def input_expression_to_python(source: str | None) -> str:
    """An input expression: a variable or a path into one (``a.b`` is ``a['b']``)."""
    text = (source or "").strip()
    tokens = _tokenize(text) if text else []
    if len(tokens) != 2 or tokens[0].kind != "name" or tokens[0].text in _LITERALS:
        raise NotConvertible("only a variable name or a path (a.b) is converted as an input expression")
    return _name(tokens[0].text)


class _Expression:
    """A FEEL expression (Camunda 8 conditions, assignees, timers after their leading ``=``):
    ``or``/``and``, comparisons (``=`` is equality), arithmetic, ``not(...)``, literals, names."""

    _COMPARISONS: ClassVar[dict[str, str]] = {"=": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}

    def __init__(self, source: str) -> None:
        self.tokens = _tokenize(source)
        self.pos = 0
        self.depth = 0

    def peek(self) -> _Tok:
        return self.tokens[self.pos]

    def take(self) -> _Tok:
        token = self.tokens[self.pos]
        self.pos = min(self.pos + 1, len(self.tokens) - 1)
        return token

    def parse(self) -> str:
        result = self.disjunction()
        if self.peek().kind != "end":
            raise NotConvertible(f"unexpected {self.peek().text!r}")
        return result

    def _deeper(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise NotConvertible(f"nested deeper than {MAX_DEPTH} levels")

    def _word(self, word: str) -> bool:
        return self.peek().kind == "name" and self.peek().text == word

    def disjunction(self) -> str:
        left = self.conjunction()
        while self._word("or"):
            self.take()
            left = f"({left} or {self.conjunction()})"
        return left

    def conjunction(self) -> str:
        left = self.comparison()
        while self._word("and"):
            self.take()
            left = f"({left} and {self.comparison()})"
        return left

    def comparison(self) -> str:
        left = self.additive()
        if self.peek().text in self._COMPARISONS:
            op = self._COMPARISONS[self.take().text]
            right = self.additive()
            if "None" in (left, right) and op in ("==", "!="):
                op = "is" if op == "==" else "is not"
            return f"({left} {op} {right})"
        return left

    def additive(self) -> str:
        left = self.multiplicative()
        while self.peek().text in ("+", "-"):
            op = self.take().text
            left = f"({left} {op} {self.multiplicative()})"
        return left

    def multiplicative(self) -> str:
        left = self.unary()
        while self.peek().text in ("*", "/"):
            op = self.take().text
            left = f"({left} {op} {self.unary()})"
        return left

    def unary(self) -> str:
        if self.peek().text == "-":
            self.take()
            self._deeper()
            operand = self.unary()
            self.depth -= 1
            return f"(-{operand})"
        return self.primary()

    def primary(self) -> str:
        token = self.take()
        if token.kind == "num":
            return token.text
        if token.kind == "str":
            return _string(token.text, in_test=False)
        if token.text == "(" or (token.kind == "name" and token.text == "not" and self.peek().text == "("):
            negate = token.text == "not"
            if negate:
                self.take()
            self._deeper()
            inner = self.disjunction()
            if self.take().text != ")":
                raise NotConvertible("expected ')'")
            self.depth -= 1
            return f"(not {inner})" if negate else inner
        if token.kind == "name" and token.text in _LITERALS:
            return _LITERALS[token.text]
        if token.kind == "name" and token.text not in ("and", "or", "not", "if", "for", "some", "every"):
            if self.peek().text == "(":
                raise NotConvertible(f"FEEL function '{token.text}(...)' is not converted")
            return _name(token.text)
        raise NotConvertible(f"unexpected {token.text or 'end of expression'!r}")


def expression_to_python(source: str) -> str:
    """A FEEL expression (without its leading ``=``) as a Python expression."""
    if not source.strip():
        raise NotConvertible("empty expression")
    return _Expression(source).parse()

"""JUEL (Camunda 7's expression language) to the Python expressions Weijian's sandbox runs.

Camunda Platform 7 writes conditions, assignees and due dates as ``${...}`` JUEL expressions.
Only the part that means the same in Python is converted: variables, property paths on maps
(``a.b`` becomes ``a['b']``), literals, ``== != < > <= >=`` and their word forms, ``&& || !``,
``and or not``, ``empty`` and arithmetic. Everything else (method calls such as
``execution.getVariable('x')`` or ``${myBean.check()}``, functions, ternaries, ``instanceof``,
Camunda's built-in objects) raises ``NotConvertible`` with the reason: a person must rewrite it.

Why a hand-written converter and not a library: no maintained JUEL parser exists for Python, and
the subset is small. It is a recursive-descent parser bounded in input length and nesting depth,
so nothing an administrator uploads can make it run long or overflow the stack. Binary operations
are emitted fully parenthesised, so JUEL's precedence survives (``!a == b`` is ``(not a) == b``)
and Python's comparison chaining never applies.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from typing import ClassVar

MAX_EXPRESSION_CHARS = 2000
MAX_DEPTH = 40


class NotConvertible(ValueError):
    """The expression has no Weijian equivalent; ``str(exc)`` says why, for the administrator."""


@dataclass(frozen=True)
class Token:
    kind: str  # "num", "str", "name", "op", "end"
    text: str
    value: object = None


_WORD_OPS = {"and": "and", "or": "or", "not": "not", "eq": "==", "ne": "!=", "lt": "<", "gt": ">",
             "le": "<=", "ge": ">=", "div": "/", "mod": "%", "empty": "empty", "instanceof": "instanceof"}
_LITERALS = {"true": "True", "false": "False", "null": "None"}
_CAMUNDA_OBJECTS = {"execution", "task", "externalTask", "variableScope", "authenticatedUserId", "connector",
                    "environment", "camunda", "dateTime", "now", "nrOfInstances", "nrOfActiveInstances",
                    "nrOfCompletedInstances", "loopCounter"}
_TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>\d+\.\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\d+(?:[eE][+-]?\d+)?)
  | (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<name>[A-Za-z_$][A-Za-z0-9_$]*)
  | (?P<op>==|!=|<=|>=|&&|\|\||[<>!+\-*/%.\[\]()?:,])
""", re.VERBOSE)


def _unescape(quoted: str) -> str:
    body = quoted[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


def tokenize(source: str) -> list[Token]:
    if len(source) > MAX_EXPRESSION_CHARS:
        raise NotConvertible(f"expression longer than {MAX_EXPRESSION_CHARS} characters")
    tokens: list[Token] = []
    pos = 0
    while pos < len(source):
        match = _TOKEN_RE.match(source, pos)
        if match is None:
            raise NotConvertible(f"unexpected character {source[pos]!r}")
        pos = match.end()
        kind = match.lastgroup or ""
        text = match.group()
        if kind == "ws":
            continue
        if kind == "str":
            tokens.append(Token("str", text, _unescape(text)))
        elif kind == "num":
            tokens.append(Token("num", text, float(text) if any(c in text for c in ".eE") else int(text)))
        elif kind == "name" and text in _WORD_OPS:
            tokens.append(Token("op", _WORD_OPS[text]))
        else:
            tokens.append(Token(kind, text))
    tokens.append(Token("end", ""))
    return tokens


class _Parser:
    """Recursive descent over JUEL's grammar, lowest precedence first; returns Python source."""

    def __init__(self, source: str) -> None:
        self.tokens = tokenize(source)
        self.pos = 0
        self.depth = 0

    def peek(self) -> Token:
        return self.tokens[self.pos]

    def take(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def expect(self, text: str) -> None:
        token = self.take()
        if token.text != text:
            raise NotConvertible(f"expected {text!r}, found {token.text or 'the end'!r}")

    def parse(self) -> str:
        result = self.expression()
        if self.peek().kind != "end":
            raise NotConvertible(f"unexpected {self.peek().text!r}")
        return result

    def expression(self) -> str:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise NotConvertible(f"nested deeper than {MAX_DEPTH} levels")
        result = self.binary(0)
        if self.peek().text == "?":
            raise NotConvertible("a ternary (a ? b : c) has no direct equivalent; rewrite it as a condition")
        self.depth -= 1
        return result

    _LEVELS: tuple[tuple[str, ...], ...] = (("||", "or"), ("&&", "and"), ("==", "!="), ("<", ">", "<=", ">="),
                                            ("+", "-"), ("*", "/", "%"))
    _PYTHON_OP: ClassVar[dict[str, str]] = {"||": "or", "&&": "and"}

    def binary(self, level: int) -> str:
        if level == len(self._LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek().kind == "op" and self.peek().text in self._LEVELS[level]:
            op = self.take().text
            right = self.binary(level + 1)
            left = f"({left} {self._PYTHON_OP.get(op, op)} {right})"
        if self.peek().text == "instanceof":
            raise NotConvertible("'instanceof' tests Java types; Weijian data has none")
        return left

    def unary(self) -> str:
        token = self.peek()
        if token.kind == "op" and token.text in ("!", "not", "-", "empty"):
            self.take()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise NotConvertible(f"nested deeper than {MAX_DEPTH} levels")
            operand = self.unary()
            self.depth -= 1
            if token.text == "-":
                return f"(-{operand})"
            if token.text == "empty":
                return f"({operand} in (None, '', [], {{}}))"
            return f"(not {operand})"
        return self.value()

    def value(self) -> str:
        result = self.primary()
        while self.peek().text in (".", "["):
            if self.take().text == ".":
                name = self.take()
                if name.kind != "name":
                    raise NotConvertible(f"expected a property name after '.', found {name.text!r}")
                if self.peek().text == "(":
                    raise NotConvertible(f"method call '{name.text}(...)' cannot run in Weijian")
                result = f"{result}[{name.text!r}]"
            else:
                index = self.expression()
                self.expect("]")
                result = f"{result}[{index}]"
        return result

    def primary(self) -> str:
        token = self.take()
        if token.kind == "num":
            return repr(token.value)
        if token.kind == "str":
            return repr(token.value)
        if token.text == "(":
            inner = self.expression()
            self.expect(")")
            return inner
        if token.kind == "name":
            return self.name(token.text)
        raise NotConvertible(f"unexpected {token.text or 'end of expression'!r}")

    def name(self, name: str) -> str:
        if name in _LITERALS:
            return _LITERALS[name]
        if self.peek().text == "(" or self.peek().text == ":":
            raise NotConvertible(f"function call '{name}(...)' cannot run in Weijian")
        if name in _CAMUNDA_OBJECTS:
            raise NotConvertible(f"'{name}' is a Camunda engine object; Weijian has no equivalent")
        if keyword.iskeyword(name) or "$" in name or name.startswith("_"):
            raise NotConvertible(f"'{name}' cannot be a variable name in Weijian")
        return name


def juel_to_python(source: str) -> str:
    """The Python expression of a JUEL expression body (without ``${ }``)."""
    if not source.strip():
        raise NotConvertible("empty expression")
    return _Parser(source).parse()


_WRAPPED = re.compile(r"^\s*[$#]\{(?P<body>.*)\}\s*$", re.DOTALL)


def is_expression(text: str) -> bool:
    """Whether a Camunda attribute value holds a JUEL expression (``${...}`` or ``#{...}``)."""
    return "${" in text or "#{" in text


def expression_body(text: str) -> str:
    """The body of a value that is exactly one ``${...}``; mixed text and expressions are refused."""
    match = _WRAPPED.match(text)
    if match is None or is_expression(match.group("body")) or "}" in _strip_strings(match.group("body")):
        raise NotConvertible("text mixed with ${...} expressions cannot be converted; use one expression")
    return match.group("body")


def _strip_strings(source: str) -> str:
    return re.sub(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"", "''", source)


def convert_expression(text: str) -> str:
    """The Python expression of a ``${...}`` value."""
    return juel_to_python(expression_body(text))

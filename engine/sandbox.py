"""The script sandbox: every BPMN script and condition runs as RestrictedPython, never plain exec.

SpiffWorkflow's ``PythonScriptEngine`` hands scripts to ``exec``/``eval``, so admin-edited BPMN
would run with the worker's full power. Here every script task, pre/post script, gateway
condition, timer, data-object and correlation expression is compiled by RestrictedPython under a
policy that also refuses ``import``, ``class`` and ``print``, and runs with:

* builtins: ``safe_builtins`` minus ``setattr``/``delattr``/class building/process-ending
  exceptions, plus a whitelist (``len``, ``sorted``, ``list``, ...). No ``__import__``, ``open``,
  ``eval``, ``exec``, ``compile``, ``getattr``, ``type``, ``vars``, ``globals``;
* guards: attribute reads through ``safer_getattr`` (no ``_`` names, no frame internals, no
  ``str.format``), no ``mro``, no wall-clock ``datetime.now``/``date.today`` (the ``now()`` and
  ``today()`` helpers follow the engine clock); writes only into dicts and lists (task data);
* helpers: Art. 85 deadlines on the working-day calendar, the clock in China time, money, dates.

Refusals raise ``ScriptRefused`` (a ``WorkflowTaskException`` with script, reason, line and, once
known, the task). Runtime errors (``KeyError``...) take SpiffWorkflow's usual path.

JSON: task data is stored as JSON, so helpers whose results get stored return JSON types:
deadlines are ISO strings (``'2025-10-14'`` for a date start, an aware ISO datetime in China time
for a datetime start), ``workdays_between`` an int, ``yuan`` a float. ``today()``, ``now()``,
``parse_date()``, ``date``, ``Decimal``... are objects to compute with; a script that leaves one
in task data fails at that script, naming the variable, not later when the instance is saved.

RestrictedPython refuses ``d['n'] += 1``; write ``d['n'] = d['n'] + 1`` (``n += 1`` is fine).
Cost is bounded too (steps, time, depth, sizes of results): see ``engine.sandbox_limits``.
"""

from __future__ import annotations

import ast
import functools
import math
import operator
import re
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from types import CodeType, TracebackType
from typing import Any, Literal

from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safe_builtins,
    safer_getattr_raise,
)
from RestrictedPython.transformer import INSPECT_ATTRIBUTES
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment

from .calendar import CHINA_TZ, Deadline, WorkCalendar, default_calendar
from .sandbox_errors import SandboxError, ScriptLimitExceeded, ScriptRefused
from .sandbox_limits import (
    HELPERS,
    SCRIPT_FILENAME,
    BoundedOperators,
    check_source_size,
    guard_method,
    guarded_inplace,
    guarded_pow,
    limited_range,
    run_bounded,
    too_deep,
)

__all__ = ["SCRIPT_FILENAME", "SandboxError", "ScriptLimitExceeded", "ScriptRefused", "check_script"]

Mode = Literal["exec", "eval"]


# -- compiling ----------------------------------------------------------------------------------

FORBIDDEN_NAMES = frozenset({
    "open", "eval", "exec", "compile", "getattr", "setattr", "delattr", "hasattr", "type", "vars",
    "globals", "locals", "dir", "breakpoint", "input", "help", "memoryview", "super", "object",
    "classmethod", "staticmethod", "property", "exit", "quit", "copyright", "credits", "license",
    "BaseException", "SystemExit", "KeyboardInterrupt", "GeneratorExit",
})
"""Refused when read but bound neither by the script nor by task data (data may well have a
``type`` or ``object`` field; then the name is the data's, not a builtin)."""


class _Policy(BoundedOperators):
    """RestrictedPython's policy, minus imports, classes and ``print`` (nothing reads output),
    with ``**``, ``*``, ``<<`` guarded (``engine.sandbox_limits``)."""

    # ast.NodeVisitor dispatches on these exact names (N802/N815).
    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> ast.AST:  # noqa: N802
        self.error(node, "import statements are not allowed; the helpers scripts may use are in scope.")
        return node

    visit_ImportFrom = visit_Import  # noqa: N815

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:  # noqa: N802
        self.error(node, "class definitions are not allowed in scripts.")
        return node

    def visit_Name(self, node: ast.Name) -> Any:  # noqa: N802
        if node.id == "print":
            self.error(node, "print is not available: scripts have no output; store values in task data.")
            return node
        return super().visit_Name(node)


@dataclass(frozen=True)
class _Compiled:
    code: CodeType
    free_forbidden: tuple[tuple[str, int], ...]  # (name, first line) read but never bound


def check_script(source: str, mode: Mode = "exec") -> None:
    """Raise ``ScriptRefused`` if the sandbox would refuse ``source``: for deployment checks."""
    _compile(source, mode)


@functools.lru_cache(maxsize=4096)
def _compile(source: str, mode: Mode) -> _Compiled:
    # Cached by source: the same gateway condition is evaluated on every instance.
    compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    check_source_size(source, mode)
    try:
        result = compiler(source, filename=SCRIPT_FILENAME, policy=_Policy)
        tree = ast.parse(source, mode=mode)
    except (RecursionError, MemoryError):
        raise too_deep() from None
    except SyntaxError as exc:  # what only the final compile() sees: 'return' outside function...
        raise ScriptRefused(f"SyntaxError: {exc.msg}", source, exc.lineno) from None
    if result.errors or result.code is None:
        reason = " ".join(result.errors) or "does not compile"
        match = re.match(r"Line (\d+):", reason)
        raise ScriptRefused(reason, source, int(match.group(1)) if match else None)
    return _Compiled(result.code, _free_forbidden(tree))


_BINDERS = (ast.FunctionDef, ast.ExceptHandler)


def _free_forbidden(tree: ast.AST) -> tuple[tuple[str, int], ...]:
    read: dict[str, int] = {}
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                if node.id in FORBIDDEN_NAMES:
                    read.setdefault(node.id, node.lineno)
            else:
                bound.add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, _BINDERS) and node.name:
            bound.add(node.name)
    return tuple(sorted(((n, line) for n, line in read.items() if n not in bound), key=lambda x: x[1]))


# -- guards -------------------------------------------------------------------------------------

_DENIED_ATTRIBUTES = frozenset({"mro", "format", "format_map"})
_CLOCK_ATTRIBUTES = frozenset({"now", "today", "utcnow"})


def _guarded_getattr(obj: object, name: str) -> Any:
    """``_getattr_``: RestrictedPython's ``safer_getattr`` with refusals as typed errors."""
    if name.startswith("_") or name in INSPECT_ATTRIBUTES or name in _DENIED_ATTRIBUTES:
        raise ScriptRefused(f'attribute "{name}" is not accessible from scripts.')
    if name in _CLOCK_ATTRIBUTES and (isinstance(obj, date) or obj in (date, datetime)):
        raise ScriptRefused(f'"{name}" reads the wall clock; use the now() and today() helpers.')
    try:
        return guard_method(obj, name, safer_getattr_raise(obj, name))
    except NotImplementedError as exc:
        raise ScriptRefused(str(exc)) from None


_INPLACE: dict[str, Callable[[Any, Any], Any]] = {op + "=": getattr(operator, "i" + name) for op, name in (
    ("+", "add"), ("-", "sub"), ("*", "mul"), ("/", "truediv"), ("//", "floordiv"), ("%", "mod"),
    ("**", "pow"), ("<<", "lshift"), (">>", "rshift"), ("&", "and"), ("|", "or"), ("^", "xor"),
    ("@", "matmul"))}


def _inplacevar(op: str, target: Any, value: Any) -> Any:
    return (guarded_inplace(op) or _INPLACE[op])(target, value)


def _apply(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:  # f(*args, **kw) calls
    return func(*args, **kwargs)


_REMOVED_BUILTINS = {"setattr", "delattr", "_getattr_", "__build_class__", "BaseException", "SystemExit",
                     "KeyboardInterrupt", "GeneratorExit"}
_EXTRA_BUILTINS: dict[str, Any] = {f.__name__: f for f in (
    len, min, max, sum, sorted, any, all, abs, round, range, enumerate, zip, list, dict, set, tuple,
    str, int, float, bool, isinstance)}
_EXTRA_BUILTINS.update(range=limited_range, pow=guarded_pow)
_BUILTINS: dict[str, Any] = {
    **{k: v for k, v in safe_builtins.items() if k not in _REMOVED_BUILTINS}, **_EXTRA_BUILTINS}

_GUARDS: dict[str, Any] = {
    "__builtins__": _BUILTINS, "_getattr_": _guarded_getattr, "_getitem_": default_guarded_getitem,
    "_getiter_": default_guarded_getiter, "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence, "_write_": full_write_guard,
    "_inplacevar_": _inplacevar, "_apply_": _apply, **HELPERS}


# -- calendar and clock for the helpers -----------------------------------------------------------

@dataclass
class CalendarUse:
    """The calendar one command runs with, and the years its deadlines had to guess."""

    calendar: WorkCalendar | None
    unknown_years: set[int] = field(default_factory=set)


current_calendar: ContextVar[CalendarUse | None] = ContextVar("weijian_current_calendar", default=None)


@contextmanager
def use_calendar(calendar: WorkCalendar | None = None) -> Iterator[CalendarUse]:
    """Run scripts with ``calendar`` (this command's admin overrides); ``None`` keeps the engine's.

    The yielded ``CalendarUse.unknown_years`` collects every year a helper had to guess, so the
    command can flag the deadlines it stored."""
    use = CalendarUse(calendar)
    token = current_calendar.set(use)
    try:
        yield use
    finally:
        current_calendar.reset(token)


def _utc_now() -> datetime:
    return datetime.now(UTC)


_DATE_FORM = re.compile(r"(\d{4})(?:/(\d{1,2})/(\d{1,2})|年(\d{1,2})月(\d{1,2})日)")


def _parse(value: object) -> date:
    """A date or datetime from a value task data may hold (ISO string) or a script computed."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise TypeError(f"expected a date, a datetime or an ISO date string, got {type(value).__name__}")
    text = value.strip()
    if match := _DATE_FORM.fullmatch(text):
        return date(*(int(part) for part in match.groups() if part))
    return datetime.fromisoformat(text) if len(text) > 10 else date.fromisoformat(text)


def _iso(value: date) -> str:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=CHINA_TZ)).isoformat()
    return value.isoformat()


def parse_date(value: object) -> date:
    """The calendar day (in China) of an ISO date/datetime string, '2025/10/09' or '2025年10月9日'."""
    parsed = _parse(value)
    if isinstance(parsed, datetime):
        return (parsed.astimezone(CHINA_TZ) if parsed.tzinfo else parsed).date()
    return parsed


YUAN_LIMIT = Decimal(10) ** 13


def yuan(amount: object) -> float:
    """Money rounded half up to fen, as a float: JSON, and comparable with numbers
    (``yuan(fine) > 10000``; a string would compare as text, a ``Decimal`` is not JSON). Rounding
    is done in ``Decimal`` (``yuan(2.675) == 2.68``; ``round(2.675, 2) == 2.67``); below 10^13 yuan
    the float round-trips through JSON exactly. Sum in ``Decimal`` when exactness matters."""
    if isinstance(amount, bool) or not isinstance(amount, int | float | str | Decimal):
        raise TypeError(f"yuan() takes a number or a numeric string, got {type(amount).__name__}")
    if isinstance(amount, float) and not math.isfinite(amount):
        raise ValueError(f"not an amount of money: {amount}")
    exact = Decimal(repr(amount)) if isinstance(amount, float) else Decimal(amount)
    rounded = exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if abs(rounded) >= YUAN_LIMIT:
        raise ValueError(f"amount out of range: {amount}")
    return float(rounded)


def script_helpers(calendar: Callable[[], WorkCalendar], clock: Callable[[], datetime]) -> dict[str, Any]:
    """The names every script sees besides builtins. ``calendar`` and ``clock`` are read per call."""

    def noted(deadline: Deadline[date]) -> str:
        _note(deadline.unknown_years)
        return _iso(deadline.due)

    def add_workdays(start: object, n: int) -> str:
        """ISO due date n working days after ``start`` (Art. 85: start day not counted)."""
        return noted(calendar().add_workdays(_parse(start), n))

    def add_days(start: object, n: int) -> str:
        """ISO due date n calendar days after ``start``, rolled to a working day (Art. 85)."""
        return noted(calendar().add_days(_parse(start), n))

    def workdays_between(start: object, end: object) -> int:
        """Working days from ``start`` to ``end``; negative when ``end`` has passed."""
        count = calendar().count_workdays(_parse(start), _parse(end))
        _note(count.unknown_years)
        return count.days

    def now() -> datetime:
        """The engine's current time, in China time."""
        moment = clock()
        if moment.tzinfo is None:
            raise ValueError("the engine clock must return a timezone-aware datetime")
        return moment.astimezone(CHINA_TZ)

    def today() -> date:
        """Today's date in China."""
        return now().date()

    def end_of_day(day: object) -> str:
        """The last second of ``day`` in China, for timers that fire once a deadline day is over."""
        parsed = _parse(day)
        if isinstance(parsed, datetime) and parsed.tzinfo is not None:
            parsed = parsed.astimezone(CHINA_TZ)
        return datetime.combine(parsed, time(23, 59, 59), CHINA_TZ).isoformat()

    return {
        "add_workdays": add_workdays, "add_days": add_days, "workdays_between": workdays_between,
        "end_of_day": end_of_day, "now": now, "today": today, "parse_date": parse_date, "yuan": yuan,
        "date": date, "datetime": datetime, "timedelta": timedelta, "Decimal": Decimal,
    }


def _note(years: tuple[int, ...]) -> None:
    use = current_calendar.get()
    if use is not None and years:
        use.unknown_years.update(years)


# -- JSON check of what a script stored -----------------------------------------------------------

_MAX_DEPTH = 64
_HINTS = {"date": "store .isoformat()", "datetime": "store .isoformat()", "tuple": "store a list",
          "Decimal": "store yuan(x) or str(x)", "set": "store a sorted list"}


def _json_problem(value: Any, path: str, depth: int = 0) -> str | None:
    """Why ``value`` cannot be stored as JSON task data, or None if it can."""
    problem: str | None = None
    if value is None or isinstance(value, str | bool | int):
        pass
    elif isinstance(value, float):
        problem = None if math.isfinite(value) else f"{path} is {value}, which JSON cannot store"
    elif depth > _MAX_DEPTH:
        problem = f"{path} is nested too deeply"
    elif isinstance(value, list):
        problem = next(filter(None, (
            _json_problem(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value))), None)
    elif isinstance(value, dict):
        problem = next(filter(None, (
            f"{path} has a non-string key {key!r}" if not isinstance(key, str)
            else _json_problem(item, f"{path}[{key!r}]", depth + 1) for key, item in value.items())), None)
    else:
        kind = type(value).__name__
        problem = (f"{path} holds a {kind}, which task data (JSON) cannot store: "
                   f"{_HINTS.get(kind, 'convert it')}, or del it")
    return problem


# -- the environment and the engine ---------------------------------------------------------------

def _script_line(tb: TracebackType | None) -> int | None:
    line = None
    for frame in traceback.extract_tb(tb):
        if frame.filename == SCRIPT_FILENAME:
            line = frame.lineno
    return line


def _refuse_free_names(compiled: _Compiled, source: str, *scopes: Mapping[str, Any]) -> None:
    for name, line in compiled.free_forbidden:
        if not any(name in scope for scope in scopes):
            raise ScriptRefused(f'"{name}" is not available in scripts.', source, line)


class SandboxedEnvironment(TaskDataEnvironment):
    """SpiffWorkflow's task-data environment (scripts read and write task data as globals),
    with compile and execution replaced by the sandbox."""

    def evaluate(self, expression: str, context: dict[str, Any],
                 external_context: Mapping[str, Any] | None = None) -> Any:
        expression = expression.strip()  # BPMN XML indents condition text; eval() mode would not parse it
        compiled = _compile(expression, "eval")
        scope: dict[str, Any] = dict(self.globals)
        if external_context:
            scope.update(external_context)
        scope.update(context)
        scope.update(_GUARDS)  # last: task data cannot replace a guard
        if compiled.free_forbidden:
            _refuse_free_names(compiled, expression, context, external_context or {})
        try:
            return run_bounded(lambda: eval(compiled.code, scope))  # noqa: S307 - restricted, guarded
        except SandboxError as err:
            err.locate(expression, _script_line(err.__traceback__))
            raise

    def execute(self, script: str, context: dict[str, Any],
                external_context: Mapping[str, Any] | None = None) -> bool:
        compiled = _compile(script, "exec")  # refuse before touching task data
        external = dict(external_context or {})
        self.check_for_overwrite(context, {**external, **_GUARDS})
        if compiled.free_forbidden:
            _refuse_free_names(compiled, script, context, external)
        before = dict(context)
        context.update({**self.globals, **external, **_GUARDS})
        try:
            run_bounded(lambda: exec(compiled.code, context))  # noqa: S102 - restricted, guarded
        except SandboxError as err:
            err.locate(script, _script_line(err.__traceback__))
            raise
        finally:
            self._remove_globals_and_functions_from_context(context, external)
            for name in _GUARDS:
                context.pop(name, None)
        for key, value in context.items():
            if key not in before or value is not before[key]:
                problem = _json_problem(value, key)
                if problem:
                    raise TypeError(problem)
        return True


class SandboxedScriptEngine(PythonScriptEngine):
    """``PythonScriptEngine`` whose every script and expression runs in the sandbox.

    ``calendar`` is the fallback working-day calendar; a calendar set with ``use_calendar`` for
    the current command wins over it, and ``default_calendar()`` is the last resort. ``clock``
    gives the current instant (aware) for ``now()``/``today()``.
    """

    def __init__(self, calendar: WorkCalendar | None = None,
                 clock: Callable[[], datetime] = _utc_now) -> None:
        self.calendar = calendar
        self.clock = clock
        super().__init__(environment=SandboxedEnvironment(script_helpers(self._current_calendar, clock)))

    def _current_calendar(self) -> WorkCalendar:
        use = current_calendar.get()
        if use is not None and use.calendar is not None:
            return use.calendar
        return self.calendar if self.calendar is not None else default_calendar()

    def validate(self, expression: str) -> None:
        """Syntax check (raising ``SyntaxError`` as SpiffWorkflow's DMN code expects), then the
        sandbox's own refusal."""
        try:
            super().validate(expression)
        except RecursionError:
            raise too_deep() from None
        _compile(expression, "exec")

    def evaluate(self, task: Any, expression: str, external_context: Mapping[str, Any] | None = None) -> Any:
        try:
            return super().evaluate(task, expression, external_context)
        except SandboxError as err:
            err.attach(task)
            raise

    def execute(self, task: Any, script: str, external_context: Mapping[str, Any] | None = None) -> Any:
        try:
            return self.environment.execute(script, task.data, external_context or {})
        except SandboxError as err:
            err.attach(task)  # keep our line number; the parent would overwrite it with 0
            raise
        except Exception as err:
            raise self.create_task_exec_exception(task, script, err) from err

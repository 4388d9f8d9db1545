"""Bounds on what one sandboxed script or expression may cost: steps, time, depth, result sizes.

RestrictedPython keeps scripts away from the worker's powers, not from its CPU and memory:
``sum(range(10**15))``, ``len(str(9**9**9))``, ``'x' * 10**10`` or ``while True: pass`` in a
gateway condition or a decision-table cell would hang the instance, and a single huge C-level
operation holds the GIL, so the scheduler's other threads stop too. Every evaluation is bounded:

* ``range`` is replaced by one refusing more than ``max_range_items`` items;
* ``**`` (and ``pow``), ``<<``, ``*``, ``+`` and ``%`` are rewritten by the policy
  (``BoundedOperators``) into calls of guarded helpers that estimate the result before computing
  it: an integer of more than ``max_int_bits`` bits, a str/list/tuple/bytes repetition or
  concatenation of more than ``max_result_items`` items, a printf width over it, is refused; so
  are padding (``ljust``, ``zfill``...), ``replace``/``join`` results and f-string widths over
  the same size;
* ``run_bounded`` installs, only while sandboxed code runs and only on this thread, a trace
  function that follows frames compiled from scripts (``SCRIPT_FILENAME``; line by line, and
  bytecode by bytecode in code that loops: ``while True: pass`` is one line) and stops the
  script after ``max_steps`` steps, ``max_seconds`` of wall time or ``max_depth`` nested script
  frames (a lambda can recurse: ``(lambda f: f(f))(lambda f: f(f))``);
* source over ``max_expression_chars`` (an expression) or ``max_script_chars`` (a script), or
  nested too deeply for Python's compiler (``1+1+...`` thousands of times), is refused.

The trace stops a script with an internal ``BaseException`` (a script's ``except Exception``
cannot swallow it; the policy refuses bare ``except:`` and ``finally:``, the two ways code
could still run after it), which ``run_bounded`` turns into ``ScriptLimitExceeded``: a
``ScriptRefused``, so SpiffWorkflow's error path and ``translate_error`` handle it as any
refusal (``ScriptRejected`` naming the task; the command writes nothing).

Limits are configuration (``ScriptLimits.from_env``, ``WEIJIAN_SCRIPT_*``); ``use_limits``
changes them for a block (tests, a bench).
"""

from __future__ import annotations

import ast
import dis
import math
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from types import CodeType, FrameType
from typing import Any, TypeVar

from RestrictedPython.transformer import RestrictingNodeTransformer

from .sandbox_errors import ScriptLimitExceeded, ScriptRefused

SCRIPT_FILENAME = "<string>"
"""The filename compiled scripts carry: SpiffWorkflow finds the failing line by this name, and
the budget traces only frames with it."""

_T = TypeVar("_T")


@dataclass(frozen=True)
class ScriptLimits:
    """Bounds of one evaluation. Defaults leave every process package's scripts far below them
    (the penalty case's largest script runs a few hundred lines)."""

    max_range_items: int = 1_000_000
    max_result_items: int = 10_000_000  # chars of a str, items of a list... built by one operation
    max_total_items: int = 20_000_000  # the same, summed over one evaluation (a loop building lists)
    max_int_bits: int = 100_000  # about 30,000 decimal digits
    max_steps: int = 5_000_000  # trace events (lines and bytecodes) in script frames
    max_seconds: float = 2.0
    max_depth: int = 100  # nested script frames (functions, lambdas, comprehensions)
    max_expression_chars: int = 10_000
    max_script_chars: int = 200_000

    @classmethod
    def from_env(cls) -> ScriptLimits:
        """Defaults, each overridden by ``WEIJIAN_SCRIPT_<FIELD>`` (``WEIJIAN_SCRIPT_MAX_SECONDS=5``)."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = os.environ.get(f"WEIJIAN_SCRIPT_{f.name.upper()}", "")
            if raw:
                try:
                    values[f.name] = float(raw) if f.type == "float" else int(raw)
                except ValueError as exc:
                    raise ValueError(f"WEIJIAN_SCRIPT_{f.name.upper()} must be a number, got {raw!r}") from exc
        return cls(**values)


class _Current:
    limits = ScriptLimits.from_env()


def current_limits() -> ScriptLimits:
    return _Current.limits


@contextmanager
def use_limits(limits: ScriptLimits) -> Iterator[ScriptLimits]:
    """Run a block with other limits (process-wide: meant for tests and benchmarks)."""
    previous, _Current.limits = _Current.limits, limits
    try:
        yield limits
    finally:
        _Current.limits = previous


def _refuse(what: str) -> ScriptLimitExceeded:
    return ScriptLimitExceeded(what)


# -- size of source -------------------------------------------------------------------------------

def check_source_size(source: str, mode: str) -> None:
    limits = _Current.limits
    limit = limits.max_expression_chars if mode == "eval" else limits.max_script_chars
    if len(source) > limit:
        kind = "an expression" if mode == "eval" else "a script"
        raise _refuse(f"{kind} may hold at most {limit} characters, this one has {len(source)}")


def too_deep() -> ScriptRefused:
    """What to raise when Python's parser or compiler runs out of recursion on a source."""
    return ScriptRefused("the expression is nested too deeply (thousands of operators in a row); split it "
                         "into steps in a script")


# -- guarded operations ------------------------------------------------------------------------------

_SEQUENCES = (str, bytes, bytearray, list, tuple)


def limited_range(*args: int) -> range:
    """``range`` refusing more than ``max_range_items`` items (``len`` of a huge range overflows,
    so the item just past the limit is looked up instead)."""
    result = range(*args)
    limit = _Current.limits.max_range_items
    try:
        result[limit]
    except IndexError:
        _charge(len(result))
        return result
    raise _refuse(f"range() may give at most {limit} items")


def _check_int_bits(bits: float, what: str) -> None:
    if bits > _Current.limits.max_int_bits:
        limit = _Current.limits.max_int_bits
        raise _refuse(f"{what} would be a number of about {int(bits)} bits, over the {limit}-bit limit")


def guarded_pow(base: Any, exponent: Any, modulo: Any = None) -> Any:
    """``base ** exponent`` (and ``pow``), refused when the integer result would be huge:
    estimated as exponent × log2(base) before computing it."""
    if modulo is None and type(base) in (int, bool) and type(exponent) in (int, bool) and exponent > 1:
        magnitude = abs(base)
        if magnitude > 1:
            _check_int_bits(exponent * math.log2(magnitude), "**")
    return pow(base, exponent) if modulo is None else pow(base, exponent, modulo)


def guarded_lshift(value: Any, shift: Any) -> Any:
    if isinstance(value, int) and isinstance(shift, int) and value and shift > 0:
        _check_int_bits(value.bit_length() + shift, "<<")
    return value << shift


def _check_items(count: int, what: str) -> None:
    if count > _Current.limits.max_result_items:
        raise _refuse(f"{what} would build {count} items, over the limit of {_Current.limits.max_result_items}")
    _charge(count)


def _charge(count: int) -> None:
    """Add what a guarded operation builds to the evaluation's total (memory a loop piles up)."""
    budget: _Budget | None = getattr(_local, "budget", None)
    if budget is not None:
        budget.items += count
        if budget.items > budget.limits.max_total_items:
            raise _refuse(f"the script built more than {budget.limits.max_total_items} items in all (ranges, "
                          "repeated or joined sequences)")


def guarded_mul(left: Any, right: Any) -> Any:
    """``left * right``, refused when repeating a sequence or multiplying integers would build
    something huge (estimated from the operands' sizes first)."""
    lt, rt = type(left), type(right)
    if lt is int and rt is int:
        if left and right:
            _check_int_bits(left.bit_length() + right.bit_length(), "*")
    elif isinstance(left, _SEQUENCES) and isinstance(right, int):
        _check_items(len(left) * right, "repeating a sequence with *")
    elif isinstance(right, _SEQUENCES) and isinstance(left, int):
        _check_items(len(right) * left, "repeating a sequence with *")
    return left * right


def guarded_add(left: Any, right: Any) -> Any:
    """``left + right``, refused when concatenating would build something huge (``s = s + s``
    in a loop doubles: thirty rounds are gigabytes long before the step budget runs out)."""
    if isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
        _check_items(len(left) + len(right), "concatenating with +")
    return left + right


_WIDTHS = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(\*|\d+)?(?:\.(\*|\d+))?")


def guarded_mod(left: Any, right: Any) -> Any:
    """``left % right``; for ``'%10000000000d' % 1`` (printf-style formatting) the widths and
    precisions are checked first (``*`` takes them from the arguments)."""
    if isinstance(left, str | bytes):
        text = left if isinstance(left, str) else left.decode("latin-1")
        args = right if isinstance(right, tuple) else (right,)
        for match in _WIDTHS.finditer(text):
            for size in match.groups():
                if size == "*":
                    widths = [a for a in args if isinstance(a, int)]
                    _check_items(max(widths, default=0), "a % format width")
                elif size:
                    _check_items(int(size), "a % format width")
    return left % right


_PADDING = frozenset({"ljust", "rjust", "center", "zfill"})


def guard_method(obj: Any, name: str, method: Any) -> Any:
    """Str/bytes methods whose result size comes from an argument, wrapped to check it first."""
    if not isinstance(obj, str | bytes | bytearray):
        return method
    if name in _PADDING:
        def padded(width: int, *args: Any) -> Any:
            _check_items(width, f"{name}()")
            return method(width, *args)
        return padded
    if name == "replace":
        def replaced(old: Any, new: Any, count: int = -1) -> Any:
            hits = obj.count(old) if count < 0 else count
            _check_items(len(obj) + hits * max(0, len(new) - len(old)), "replace()")
            return method(old, new, count)
        return replaced
    if name == "join":
        def joined(items: Any) -> Any:
            items = list(items)
            _check_items(sum(len(i) for i in items if isinstance(i, _SEQUENCES)) + len(obj) * len(items),
                         "join()")
            return method(items)
        return joined
    if name == "expandtabs":
        def expanded(tabsize: int = 8) -> Any:
            tab: Any = "\t" if isinstance(obj, str) else b"\t"
            _check_items(len(obj) + obj.count(tab) * max(tabsize, 0),
                         "expandtabs()")
            return method(tabsize)
        return expanded
    return method


def guarded_inplace(op: str) -> Callable[[Any, Any], Any] | None:
    """The guarded helper for an augmented assignment (``x *= n``), if it needs one."""
    helpers: dict[str, Callable[[Any, Any], Any]] = {"*=": guarded_mul, "**=": guarded_pow, "<<=": guarded_lshift,
                                                     "+=": guarded_add, "%=": guarded_mod}
    return helpers.get(op)


GUARDED_OPERATORS: dict[type[ast.operator], str] = {ast.Pow: "_pow_", ast.Mult: "_mul_", ast.LShift: "_lshift_",
                                                    ast.Add: "_add_", ast.Mod: "_mod_"}
HELPERS: dict[str, Any] = {"_pow_": guarded_pow, "_mul_": guarded_mul, "_lshift_": guarded_lshift,
                           "_add_": guarded_add, "_mod_": guarded_mod}
"""Globals every sandboxed code object gets; names starting with ``_`` cannot be written by scripts."""


class BoundedOperators(RestrictingNodeTransformer):
    """The policy's part that bounds cost: ``**``, ``*`` and ``<<`` become guarded calls; bare
    ``except:`` and ``finally:`` (which would run on after the budget stopped a script) are refused."""

    def visit_BinOp(self, node: ast.BinOp) -> Any:  # noqa: N802 - ast.NodeVisitor's name
        visited = super().visit_BinOp(node)
        helper = GUARDED_OPERATORS.get(type(visited.op)) if isinstance(visited, ast.BinOp) else None
        if helper is None or not isinstance(visited, ast.BinOp):
            return visited
        call = ast.Call(func=ast.copy_location(ast.Name(id=helper, ctx=ast.Load()), visited),
                        args=[visited.left, visited.right], keywords=[])
        return ast.copy_location(call, visited)

    def visit_FormattedValue(self, node: ast.FormattedValue) -> Any:  # noqa: N802
        """f-string format specs: a computed one (``f"{x:>{n}}"``) or a width over the result
        limit (``f"{x:>10000000000}"``) would build a huge string in one C call."""
        spec = node.format_spec
        if spec is not None:
            parts = spec.values if isinstance(spec, ast.JoinedStr) else [spec]
            if any(isinstance(part, ast.FormattedValue) for part in parts):
                self.error(node, "a format spec computed at run time is not allowed in f-strings.")
            text = "".join(str(p.value) for p in parts if isinstance(p, ast.Constant))
            if any(int(n) > _Current.limits.max_result_items for n in re.findall(r"\d+", text)):
                self.error(node, "an f-string width over the size limit is not allowed.")
        return super().visit_FormattedValue(node)

    def visit_Try(self, node: ast.Try) -> Any:  # noqa: N802
        if node.finalbody:
            self.error(node, "finally: clauses are not allowed in scripts.")
        for handler in node.handlers:
            if handler.type is None:
                self.error(handler, "a bare except: is not allowed; name the exception (except KeyError:).")
        return super().visit_Try(node)

    visit_TryStar = visit_Try  # type: ignore[assignment]  # noqa: N815


# -- the step, time and depth budget ------------------------------------------------------------------

_BACKWARD_JUMPS = frozenset(dis.opmap[name] for name in ("JUMP_BACKWARD", "JUMP_BACKWARD_NO_INTERRUPT",
                                                          "JUMP_ABSOLUTE") if name in dis.opmap)
_LOOPS: dict[CodeType, bool] = {}


def _has_loop(code: CodeType) -> bool:
    """Whether ``code`` can jump backwards: only such frames need tracing bytecode by bytecode
    (``while True: pass`` is one line, so it gives no line events); the others are bounded by
    their length and are traced line by line, which costs less."""
    found = _LOOPS.get(code)
    if found is None:
        found = any(op in _BACKWARD_JUMPS for op in code.co_code[::2])
        if len(_LOOPS) > 20_000:
            _LOOPS.clear()
        _LOOPS[code] = found
    return found


class _BudgetExhausted(BaseException):
    """Raised by the trace inside a script frame; a BaseException, so ``except Exception`` in
    the script does not catch it."""


class _Budget:
    __slots__ = ("deadline", "depth", "items", "limits", "line", "lines", "reason")

    def __init__(self, limits: ScriptLimits) -> None:
        self.limits = limits
        self.lines = 0
        self.items = 0
        self.depth = 0
        self.deadline = time.monotonic() + limits.max_seconds
        self.reason = ""
        self.line: int | None = None

    def on_call(self, frame: FrameType, event: str, arg: Any) -> Any:
        """The thread's global trace: only frames of script code get the line tracer."""
        if frame.f_code.co_filename != SCRIPT_FILENAME:
            return None
        if _has_loop(frame.f_code):
            frame.f_trace_opcodes = True
        self.depth += 1
        if self.depth > self.limits.max_depth:
            self.stop(f"scripts may nest at most {self.limits.max_depth} calls (recursion?)", frame)
        return self.on_line

    def on_line(self, frame: FrameType, event: str, arg: Any) -> Any:
        if event in {"opcode", "line"}:
            self.lines += 1
            if self.lines > self.limits.max_steps:
                self.stop(f"the script ran more than {self.limits.max_steps} steps (an endless loop?)", frame)
            if not self.lines & 0x3F and time.monotonic() > self.deadline:
                self.stop(f"the script ran longer than {self.limits.max_seconds:g} s (an endless loop?)", frame)
        elif event == "return":
            self.depth -= 1
        return self.on_line

    def stop(self, reason: str, frame: FrameType) -> None:
        self.reason, self.line = reason, frame.f_lineno
        raise _BudgetExhausted(reason)


_local = threading.local()


def run_bounded(run: Callable[[], _T]) -> _T:
    """Run ``run`` (an ``eval``/``exec`` of sandboxed code) under the step, time and depth budget.

    The trace is this thread's only while ``run`` runs (other threads and the engine's own code
    are never traced); a nested call shares the outer budget. Another trace function (a
    debugger, coverage) is put back afterwards."""
    if getattr(_local, "budget", None) is not None:
        return run()
    budget = _Budget(_Current.limits)
    previous = sys.gettrace()
    _local.budget = budget
    sys.settrace(budget.on_call)
    try:
        return run()
    except _BudgetExhausted:
        raise ScriptLimitExceeded(budget.reason, line_number=budget.line) from None
    except RecursionError:
        raise _refuse("the script recursed too deeply") from None
    finally:
        sys.settrace(previous)
        _local.budget = None

"""Hostile or careless expressions stop within a bound, with a typed error, and never block the
other threads of the process (the scheduler runs beside the evaluation)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from engine.sandbox import SandboxedEnvironment, ScriptRefused, check_script
from engine.sandbox_errors import ScriptLimitExceeded
from engine.sandbox_limits import ScriptLimits, current_limits, use_limits

BOUND_SECONDS = 6.0  # the default time budget is 2 s; a loaded CI machine gets slack


@contextmanager
def other_thread_counting() -> Iterator[Callable[[], int]]:
    """A thread that counts as fast as it can while the block runs; yields the count so far."""
    count = [0]
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            count[0] += 1

    thread = threading.Thread(target=spin, daemon=True)
    thread.start()
    try:
        yield lambda: count[0]
    finally:
        stop.set()
        thread.join(5)


def _bounded(run: Callable[[], object]) -> tuple[ScriptLimitExceeded, float, int]:
    with other_thread_counting() as counted:
        time.sleep(0.01)
        before = counted()
        started = time.monotonic()
        with pytest.raises(ScriptLimitExceeded) as err:
            run()
        elapsed = time.monotonic() - started
        progress = counted() - before
    return err.value, elapsed, progress


@pytest.mark.parametrize("expression", [
    "sum(range(10**15)) > 0",
    "len(str(9**9**9))",
    "'x' * 10**10",
    "[0] * 10**10 == []",
    "pow(9, 9**9) > 0",
    "1 << 10**10",
    "len('x'.ljust(10**10))",
    "len('abc'.replace('', 'x' * 10**7))",
    "len(','.join(['x' * 10**6] * 1000))",
    "(lambda f: f(f))(lambda f: f(f))",
    "len('%10000000000d' % 1)",
    "len('%*d' % (10**10, 1))",
    "len(('x' * 10**7) + ('y' * 10**7))",
])
def test_huge_results_are_refused_before_they_are_computed(expression: str) -> None:
    started = time.monotonic()
    with pytest.raises(ScriptLimitExceeded) as err:
        SandboxedEnvironment({}).evaluate(expression, {})
    assert time.monotonic() - started < 0.5
    assert "script refused" in str(err.value)
    assert "object at 0x" not in str(err.value)


@pytest.mark.parametrize("expression", [
    "sum(1 for x in range(10**6) for y in range(10**6)) > 0",
    "[x for x in range(10**6) if all(y >= 0 for y in range(10**3))]",
])
def test_long_running_expressions_stop_while_other_threads_run(expression: str) -> None:
    error, elapsed, progress = _bounded(lambda: SandboxedEnvironment({}).evaluate(expression, {}))
    assert elapsed < BOUND_SECONDS
    assert progress > 0, "another thread must keep running during the evaluation"
    assert "steps" in str(error) or " s " in str(error)


@pytest.mark.parametrize("script", [
    "while True: pass",
    "n = 0\nwhile True:\n    n += 1",
    "def down(n):\n    return 1 if n > 40 else down(n + 1) + down(n + 1)\nresult = down(0)",
    "try:\n    while True:\n        pass\nexcept Exception:\n    swallowed = True\n    while True:\n        pass",
])
def test_endless_or_huge_scripts_stop_within_the_budget(script: str) -> None:
    data: dict[str, object] = {}
    error, elapsed, progress = _bounded(lambda: SandboxedEnvironment({}).execute(script, data))
    assert elapsed < BOUND_SECONDS
    assert progress > 0
    assert error.line_number is not None
    assert "swallowed" not in data


@pytest.mark.parametrize("script", [
    "s = 'x'\nwhile True:\n    s = s + s",
    "s = 'x'\nwhile True:\n    s += s",
    "lists = [list(range(10**6)) for _ in range(10**6)]",
    "parts = []\nwhile True:\n    parts.append('x' * 10**6)",
])
def test_piling_up_memory_in_a_loop_is_refused_before_it_is_large(script: str) -> None:
    started = time.monotonic()
    with pytest.raises(ScriptLimitExceeded, match="items"):
        SandboxedEnvironment({}).execute(script, {})
    assert time.monotonic() - started < BOUND_SECONDS


def test_the_time_budget_is_configuration() -> None:
    with use_limits(ScriptLimits(max_seconds=0.2, max_steps=10**12)):
        error, elapsed, _ = _bounded(lambda: SandboxedEnvironment({}).execute("while True: pass", {}))
    assert elapsed < 1.5
    assert "0.2 s" in str(error)


def test_limits_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEIJIAN_SCRIPT_MAX_RANGE_ITEMS", "10")
    monkeypatch.setenv("WEIJIAN_SCRIPT_MAX_SECONDS", "0.5")
    limits = ScriptLimits.from_env()
    assert (limits.max_range_items, limits.max_seconds) == (10, 0.5)
    with use_limits(limits):
        assert SandboxedEnvironment({}).evaluate("list(range(10))", {}) == list(range(10))
        with pytest.raises(ScriptLimitExceeded, match="at most 10 items"):
            SandboxedEnvironment({}).evaluate("list(range(11))", {})
    monkeypatch.setenv("WEIJIAN_SCRIPT_MAX_DEPTH", "deep")
    with pytest.raises(ValueError, match="WEIJIAN_SCRIPT_MAX_DEPTH"):
        ScriptLimits.from_env()


def test_ordinary_arithmetic_and_sequences_are_unchanged() -> None:
    env = SandboxedEnvironment({})
    assert env.evaluate("2 ** 10 * 3 + 7 % 4", {}) == 3075
    assert env.evaluate("2 ** -1", {}) == 0.5
    assert env.evaluate("'ab' * 3 + '-' * 2", {}) == "ababab--"
    assert env.evaluate("[0] * 3 + [1] * 2", {}) == [0, 0, 0, 1, 1]
    assert env.evaluate("fine * 1.5", {"fine": 20000}) == 30000.0
    assert env.evaluate("sum(range(100))", {}) == 4950
    assert env.evaluate("'7'.zfill(3) + ','.join(['a', 'b'])", {}) == "007a,b"
    assert env.evaluate("'%.2f %s%%' % (fine / 3, 'x') + f'{fine:,.1f}'", {"fine": 20000}) == "6666.67 x%20,000.0"
    assert env.evaluate("7 % 4 + 1.5", {}) == 4.5
    assert env.evaluate("(1,) + (2,) + tuple([3])", {}) == (1, 2, 3)
    data = {"n": 3, "s": "ab"}
    env.execute("n *= 2\nn **= 2\ns *= 2\nm = 1 << 4", data)
    assert data == {"n": 36, "s": "abab", "m": 16}


def test_a_long_chain_of_operators_is_refused_not_a_recursion_error() -> None:
    chain = "+".join(["1"] * 5000)
    with pytest.raises(ScriptRefused, match="nested too deeply"):
        check_script(chain, "eval")
    with pytest.raises(ScriptRefused, match="nested too deeply"):
        SandboxedEnvironment({}).evaluate(chain, {})


def test_expression_length_is_bounded() -> None:
    limit = current_limits().max_expression_chars
    check_script("x" + " " * (limit - 1), "eval")
    with pytest.raises(ScriptLimitExceeded, match=f"at most {limit} characters"):
        check_script("x" + " " * limit, "eval")


@pytest.mark.parametrize(("script", "reason"), [
    ("x = f'{1:>10000000000}'", "width over the size limit"),
    ("n = 5\nx = f'{1:>{n}}'", "computed at run time"),
    ("try:\n    x = 1\nexcept:\n    x = 2", "bare except"),
    ("try:\n    x = 1\nfinally:\n    x = 2", "finally"),
])
def test_clauses_that_could_outlive_the_budget_are_refused(script: str, reason: str) -> None:
    with pytest.raises(ScriptRefused, match=reason):
        check_script(script)


def test_the_trace_is_installed_only_while_a_script_runs() -> None:
    seen: list[object] = []

    def peek() -> bool:
        seen.append(sys.gettrace())
        return True

    env = SandboxedEnvironment({"peek": peek})
    before = sys.gettrace()
    assert env.evaluate("peek()", {}) is True
    assert seen[0] is not None and seen[0] is not before
    assert sys.gettrace() is before

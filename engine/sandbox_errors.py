"""Typed errors of the script sandbox (``engine.sandbox``, ``engine.sandbox_limits``).

Kept apart so the limits module can raise them without importing the sandbox itself. They are
``WorkflowTaskException`` subclasses: SpiffWorkflow's error path (the task, the line) carries
them, and ``engine.runtime.translate_error`` turns every ``SandboxError`` into ``ScriptRejected``.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.exceptions import WorkflowException


class SandboxError(WorkflowTaskException):
    """A script broke a sandbox rule. Has ``task``, ``line_number``, ``error_line`` like its parent,
    but may be raised where no task is known yet; the script engine attaches it when it can."""

    def __init__(self, message: str, script: str | None = None, line_number: int | None = None) -> None:
        WorkflowException.__init__(self, message, task_spec=None)  # the parent insists on a task
        self.task: Any = None
        self.task_trace: list[str] = []
        self.offset = None
        self.error_type = type(self).__name__
        self.script = script
        self.line_number = line_number
        self.error_line = source_line(script, line_number)

    def locate(self, script: str, line_number: int | None) -> None:
        if self.script is None:
            self.script = script
        if self.line_number is None:
            self.line_number = line_number
        self.error_line = source_line(self.script, self.line_number)

    def attach(self, task: Any) -> None:
        """Record the task the script ran for (first one wins)."""
        if self.task is None and task is not None:
            self.task = task
            self.task_spec = task.task_spec
            self.task_trace = WorkflowTaskException.get_task_trace(task)


class ScriptRefused(SandboxError):
    """The sandbox will not run this script: restricted syntax, a forbidden name or attribute."""

    def __init__(self, reason: str, script: str | None = None, line_number: int | None = None) -> None:
        super().__init__(f"script refused: {reason.rstrip('.')}", script, line_number)
        self.reason = reason


class ScriptLimitExceeded(ScriptRefused):
    """The script went over a bound of ``engine.sandbox_limits`` (steps, time, depth, size of a
    result): stopped, like a refused script, before it could hang the worker or fill its memory."""


def source_line(script: str | None, line_number: int | None) -> str:
    if not script or not line_number:
        return ""
    lines = script.splitlines()
    return lines[line_number - 1] if 0 < line_number <= len(lines) else ""

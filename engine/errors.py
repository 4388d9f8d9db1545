"""Typed errors of the engine: callers map them to HTTP codes / CLI messages.

Every engine command validates before it writes; when one of these is raised the caller rolls
back and the database is unchanged.
"""

from __future__ import annotations


class EngineError(Exception):
    """Base of every error the engine raises on purpose. ``code`` is stable for API clients."""

    code = "engine_error"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(EngineError):
    code = "not_found"


class UnknownProcess(NotFound):
    code = "unknown_process"


class UnknownTask(NotFound):
    code = "unknown_task"


class UnknownInstance(NotFound):
    code = "unknown_instance"


class PermissionDenied(EngineError):
    code = "forbidden"


class ConflictError(EngineError):
    """Someone else changed the same instance or task first; reload and try again."""

    code = "conflict"


class TaskNotReady(ConflictError):
    code = "task_not_ready"


class InstanceSuspended(ConflictError):
    """The case is suspended by an administrator: nothing moves it until it is resumed."""

    code = "instance_suspended"


class InvalidDefinition(EngineError):
    """BPMN/DMN that cannot be deployed: names the file, the element and what is wrong."""

    code = "invalid_definition"

    def __init__(self, filename: str, element_id: str | None, problem: str) -> None:
        where = f"{filename}" + (f", element '{element_id}'" if element_id else "")
        super().__init__(f"{where}: {problem}", filename=filename, element_id=element_id, problem=problem)
        self.filename = filename
        self.element_id = element_id
        self.problem = problem


class UnsafeXml(InvalidDefinition):
    code = "unsafe_xml"


class WorkflowFailed(EngineError):
    """A script, condition or timer expression failed while the workflow ran."""

    code = "workflow_error"

    def __init__(self, message: str, task_name: str | None = None, **details: object) -> None:
        super().__init__(message, task_name=task_name, **details)
        self.task_name = task_name


class InvalidTimer(WorkflowFailed):
    code = "invalid_timer"


class ScriptRejected(WorkflowFailed):
    code = "script_refused"


class MessageNotDelivered(EngineError):
    code = "message_not_delivered"


class InvalidData(EngineError):
    code = "invalid_data"

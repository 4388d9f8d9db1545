"""Weijian's workflow engine over SpiffWorkflow: the verbs other packages may call.

Every command takes the caller's SQLAlchemy ``Session`` and an ``Actor``; the caller commits
once (web request, Celery job, CLI command). The engine never imports Flask or the directory.
"""

from .actor import SYSTEM, Actor
from .audit import VerifyResult
from .audit import history as audit_history
from .audit import verify as verify_audit
from .caches import clear_caches
from .calendar_admin import YearStatus, calendar_years, correct_day, enter_year, uncertain_tasks, year_status
from .definitions import deploy, deploy_directory, latest_definition
from .errors import (
    ConflictError,
    EngineError,
    InstanceSuspended,
    InvalidData,
    InvalidDefinition,
    InvalidTimer,
    MessageNotDelivered,
    NotFound,
    PermissionDenied,
    ScriptRejected,
    TaskNotReady,
    UnknownInstance,
    UnknownProcess,
    UnknownTask,
    UnsafeXml,
    WorkflowFailed,
)
from .instance_admin import resume, set_variable, suspend
from .instances import cancel, complete_task, instance_data, set_business_key, start
from .messages import deliver_message
from .outbox import (
    JobFailed,
    OperatorContext,
    due_jobs,
    incidents,
    operator,
    record_failure,
    registered_operators,
    resolve_incident,
    retry_incident,
    run_job,
)
from .runtime import NEW_JOBS_KEY
from .scripting import load_calendar
from .stalls import repair_stalled, scan_stalled, stalled_instances
from .tasks import InboxFilters, InboxPage, assign, claim, completed_by, inbox, inbox_counts, set_due, unclaim
from .timers import TimerReport, fire_due_timers

__all__ = [
    "NEW_JOBS_KEY",
    "SYSTEM",
    "Actor",
    "ConflictError",
    "EngineError",
    "InboxFilters",
    "InboxPage",
    "InstanceSuspended",
    "InvalidData",
    "InvalidDefinition",
    "InvalidTimer",
    "JobFailed",
    "MessageNotDelivered",
    "NotFound",
    "OperatorContext",
    "PermissionDenied",
    "ScriptRejected",
    "TaskNotReady",
    "TimerReport",
    "UnknownInstance",
    "UnknownProcess",
    "UnknownTask",
    "UnsafeXml",
    "VerifyResult",
    "WorkflowFailed",
    "YearStatus",
    "assign",
    "audit_history",
    "calendar_years",
    "cancel",
    "claim",
    "clear_caches",
    "complete_task",
    "completed_by",
    "correct_day",
    "deliver_message",
    "deploy",
    "deploy_directory",
    "due_jobs",
    "enter_year",
    "fire_due_timers",
    "inbox",
    "inbox_counts",
    "incidents",
    "instance_data",
    "latest_definition",
    "load_calendar",
    "operator",
    "record_failure",
    "registered_operators",
    "repair_stalled",
    "resolve_incident",
    "resume",
    "retry_incident",
    "run_job",
    "scan_stalled",
    "set_business_key",
    "set_due",
    "set_variable",
    "stalled_instances",
    "start",
    "suspend",
    "uncertain_tasks",
    "unclaim",
    "verify_audit",
    "year_status",
]

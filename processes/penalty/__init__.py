"""Administrative penalty cases (行政处罚) under 行政处罚法 (2021): ordinary and summary procedure.

The BPMN/DMN files beside this module are the processes (deployed as one bundle); this
package is what their tasks need: form schemas (``FORMS``), the legal checks behind
``submit_task``, the service-task operators (registered on import), documents, the case
register, numbering, execution, archive and the case card. See ``README.md`` here.

``PACKAGE`` registers the family with ``processes.registry`` (``discover()`` finds it), so the
web layer, the CLI and the worker reach it without importing it by name.
"""

from __future__ import annotations

from pathlib import Path

from processes.registry import ProcessPackage

from . import case_search as _case_search
from . import hooks as _hooks
from . import operators as _operators  # noqa: F401 - registers the service-task operators
from .archive import archives_for_entity
from .casecard import CARD_SELECTIONS, case_card, case_cards, to_csv, to_xlsx
from .checks_execution import execution_state_of, pending_arrangement
from .documents import documents_of, pdf_rendering
from .filing import approve_filing_extension
from .forms import DATA_KEYS, FORMS
from .reporting import REPORTS, STATES, record_reports, reports_due
from .rules import Rules, load_rules
from .service import (
    PROCESS_KEYS,
    apply_for_recusal,
    case_of_instance,
    get_case,
    request_ending,
    request_extension,
    sign_deliberation,
    start_case,
    submit_task,
    validate_task,
)
from .storage import load_blob, store_blob

PACKAGE = ProcessPackage(
    name="penalty",
    folder=Path(__file__).resolve().parent,
    process_keys=frozenset({"penalty_ordinary", "penalty_summary", "penalty_deliberation"}),
    form_prefixes=("penalty.",),
    submit=_hooks.submit,
    start=_hooks.start,
    startable=frozenset({"penalty_ordinary", "penalty_summary"}),
    start_roles=frozenset({"officer", "head"}),
    deploy=_hooks.deploy,
    load_demo=_hooks.load_demo,
    demo_notes=_hooks.demo_notes,
    order=10,
    case_kinds={"penalty_ordinary": "行政处罚（一般程序）", "penalty_summary": "行政处罚（简易程序）",
                "penalty_deliberation": "案件合议"},
    case_text=_case_search.case_text,
    case_officers=_case_search.case_officers,
    holder_refusal=_hooks.holder_refusal,
    form_defaults=_hooks.form_defaults,
    description="行政处罚（一般程序、简易程序）",
)

__all__ = [
    "CARD_SELECTIONS", "DATA_KEYS", "FORMS", "PACKAGE", "PROCESS_KEYS", "REPORTS", "STATES", "Rules",
    "apply_for_recusal", "approve_filing_extension",
    "archives_for_entity", "case_card", "case_cards", "case_of_instance", "documents_of", "execution_state_of",
    "get_case", "load_blob", "load_rules", "pdf_rendering", "pending_arrangement", "record_reports", "reports_due",
    "request_ending", "request_extension", "sign_deliberation", "start_case", "store_blob", "submit_task", "to_csv",
    "to_xlsx",
    "validate_task",
]

"""Complaints and reports (投诉举报) and petitions (信访): intake, classification, duplicates,
competence and forwarding across units, acceptance, handling by type, co-handling, urging,
result review, feedback, 复查/复核 and archive. See ``README.md`` here.

``PACKAGE`` registers the family with ``processes.registry``; importing this package registers
its service-task operators and task forms.
"""

from __future__ import annotations

from pathlib import Path

from processes.registry import ProcessPackage

from . import case_search as _case_search
from . import hooks as _hooks
from . import operators as _operators  # noqa: F401 - registers the service-task operators
from .archive import archives_for_entity
from .forms import DATA_KEYS, FORMS
from .identity import identity_for, identity_or_redacted, production_problems, redacted, rotate_identities
from .intake import Attachment, register_by_clerk, submit_public
from .reports import ListFilters, counts, export_csv, export_xlsx, list_complaints, statistics
from .service import (
    PublicView,
    TrackingRefused,
    complaint_for_penalty_case,
    complaint_of_instance,
    pause,
    rate,
    reply_urging,
    request_review,
    resume,
    staff_view,
    submit_task,
    track,
)

FOLDER = Path(__file__).resolve().parent

PACKAGE = ProcessPackage(
    name="complaints",
    folder=FOLDER,
    process_keys=frozenset({"complaint", "complaint_received", "complaint_handle", "complaint_recheck"}),
    form_prefixes=("complaints.",),
    submit=_hooks.submit,
    load_demo=_hooks.load_demo,
    order=20,
    catalogs={"en": FOLDER / "translations" / "en.po"},
    production_problems=production_problems,
    case_kinds={"complaint": "投诉举报", "complaint_received": "投诉举报（转办件）",
                "complaint_handle": "投诉举报受理与办理", "complaint_recheck": "复查复核"},
    case_text=_case_search.case_text,
    case_officers=_case_search.case_officers,
    entity_complaints=_hooks.entity_complaints,
    description="投诉举报、信访事项的登记、转办、受理、办理、督办、答复与复查复核",
)

__all__ = [
    "DATA_KEYS", "FORMS", "PACKAGE", "Attachment", "ListFilters", "PublicView", "TrackingRefused",
    "archives_for_entity", "complaint_for_penalty_case", "complaint_of_instance", "counts", "export_csv",
    "export_xlsx", "identity_for", "identity_or_redacted", "list_complaints", "pause", "rate", "redacted",
    "register_by_clerk", "reply_urging", "request_review", "resume", "rotate_identities", "staff_view",
    "statistics", "submit_public", "submit_task", "track",
]

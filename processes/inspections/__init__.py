"""Double-random inspections (双随机一公开): directories, plans, a verifiable draw, the inspections.

The BPMN files beside this module (``inspection_plan``: approval, publication and the draw;
``inspection_task``: one drawn entity's inspection by the drawn pair) are one deployment bundle;
this package is what their tasks need. ``PACKAGE`` registers the family with
``processes.registry``; its ``scheduled`` hook is what the one scheduler process calls each tick
to run due recurring plans exactly once per period. See ``README.md`` here.
"""

from __future__ import annotations

from pathlib import Path

from processes.registry import ProcessPackage

from . import case_search as _case_search
from . import decision_disclosure as _decision_disclosure  # noqa: F401 - registers the decision disclosure form
from . import forms as _forms  # noqa: F401 - registers the task forms
from . import hooks as _hooks
from . import operators as _operators  # noqa: F401 - registers the service-task operators
from .draw import Verification, verify_draw
from .plans import create_plan, submit_plan
from .service import draw_plan, redraw, start_inspections, submit_task

PACKAGE = ProcessPackage(
    name="inspections",
    folder=Path(__file__).resolve().parent,
    process_keys=frozenset({"inspection_plan", "inspection_task", "inspection_draw_signing",
                            "inspection_draw_witness", "inspection_decision_disclosure"}),
    form_prefixes=("inspections.",),
    submit=_hooks.submit,
    load_demo=_hooks.load_demo,
    scheduled=_hooks.scheduled,
    order=30,
    catalogs={"en": Path(__file__).resolve().parent / "domain.en.po"},
    case_kinds={"inspection_plan": "双随机抽查计划", "inspection_task": "双随机抽查检查",
                "inspection_draw_signing": "签署抽取记录",
                "inspection_draw_witness": "见证人录入公开随机数（重新抽取）",
                "inspection_decision_disclosure": "公示行政处罚决定"},
    case_text=_case_search.case_text,
    case_officers=_case_search.case_officers,
    on_entity_event=_hooks.on_entity_event,
    description="双随机一公开：抽查计划、可复核的随机抽取、检查与结果",
)

__all__ = ["PACKAGE", "Verification", "create_plan", "draw_plan", "redraw", "start_inspections", "submit_plan",
           "submit_task", "verify_draw"]

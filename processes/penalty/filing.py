"""The head's extension of the filing period (立案期限, 令第13号), recorded on the day it is approved.

Why an action of its own and not a date on the 立案审批 form: the extension counts only if the head
approved it before the period ended. A date typed into the filing decision afterwards proves nothing
(anyone deciding late could type an earlier day); so the head approves the extension on the case page
while the period runs, and the system records who and when (``case.filing_extension``, audited).
After the period, ``checks.filing_approval`` reads that record: without one, filing is still possible
(a lead is never stuck), but only with the reason for the delay, which is recorded and reported.
"""

from __future__ import annotations

from datetime import datetime

from marshmallow import ValidationError
from sqlalchemy.orm import Session

from engine import Actor, audit
from engine.clock import china_today
from engine.models import ProcessInstance
from engine.scripting import load_calendar

from . import law
from .rule_overrides import rules_for_case
from .service import get_case


def approve_filing_extension(session: Session, actor: Actor, case_id: str, reason: str, *,
                             now: datetime | None = None) -> None:
    """Extend the case's filing period once by ``filing_extension_workdays``: only a head, only for a
    lead not yet decided on, only on or before the last day of the period, only with a reason."""
    case = get_case(session, case_id)
    today = china_today(now)
    if "head" not in actor.roles:
        raise ValidationError({"reason": ["延长立案期限须经本机关负责人批准"]})
    if case.procedure != "ordinary" or case.status != "lead" or case.filing_due is None:
        raise ValidationError({"reason": ["只有尚未决定是否立案的案源可以延长立案期限"]})
    if case.filing_extension:
        raise ValidationError({"reason": ["立案期限已经延长过一次，不能再延长"]})
    if today > case.filing_due:
        raise ValidationError({"reason": [f"立案期限已于{law.cn(case.filing_due)}届满，延长须在届满前批准；"
                                          "请决定是否立案（立案的写明超过期限的原因）"]})
    if not reason.strip():
        raise ValidationError({"reason": ["请写明延长立案期限的理由"]})
    extended = law.filing_extended_due(load_calendar(session), rules_for_case(session, case.id), case.filing_due)
    record = {"approved_on": today.isoformat(), "approved_by": actor.user_id, "reason": reason.strip(),
              "original_due": case.filing_due.isoformat(), "extended_to": extended.isoformat()}
    case.filing_extension, case.filing_due = record, extended
    instance = session.get(ProcessInstance, case.instance_id)
    audit.append(session, actor.user_id, "penalty_filing_extended", instance=instance, data=record, now=now)

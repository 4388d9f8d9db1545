"""The head extends a lead's filing period on the case page (令第13号), while the period runs.

Why a page action and not a field of the filing decision: the extension must be approved before the
period ends, and only a record made at that moment shows it was (``processes.penalty.filing``).
"""

from __future__ import annotations

from flask import Blueprint, flash, request
from flask_babel import gettext as _
from flask_login import login_required
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from processes.penalty.filing import approve_filing_extension
from web.extensions import dbs
from web.security import current_actor

from .penalty import _back, joined_messages, visible_case

bp: Blueprint = Blueprint("penalty_filing", __name__)


@bp.post("/penalty/cases/<case_id>/filing-extension")
@login_required
def filing_extension(case_id: str) -> Response:
    actor = current_actor()
    case = visible_case(actor, case_id)
    try:
        approve_filing_extension(dbs(), actor, case.id, request.form.get("reason", "")[:2000])
    except ValidationError as exc:
        dbs().rollback()
        flash(joined_messages(exc), "error")
        return _back(case)
    dbs().commit()
    flash(_("The filing period is extended."), "success")
    return _back(case)

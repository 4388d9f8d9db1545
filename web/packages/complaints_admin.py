"""The complaint rules on the administration pages: every period and threshold of
``processes/complaints/rules.toml`` with its source and [law]/[practice]/[unconfirmed] label,
changed with a reason (audited) for complaints registered afterwards, as penalty rules are.
The pages are ``web.rules_admin``'s, given this package's store and texts."""

from __future__ import annotations

from flask import Blueprint
from flask_babel import gettext as _
from flask_login import login_required

from processes.complaints import rule_store
from web.rules_admin import add_rule_pages
from web.security import require_roles

bp = Blueprint("admin_complaint_rules", __name__, url_prefix="/admin/complaints")


@bp.before_request
@login_required
@require_roles("admin")
def _admins_only() -> None:
    return None


def _texts() -> dict[str, str]:
    return {"page_title": _("Complaint rules"), "page_heading": _("Complaint rules: periods and thresholds"),
            "edit_heading": _("Change a complaint rule"),
            "page_intro": _("Defaults come from processes/complaints/rules.toml. A change applies to complaints "
                            "registered after it; earlier ones keep the values they were registered under. [law] "
                            "values are fixed by statute: change them only when the law changes.")}


add_rule_pages(bp, rule_store, _texts,
               lambda key: _("%(key)s changed. New complaints use the new value; earlier ones keep theirs.", key=key),
               lambda key: _("%(key)s is back to the default in rules.toml for new complaints.", key=key))

"""The inspection rules on the administration pages: every ratio, weight, exclusion, period and
risk level of ``processes/inspections/rules.toml`` with its source and [law]/[practice]/[unconfirmed]
label, changed with a reason (audited), as penalty and complaint rules are. Plans created after a
change copy the new value; earlier plans and their draws keep theirs (a draw re-verifies with the
numbers it was drawn with). The pages are ``web.rules_admin``'s, given this package's store and texts."""

from __future__ import annotations

from flask import Blueprint
from flask_babel import gettext as _
from flask_login import login_required

from processes.inspections import rule_store
from web.rules_admin import add_rule_pages
from web.security import require_roles

bp = Blueprint("admin_inspection_rules", __name__, url_prefix="/admin/inspections")


@bp.before_request
@login_required
@require_roles("admin")
def _admins_only() -> None:
    return None


def _texts() -> dict[str, str]:
    return {"page_title": _("Inspection rules"),
            "page_heading": _("Random inspection rules: ratios, weights and periods"),
            "edit_heading": _("Change an inspection rule"),
            "page_intro": _("Defaults come from processes/inspections/rules.toml. Plans created after a change use "
                            "the new value; earlier plans and their draws keep theirs, so a draw always re-verifies "
                            "with the numbers it was drawn with. [law] values are fixed by statute: change them only "
                            "when the law changes.")}


add_rule_pages(bp, rule_store, _texts,
               lambda key: _("%(key)s changed. Plans created from now on use the new value.", key=key),
               lambda key: _("%(key)s is back to the default in rules.toml for new plans.", key=key))

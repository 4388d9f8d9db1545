"""The forms before a court enforcement application (申请人民法院强制执行): the written reminder's
service (催告书送达) and the application itself.

Why a module of its own: 行政强制法 Art. 54 puts a step between "the remedy windows closed and the
fine is unpaid" and "apply to the court": a 催告书 is served, the party may state and defend, and
only after its 10-day period (``periods.enforcement_reminder_days``) may the agency apply. The
checks that need the case (the recorded service date, the earliest application date) are in
``checks_enforcement``.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, validates_schema

from .formfields import amount, choice, day, text
from .forms_service import SERVICE_METHODS


class EnforcementReminderForm(Schema):
    """The 催告书 was served: when, how and to whom; and what the party said (Art. 54, 35)."""

    served_on = day("催告书送达日期", past=True)
    method = choice("送达方式", SERVICE_METHODS)
    receiver = text("收件人", max_length=200)
    statement = text("当事人陈述、申辩", required=False, long=True)


class UrgePaymentForm(Schema):
    """A payment while the 催告书's period runs (Art. 54: the court is asked only if the party "仍未履行"
    when it ends); a payment that settles what is owed ends the enforcement path, the case closes."""

    paid_on = day("缴款日期", past=True)
    amount = amount("缴款金额", required=True)
    note = text("说明", required=False, long=True)

    @validates_schema
    def _positive(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not data.get("amount"):
            raise ValidationError({"amount": ["请填写缴款金额"]})


class EnforcementForm(Schema):
    """The court application (Art. 53), or a payment the party made after the 催告书 but before the
    application: Art. 54 asks the court only if the party "仍未履行", so a payment in full (fine,
    confiscation and the surcharge up to the payment day) is recorded instead of an application and
    the case closes; a part payment is recorded and the application goes ahead for the rest
    (``checks_enforcement.enforcement``)."""

    paid_on = day("缴款日期", required=False, past=True)
    amount = amount("缴款金额")
    receipt_no = text("缴款凭证号码", required=False, max_length=100)
    applied_on = day("申请强制执行日期", required=False, past=True)
    court = text("受理法院", required=False, max_length=200)
    note = text("说明", required=False, long=True)

    @validates_schema
    def _payment_or_application(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("paid_on") or data.get("amount") or (data.get("receipt_no") or "").strip():
            if not data.get("paid_on"):
                raise ValidationError({"paid_on": ["请填写缴款日期"]})
            if not data.get("amount"):
                raise ValidationError({"amount": ["请填写缴款金额"]})
            if not (data.get("receipt_no") or "").strip():
                raise ValidationError({"receipt_no": ["请填写缴款凭证号码"]})
        elif not data.get("applied_on"):
            raise ValidationError({"applied_on": ["请填写申请强制执行日期；"
                                                  "当事人已缴清的，填写缴款日期、金额和凭证号码"]})
        if data.get("applied_on") and not (data.get("court") or "").strip():
            raise ValidationError({"court": ["请填写受理法院"]})


ENFORCEMENT_FORMS: dict[str, tuple[type[Schema], str, str]] = {
    "penalty.enforcement_reminder": (EnforcementReminderForm, "enforcement_reminder", "送达催告书"),
    "penalty.urge_payment": (UrgePaymentForm, "urge_payment", "催告期间履行登记"),
    "penalty.enforcement": (EnforcementForm, "enforcement", "申请强制执行"),
}
"""form key -> (schema, task-data key, title), merged into ``forms.FORMS`` like the endings."""

"""Each head's confirmation of the collective discussion record (负责人集体讨论, Art. 57(2)).

Why a step per participant: the record of a collective discussion is only worth what its
participants vouch for. The head who records the discussion picks the participants from the
directory's heads (``CollectiveDiscussionForm.participants``, checked in ``checks_decision``); each of
them then gets a task of their own (``confirm_discussion``, multi-instance, not reassignable) to
confirm that they took part and that the record matches the discussion, with their own opinion if
they hold a different view. A participant who does not confirm must say why; the record then goes
back to the head to be corrected (and confirmed again by everyone).
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, validates_schema

from .formfields import flag, text


class DiscussionConfirmationForm(Schema):
    confirmed = flag("本人参加了讨论，记录与讨论一致")
    opinion = text("本人意见（保留意见等）", required=False, long=True)
    objection = text("记录与讨论不一致之处", required=False, long=True)

    @validates_schema
    def _objection(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not data.get("confirmed") and not (data.get("objection") or "").strip():
            raise ValidationError({"objection": ["不确认的，请写明记录与讨论不一致之处，记录将退回重新整理"]})


DISCUSSION_FORMS: dict[str, tuple[type[Schema], str, str]] = {
    "penalty.discussion_confirmation": (DiscussionConfirmationForm, "confirmation", "确认集体讨论记录"),
}
"""form key -> (schema, task-data key, title), merged into ``forms.FORMS`` like the endings. The data
key is the multi-instance output item of ``confirm_discussion``."""

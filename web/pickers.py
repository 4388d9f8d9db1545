"""The choices of a form's entity, staff, people and unit pickers, each with what it can be found by.

Every option carries its name, the pinyin initials of the name (张伟 -> zw; a character read two
ways gives each reading's initial), and its codes (login name and certificate number, a unit's
code, an entity's credit code). web/static/picker.js filters the options by them as the user
types; without JavaScript the same `<select>` (or datalist) works as before, posting the same values.
A person's label tells two people apart: certificate number, roles, unit and whether the
certificate is still valid (an expired one is listed and marked; the form's own checks decide).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from itertools import islice, product
from typing import NamedTuple

from flask import Flask
from flask_babel import gettext as _
from markupsafe import Markup
from pypinyin import Style, pinyin
from sqlalchemy import select

from engine.clock import china_today
from forms import FieldSpec
from processes.directory.models import ROLES, Unit, User
from processes.directory.services import search_entities, staff_in_units

from .extensions import dbs
from .i18n import domain_text
from .security import current_actor

MAX_INITIALS = 8  # readings kept per name: a name of many two-reading characters stays small


class PickerOption(NamedTuple):
    value: str
    label: str
    name: str  # found by substring
    initials: str  # space-separated pinyin initials of the name, found by prefix
    codes: str  # space-separated login name, certificate number, unit code or credit code, by substring


@lru_cache(maxsize=8192)
def pinyin_initials(name: str) -> str:
    """The name's pinyin initials, lower case, every reading of a character with several
    (单 -> d or s): ``"zw"`` for 张伟. Other characters are kept (lower case), spaces dropped."""
    letters = [sorted({syllable[:1].lower() for syllable in readings if syllable.strip()}) or [""]
               for readings in pinyin(name, style=Style.FIRST_LETTER, heteronym=True, errors="default")]
    readings = ("".join(combo) for combo in product(*letters))
    return " ".join(dict.fromkeys(r.replace(" ", "") for r in islice(readings, MAX_INITIALS)))


def certificate_validity(valid_until: date | None, today: date) -> str:
    """执法证有效至YYYY-MM-DD or 执法证已过期; nothing when no date is recorded."""
    if valid_until is None:
        return ""
    if valid_until < today:
        return _("certificate expired")
    return _("certificate valid until %(date)s", date=valid_until.isoformat())


def person_label(user: User, unit_name: str, today: date) -> str:
    """Name, certificate, roles, unit and validity: what tells two people of one unit apart."""
    roles = "、".join(domain_text(ROLES.get(r, r)) for r in user.roles or [])  # in the UI language
    parts = [f"{user.display_name}（{user.certificate_no or _('no certificate')}）", roles, unit_name]
    if user.certificate_no:
        parts.append(certificate_validity(user.certificate_valid_until, today))
    return " · ".join(p for p in parts if p)


def person_options(users: Iterable[User], by_name: bool = False) -> list[PickerOption]:
    """One option per person; the value is the login name, or the name for a names-only field."""
    people = list(users)
    unit_ids = sorted({u.unit_id for u in people})
    units = dict(dbs().execute(select(Unit.id, Unit.name).where(Unit.id.in_(unit_ids))).all()) if unit_ids else {}
    today = china_today()
    return [PickerOption(u.display_name if by_name else u.id, person_label(u, units.get(u.unit_id, ""), today),
                         u.display_name, pinyin_initials(u.display_name),
                         " ".join(c for c in (u.id, u.certificate_no) if c))
            for u in people]


def option_data(name: str, *codes: str | None) -> Markup:
    """The attributes picker.js finds an option by, for a page's own `<option>` (templates:
    ``picker_option(u.display_name, u.id, u.certificate_no)``)."""
    return Markup(' data-name="{}" data-initials="{}" data-codes="{}"').format(
        name, pinyin_initials(name), " ".join(c for c in codes if c))


def search_texts(label: str) -> Markup:
    """Marks a `<select>` as a picker: the search box's accessible name, placeholder and no-match line."""
    return Markup(' data-picker="{}" data-picker-placeholder="{}" data-picker-none="{}"').format(
        label, _("Name, pinyin initials or number"), _("No match"))


def init_pickers(app: Flask) -> None:
    app.add_template_global(option_data, "picker_option")
    app.add_template_global(search_texts, "picker_search")
    app.add_template_global(person_options, "person_choices")  # labels with certificate, roles, unit, validity


def picker_options(specs: list[FieldSpec]) -> dict[str, list[PickerOption]]:
    """Choices for entity, staff and unit pickers: what the actor's units hold (units: those units)."""
    actor = current_actor()
    options: dict[str, list[PickerOption]] = {}
    for spec in specs:
        if spec.widget == "entity":
            options[spec.name] = [PickerOption(e.credit_code, f"{e.name}（{e.credit_code}）", e.name,
                                               pinyin_initials(e.name), e.credit_code)
                                  for e in search_entities(dbs(), actor, "", limit=300)]
        elif spec.widget in ("staff", "people", "staffnames"):
            staff = staff_in_units(dbs(), actor.unit_ids, spec.attrs.get("role"))
            options[spec.name] = person_options(staff, by_name=spec.widget == "staffnames")
        elif spec.widget == "unit":
            options[spec.name] = [PickerOption(u.id, u.name, u.name, pinyin_initials(u.name), u.id)
                                  for u in dbs().scalars(select(Unit).where(Unit.id.in_(sorted(actor.unit_ids)),
                                                                            Unit.active).order_by(Unit.path))]
    return options

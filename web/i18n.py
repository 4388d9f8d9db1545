"""UI translations: English message ids in the code, a Chinese catalog (the default language).

The catalogs are ``web/translations/<locale>/LC_MESSAGES/messages.po`` (``zh_Hans_CN``: Flask-
Babel 4 resolves the ``zh_CN`` the locale selector returns to that folder). The compiled
``messages.mo`` files are committed next to them, so a checkout runs without a build step;
``weijian i18n compile`` regenerates them and a test fails when a ``.mo`` is stale.

Updating after UI text changes::

    pybabel extract -F web/babel.cfg -o web/translations/messages.pot .
    pybabel update -i web/translations/messages.pot -d web/translations -l zh_Hans_CN
    (translate the new entries in the .po)
    weijian i18n compile
"""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def catalogs() -> list[Path]:
    return sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))


def compiled_bytes(po_path: Path) -> bytes:
    """The .mo a .po compiles to (deterministic: same .po, same bytes)."""
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=po_path.parent.parent.name)
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def compile_catalogs() -> list[Path]:
    written = []
    for po in catalogs():
        mo = po.with_suffix(".mo")
        data = compiled_bytes(po)
        if not mo.exists() or mo.read_bytes() != data:
            mo.write_bytes(data)
            written.append(mo)
    return written


def stale_catalogs() -> list[Path]:
    """Catalogs whose committed .mo does not match their .po."""
    return [po for po in catalogs()
            if not po.with_suffix(".mo").exists() or po.with_suffix(".mo").read_bytes() != compiled_bytes(po)]

"""UI translations in two directions, because the two kinds of text have different sources.

Shell text (buttons, headings, flash messages) has English message ids in the code and a Chinese
catalog, ``web/translations/zh_Hans_CN/LC_MESSAGES/messages.po`` (Flask-Babel 4 resolves the
``zh_CN`` the locale selector returns to that folder).

Domain text (form labels, help and choices, validation messages of forms and penalty rules, BPMN
task names and instructions, status labels) is written in Chinese at its source, because the
law's vocabulary is Chinese and the OpenAPI document, the BPMN files and the legal documents use
it as is. Its English catalog is keyed by the Chinese text: ``web/translations/en/LC_MESSAGES/
domain.po``, looked up at render time by ``domain_text``. A message made with values (``不能超过
{n}个字``) has a msgid with named ``{placeholders}``; it matches the formatted text and each value
is translated in turn (a Chinese date inside a message comes out as year-month-day). Text without an
English entry stays Chinese: better than a machine-made name.

The compiled ``.mo`` files are committed next to their ``.po``, so a checkout runs without a
build step; ``weijian i18n compile`` regenerates them and a test fails when a ``.mo`` is stale.

Updating after UI text changes::

    pybabel extract -F web/babel.cfg -o web/translations/messages.pot .
    pybabel update -i web/translations/messages.pot -d web/translations -l zh_Hans_CN
    (translate the new entries in the .po)
    weijian i18n compile

Domain text: add the Chinese text and its English to ``en/LC_MESSAGES/domain.po`` by hand
(``tests/web/test_i18n.py`` names what is missing), then ``weijian i18n compile``. A process
package may instead keep its own English entries in a ``.po`` it names in
``ProcessPackage.catalogs`` (read as it is, no compile step; ``domain.po`` wins on a clash).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
DOMAIN = "domain"
_CJK = re.compile(r"[\u3400-\u9fff\uff08-\uff1b\u3001-\u3011]")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_MAX_DEPTH = 3


def catalogs() -> list[Path]:
    """Every catalog: the UI's ``messages`` and the domain text's ``domain``."""
    return sorted(TRANSLATIONS.glob("*/LC_MESSAGES/*.po"))


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
    domain_catalog.cache_clear()
    return written


def stale_catalogs() -> list[Path]:
    """Catalogs whose committed .mo does not match their .po."""
    return [po for po in catalogs()
            if not po.with_suffix(".mo").exists() or po.with_suffix(".mo").read_bytes() != compiled_bytes(po)]


# -- domain text: Chinese at the source, English by lookup -----------------------------------------

@dataclass
class DomainCatalog:
    """One language's domain translations: exact texts, and patterns for texts made with values."""

    exact: dict[str, str] = field(default_factory=dict)
    patterns: list[tuple[re.Pattern[str], str]] = field(default_factory=list)

    def add(self, source: str, target: str) -> None:
        if not _PLACEHOLDER.search(source):
            self.exact[source] = target
            return
        regex, pos = "", 0
        for match in _PLACEHOLDER.finditer(source):
            regex += re.escape(source[pos:match.start()]) + f"(?P<{match.group(1)}>.+?)"
            pos = match.end()
        regex += re.escape(source[pos:])
        self.patterns.append((re.compile(regex, re.DOTALL), target))
        # The pattern with the most fixed text wins when several match.
        self.patterns.sort(key=lambda p: -len(_PLACEHOLDER.sub("", p[0].pattern)))

    def _fill(self, target: str, match: re.Match[str], depth: int) -> str:
        """The English pattern with the matched values, each translated in turn (a date, a kind)."""
        values = {k: self.translate(v, depth + 1) or v for k, v in match.groupdict().items()}
        return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), target)

    def translate(self, text: str, depth: int = 0) -> str | None:
        if text in self.exact:
            return self.exact[text]
        if depth >= _MAX_DEPTH:
            return None
        for regex, target in self.patterns:
            match = regex.fullmatch(text)
            if match:
                return self._fill(target, match, depth)
        if "、" in text:  # a list of choice labels, as format_value joins them
            parts = [self.translate(p, depth + 1) for p in text.split("、")]
            if all(parts):
                return ", ".join(p for p in parts if p)
        return None


def domain_po(language: str) -> Path:
    return TRANSLATIONS / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=8)
def domain_catalog(language: str) -> DomainCatalog | None:
    """The domain catalog of ``language`` (``en``), or None when there is none: the compiled
    ``domain.mo`` here, then each process package's own ``.po`` for that language
    (``ProcessPackage.catalogs``; an entry here wins over a package's)."""
    from processes.registry import discover

    mo = domain_po(language).with_suffix(".mo")
    package_po = [path for package in discover() if (path := package.catalogs.get(language)) and path.exists()]
    if not mo.exists() and not package_po:
        return None
    catalog = DomainCatalog()
    for po in package_po:
        with po.open("rb") as fh:
            for message in read_po(fh, locale=language):
                _add_message(catalog, message.id, message.string)
    if mo.exists():
        with mo.open("rb") as fh:
            for message in read_mo(fh):
                _add_message(catalog, message.id, message.string)
    return catalog


def _add_message(catalog: DomainCatalog, msgid: object, msgstr: object) -> None:
    if msgid and isinstance(msgid, str) and isinstance(msgstr, str) and msgstr:
        catalog.add(msgid, msgstr)


def current_language() -> str:
    """The request's UI language (``zh`` outside a request: services and documents speak Chinese)."""
    from flask import has_request_context
    from flask_babel import get_locale

    if not has_request_context():
        return "zh"
    locale = get_locale()
    return locale.language if locale is not None else "zh"


def domain_text(text: object, language: str | None = None) -> str:
    """Chinese domain text in the UI language: its English when the user chose English and an
    entry exists, else the text itself."""
    if text is None:
        return ""
    value = str(text)
    if not _CJK.search(value):
        return value
    lang = language or current_language()
    if lang == "zh":
        return value
    catalog = domain_catalog(lang)
    translated = catalog.translate(value) if catalog is not None else None
    return translated if translated is not None else value


def has_domain_translation(text: str, language: str = "en") -> bool:
    """Whether ``text`` (a label, a choice, a message) has an entry in ``language``'s catalog."""
    catalog = domain_catalog(language)
    return catalog is not None and catalog.translate(text) is not None

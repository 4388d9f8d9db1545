"""Every text a user sees from the deployed BPMN/DMN has an English entry.

Task titles in inboxes, instructions on task pages, process names on case pages, lane and
element labels on diagrams, decision-table names: they come from the process files, in
Chinese. Changing a file's text without adding its English makes this test fail, instead of
an English-speaking user silently seeing Chinese.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from web.i18n import has_domain_translation

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
SEEN = ("process", "userTask", "manualTask", "task", "serviceTask", "scriptTask", "businessRuleTask",
        "callActivity", "subProcess", "lane", "startEvent", "endEvent", "intermediateCatchEvent",
        "intermediateThrowEvent", "boundaryEvent", "exclusiveGateway", "parallelGateway", "inclusiveGateway",
        "eventBasedGateway", "decision", "sequenceFlow")


def _texts(path: Path) -> list[tuple[str, str]]:
    root = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    found = []
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        local = etree.QName(el).localname
        if local in SEEN and (el.get("name") or "").strip():
            found.append((f"{local} {el.get('id')}", el.get("name").strip()))
        if local == "documentation" and (el.text or "").strip():
            found.append((f"documentation of {el.getparent().get('id')}", el.text.strip()))
    return found


FILES = sorted([*PROCESSES.rglob("*.bpmn"), *PROCESSES.rglob("*.dmn")])


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PROCESSES)))
def test_process_texts_have_english(path: Path) -> None:
    missing = [f"{where}: {text!r}" for where, text in _texts(path)
               if any("\u4e00" <= ch <= "\u9fff" for ch in text) and not has_domain_translation(text)]
    assert not missing, (f"{path.name}: add these to web/translations/en/LC_MESSAGES/domain.po "
                         f"(then weijian i18n compile):\n" + "\n".join(missing))

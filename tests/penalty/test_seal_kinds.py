"""Which penalty documents carry the unit's seal: every outward one (decisions, notices, letters),
no internal one, and each sealed kind's template actually draws the seal where the field goes."""

from __future__ import annotations

from pathlib import Path

import pytest

from processes.penalty.documents import DOC_TYPES
from processes.penalty.seal import OUTWARD_KINDS

TEMPLATES = Path(__file__).resolve().parents[2] / "processes" / "penalty" / "templates"
OUTWARD_TITLES = ("决定书", "告知书", "移送书", "移送函", "催告书")  # documents addressed to a party or authority


def _draws_seal(kind: str) -> bool:
    return '{% include "_seal.html" %}' in (TEMPLATES / DOC_TYPES[kind].template).read_text(encoding="utf-8")


@pytest.mark.parametrize("kind", sorted(k for k, spec in DOC_TYPES.items() if spec.template))
def test_outward_documents_and_only_they_are_sealed(kind: str) -> None:
    outward = any(word in DOC_TYPES[kind].title for word in OUTWARD_TITLES)
    assert (kind in OUTWARD_KINDS) == outward, f"{DOC_TYPES[kind].title}: outward={outward}"
    assert _draws_seal(kind) == outward, f"{DOC_TYPES[kind].template} and the seal image disagree"

"""An expression of thousands of ``1+1+…`` terms made Python's parser raise ``RecursionError``
(a crash of deploy); it is now refused as any other expression: ``InvalidDefinition`` naming the
element, with a message saying what is wrong, and nothing stored."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import InvalidDefinition, deploy
from engine.actor import SYSTEM
from engine.definitions import read_bundle
from engine.models import ProcessDefinition
from engine.settings import PROJECT_ROOT
from tests.engine_helpers import bundle

DEEP = "+".join(["1"] * 3000)


def _refused(session: Session, files: dict[str, bytes]) -> InvalidDefinition:
    with pytest.raises(InvalidDefinition) as err:
        deploy(session, files, SYSTEM)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(ProcessDefinition)) == 0
    return err.value


def test_deep_gateway_condition_is_refused_at_deploy(db_session: Session) -> None:
    xml = bundle("lead")["lead.bpmn"].decode().replace("amount &gt; 10000", f"{DEEP} &gt; 1")
    err = _refused(db_session, {"lead.bpmn": xml.encode()})
    assert err.element_id == "serious" and "nested too deeply" in err.message


@pytest.mark.parametrize("cell", [DEEP, f"{DEEP} in ?"])
def test_deep_decision_table_cell_is_refused_at_deploy(db_session: Session, cell: str) -> None:
    files = read_bundle(PROJECT_ROOT / "processes" / "penalty")
    dmn = files["hearing_right.dmn"].decode()
    original = "<text>'licence_revocation' in ?</text>"
    assert original in dmn
    files["hearing_right.dmn"] = dmn.replace(original, f"<text>{cell}</text>").encode()
    err = _refused(db_session, files)
    assert err.filename == "hearing_right.dmn" and err.element_id == "hearing_right_r1_i1"
    assert "nested too deeply" in err.message

"""BPMN saved by Chinese modelling tools in GBK, GB2312 or UTF-16 deploys and runs like UTF-8.

Before, ``deploy`` stored ``files[n].decode("utf-8")`` and crashed with ``UnicodeDecodeError``.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import InvalidDefinition, complete_task, deploy, start
from engine.actor import SYSTEM
from engine.caches import clear_caches
from engine.definitions import load_spec
from engine.errors import UnsafeXml
from engine.models import HumanTask, ProcessDefinition, ProcessInstance
from tests.engine_helpers import OFFICER, bundle

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


def _lead_as(encoding: str, codec: str, bom: bytes = b"", title: str = "登记案源") -> bytes:
    xml = bundle("lead")["lead.bpmn"].decode("utf-8")
    assert xml.startswith(DECLARATION)
    xml = xml.replace("登记案源", title).replace(DECLARATION, f'<?xml version="1.0" encoding="{encoding}"?>')
    return bom + xml.encode(codec)


@pytest.mark.parametrize(("encoding", "codec", "bom", "title"), [
    ("GBK", "gbk", b"", "登记案源"),
    ("GB2312", "gbk", b"", "登记案源（喆）"),  # 喆 is GBK only: tools declare GB2312 and write GBK
    ("gb18030", "gb18030", b"", "登记案源"),
    ("UTF-16", "utf-16-le", b"\xff\xfe", "登记案源"),
    ("UTF-16", "utf-16-be", b"\xfe\xff", "登记案源"),
])
def test_bpmn_in_another_encoding_deploys_and_runs(db_session: Session, encoding: str, codec: str, bom: bytes,
                                                   title: str) -> None:
    data = _lead_as(encoding, codec, bom, title)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # the fixture really is not UTF-8
    [definition] = deploy(db_session, {"lead.bpmn": data}, SYSTEM)
    db_session.commit()
    stored = definition.sources["lead.bpmn"]
    assert title in stored and "案源登记" in stored
    assert stored.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert definition.name == "案源登记"

    clear_caches()  # the next use parses the stored text again, as another process would
    assert load_spec(definition).spec.task_specs["register"].bpmn_name == title
    instance = start(db_session, "case_lead", OFFICER, {})
    db_session.commit()
    [task] = db_session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id))
    assert task.title == title
    complete_task(db_session, task.id, OFFICER, {"amount": 10})
    db_session.commit()
    assert db_session.get(ProcessInstance, instance.id).status == "completed"  # type: ignore[union-attr]

    again = deploy(db_session, {"lead.bpmn": data}, SYSTEM)
    assert [d.id for d in again] == [definition.id]  # the same bytes are the same version


def test_utf8_files_are_stored_byte_for_byte(db_session: Session) -> None:
    files = bundle("lead")
    [definition] = deploy(db_session, files, SYSTEM)
    assert definition.sources["lead.bpmn"].encode("utf-8") == files["lead.bpmn"]


@pytest.mark.parametrize(("data", "problem"), [
    (_lead_as("GBK", "utf-8"), "not valid GB18030"),  # says GBK, is UTF-8: refused, not mis-read
    (_lead_as("klingon-8", "utf-8"), "unknown character encoding"),
])
def test_a_file_that_is_not_in_its_declared_encoding_is_refused(db_session: Session, data: bytes,
                                                                problem: str) -> None:
    with pytest.raises(InvalidDefinition) as err:
        deploy(db_session, {"lead.bpmn": data}, SYSTEM)
    db_session.rollback()
    assert isinstance(err.value, UnsafeXml) and problem in err.value.message
    assert err.value.filename == "lead.bpmn"
    assert db_session.scalar(select(func.count()).select_from(ProcessDefinition)) == 0

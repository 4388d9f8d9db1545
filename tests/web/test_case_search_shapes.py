"""The case list's search box has a fast shape (one text indexed by pg_trgm, an IN over a UNION
for words of three characters or more) and finds exactly what the plain shape finds (three
ILIKEs OR'ed with the packages' records), on SQLite and on PostgreSQL; on PostgreSQL the long
word's shape can be answered from ``ix_process_instance_search_trgm``. The shape used for a
dense page (walking the order) and the one narrowed to the caller's scope find the same too."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import ColumnElement, and_, or_, select, text, union
from sqlalchemy.orm import Session

from engine.dbconnect import make_engine
from engine.models import ProcessDefinition, ProcessInstance
from processes.case_search import contains_pattern, matches
from processes.penalty.models import PenaltyCase
from processes.registry import discover, packages
from web.case_query import _ids, text_condition

pi = ProcessInstance
ROWS = [  # business key, entity name, credit code
    ("渭卫罚〔2026〕7号", "康宁诊所", "92610302MA6X8K21AY"),
    ("渭卫罚〔2026〕17号", "康宁口腔门诊部", "92610302MA6X9C3022"),
    ("L-100%", "第二自来水公司", None),
    ("CF2025-000345", None, "91610302220578130X"),
    (None, "宝鸡市仁和诊所_分部", "92610303MA6Y1T4R0A"),
    ("TS2026-1", "所", "9"),
]
WORDS = ["康", "康宁", "康宁诊所", "诊所", "所9", "所 9", "2026", "〔2026〕7", "ma6x", "MA6X8", "100%", "_分部",
         "%", "_", "345", "0003", "王德发", "注射美容", "不存在的名字"]


def plain(word: str) -> ColumnElement[bool]:
    """The search before the index: each column on its own, then the packages' records."""
    pattern = contains_pattern(word)
    hooks = [_ids(p.case_text(pattern)) for p in packages() if p.case_text is not None]
    return or_(matches(pi.business_key, pattern), matches(pi.entity_name, pattern), matches(pi.entity_id, pattern),
               pi.id.in_(union(*hooks)))


def fill(session: Session) -> None:
    session.add(ProcessDefinition(id=1, process_key="bench", name="bench", version=1, content_hash="x",
                                  sources={}, summary={}, deployed_by="t", deployed_at=datetime.now(UTC)))
    started = datetime(2026, 1, 5, tzinfo=UTC)
    for n, (key, name, code) in enumerate(ROWS):
        instance_id = str(uuid.uuid4())
        session.add(ProcessInstance(id=instance_id, definition_id=1, process_key="bench", business_key=key,
                                    unit_id="U", entity_id=code, entity_name=name, status="running", state=b"",
                                    serializer_version="3", started_by="t", started_at=started + timedelta(days=n)))
        if n == 0:
            session.flush()
            session.add(PenaltyCase(id=str(uuid.uuid4()), instance_id=instance_id, procedure="ordinary",
                                    unit_id="U", unit_name="渭滨区卫生监督所", unit_short_name="渭滨",
                                    legal_representative="王德发", violation="开展注射美容项目"))
    session.commit()


def found(session: Session, condition: ColumnElement[bool]) -> set[str]:
    return set(session.scalars(select(pi.business_key).where(condition).where(pi.process_key == "bench")))


def compare(session: Session) -> None:
    discover()
    scope = (pi.started_at >= datetime(2026, 1, 6, tzinfo=UTC),)  # as a visibility or filter condition
    for word in WORDS:
        for piece in word.split():
            expected = found(session, plain(piece))
            assert found(session, text_condition(piece)) == expected, piece
            assert found(session, text_condition(piece, dense=True)) == expected, piece
            in_scope = found(session, and_(plain(piece), *scope))
            assert found(session, and_(text_condition(piece, scope), *scope)) == in_scope, piece
    assert found(session, text_condition("康宁")) == {"渭卫罚〔2026〕7号", "渭卫罚〔2026〕17号"}
    assert found(session, text_condition("所9")) == set(), "a word never spans two columns"
    assert found(session, text_condition("100%")) == {"L-100%"} and found(session, text_condition("_分部")) == {None}


def test_fast_and_plain_search_agree_on_sqlite(db_url: str) -> None:
    engine = make_engine(db_url)
    with Session(engine) as session:
        fill(session)
        compare(session)
    engine.dispose()


@pytest.fixture
def pg_session(pg_url: str) -> Iterator[Session]:
    engine = make_engine(pg_url)
    with Session(engine) as session:
        yield session
    engine.dispose()


@pytest.mark.postgres
def test_fast_and_plain_search_agree_on_postgres_and_the_index_serves_long_words(pg_session: Session) -> None:
    fill(pg_session)
    compare(pg_session)
    pg_session.execute(text("SET LOCAL enable_seqscan = off"))  # a 6-row table: make the planner show its options
    statement = select(pi.id).where(text_condition("康宁诊所"))
    sql = str(statement.compile(pg_session.get_bind(), compile_kwargs={"literal_binds": True}))
    plan = "\n".join(row[0] for row in pg_session.execute(text("EXPLAIN " + sql)))
    assert "ix_process_instance_search_trgm" in plan, plan

"""A Celery worker refuses to start while a deployed (or bundled) BPMN service task names an
operator that no process package registered: each of its jobs would otherwise fail and become
an incident, one case at a time."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from engine import deploy
from engine.actor import SYSTEM
from engine.settings import Settings
from integrations.celery_app import check_operators
from processes.registry import unregistered_operators
from tests.engine_helpers import bundle
from tests.operators import echo

assert echo  # registers test.echo, which the service fixture calls


def _deploy_service(session: Session, operator: str) -> None:
    files = bundle("service")
    files["service.bpmn"] = files["service.bpmn"].replace(b'serviceTaskOperator id="test.echo"',
                                                          f'serviceTaskOperator id="{operator}"'.encode())
    deploy(session, files, SYSTEM)
    session.commit()


def test_a_worker_starts_when_every_named_operator_is_registered(db_url: str, db_session: Session) -> None:
    _deploy_service(db_session, "test.echo")
    assert unregistered_operators(db_session) == {}
    check_operators(Settings(database_url=db_url))  # no SystemExit


def test_a_worker_refuses_to_start_naming_the_missing_operator(db_url: str, db_session: Session) -> None:
    _deploy_service(db_session, "nobody.registered_this")
    assert unregistered_operators(db_session) == {"nobody.registered_this": ["with_service v1"]}
    with pytest.raises(SystemExit, match=r"nobody\.registered_this \(named in with_service v1\)"):
        check_operators(Settings(database_url=db_url))

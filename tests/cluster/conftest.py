"""One cluster per module (gunicorn, two Celery workers, two schedulers on a fresh PostgreSQL
database and Redis db): starting it costs most of a minute on this machine, so the fault tests
share it and each test restarts what it killed. Skipped with the reason when PostgreSQL or
Redis is unreachable; a failure under ``CI=true``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from bench.cluster import Cluster, ClusterError, services_reachable


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "cluster: starts the scale-out cluster as processes and kills some "
                                       "(select with -m cluster; needs PostgreSQL and Redis)")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    problem = services_reachable()
    if problem:
        message = f"cluster services unreachable: {problem}"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true: services are required)")
        pytest.skip(message)
    group = Cluster(tmp_path_factory.mktemp("cluster"))
    try:
        group.create()
        _deploy_timer_fixture(group)
        group.start(timeout=90)
    except ClusterError as exc:
        group.destroy()
        pytest.fail(str(exc))
    except BaseException:
        group.destroy()
        raise
    try:
        yield group
    finally:
        group.destroy()


def _deploy_timer_fixture(group: Cluster) -> None:
    """The ``timed`` fixture process (a timer of the duration we give it), for the scheduler test."""
    from engine import deploy
    from engine.actor import SYSTEM
    from engine.dbconnect import make_engine
    from tests.engine_helpers import bundle

    engine = make_engine(group.db_url)
    try:
        with Session(engine) as session:
            deploy(session, bundle("timers"), SYSTEM)
            session.commit()
    finally:
        engine.dispose()


@pytest.fixture
def cluster_db(cluster: Cluster) -> Iterator[Session]:
    from engine.dbconnect import make_engine

    engine = make_engine(cluster.db_url)
    with Session(engine) as session:
        yield session
    engine.dispose()



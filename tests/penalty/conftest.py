"""Fixtures for penalty tests: a template database with the penalty bundle and PKI, one copy per test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import signing
from tests.penalty.driver import PenaltyWorld, prepare_template, world_fixture


@pytest.fixture(scope="session")
def penalty_template(_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
                     ) -> tuple[Path, dict[str, signing.ServerKeySigner]]:
    path = tmp_path_factory.mktemp("penalty") / "penalty-template.db"
    shutil.copyfile(_sqlite_template, path)
    return path, prepare_template(path)


@pytest.fixture
def world(penalty_template: tuple[Path, dict[str, signing.ServerKeySigner]], tmp_path: Path
          ) -> Iterator[PenaltyWorld]:
    yield from world_fixture(penalty_template, tmp_path)

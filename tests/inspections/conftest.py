"""Fixtures for inspection tests: a template database with both bundles and a small directory."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.inspections.driver import InspectionWorld, prepare_template, world_fixture


@pytest.fixture(scope="session")
def inspections_template(_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("inspections") / "inspections-template.db"
    shutil.copyfile(_sqlite_template, path)
    prepare_template(path)
    return path


@pytest.fixture
def world(inspections_template: Path, tmp_path: Path) -> Iterator[InspectionWorld]:
    yield from world_fixture(inspections_template, tmp_path)

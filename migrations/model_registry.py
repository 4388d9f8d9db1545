"""Imports every models module so Alembic sees all tables; one list, no import-order tricks."""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

MODEL_MODULES = (
    "engine.models",
    "signing.models",
    "processes.penalty.models",
    "processes.penalty.rule_overrides",
    "processes.complaints.models",
    "processes.inspections.models",
    "processes.directory.models",
    "web.models",
)


def all_metadata() -> list[MetaData]:
    metadatas: list[MetaData] = []
    for name in MODEL_MODULES:
        module = importlib.import_module(name)
        base = getattr(module, "Base", None)
        if base is not None and base.metadata not in metadatas:
            metadatas.append(base.metadata)
    return metadatas

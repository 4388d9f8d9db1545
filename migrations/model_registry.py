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
    "processes.inspections.decision_models",
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


# Indexes over an expression Alembic cannot compare: PostgreSQL hands the expression back
# rewritten (casts, brackets), so autogenerate would drop and re-create it on every run. Their
# migrations create them by hand; a test of each one's user checks that the query uses it
# (ix_process_instance_search_trgm: tests/web/test_case_search_shapes.py).
UNCOMPARED_INDEXES = frozenset({"ix_process_instance_search_trgm"})


def compared(obj: object, name: str | None, type_: str, dialect: str) -> bool:
    """Autogenerate's filter: skip what a model declares for other dialects only
    (``info["dialects"]``) and the expression indexes above."""
    if type_ == "index" and name in UNCOMPARED_INDEXES:
        return False
    dialects = getattr(obj, "info", {}).get("dialects")
    return not dialects or dialect in dialects


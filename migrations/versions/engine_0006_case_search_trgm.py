"""The staff case list's search box from an index (PostgreSQL).

``/cases`` searches the case number, entity name and credit code of every case a user may see;
a province head sees all of them, and ``ILIKE '%word%'`` on three columns read every row
(about 0.6 s at 200,000 cases). One pg_trgm GIN index over the three as one text
(``engine.models.CASE_SEARCH_TEXT``, the expression the query uses) finds a word of three
characters or more from the index. pg_trgm was created by engine_0004.

Also ``started_by`` gets an index (both databases): what a user may see is "their units' cases or
the cases they started", and without it that OR reads the whole table for a county head; with
it the database combines three index lookups.

Revision ID: engine_0006_case_search_trgm
Revises: engine_0005_process_admin
Create Date: 2026-12-05 02:40:00
"""
from __future__ import annotations

from alembic import op

revision = "engine_0006_case_search_trgm"
down_revision = "engine_0005_process_admin"
branch_labels = None
depends_on = None

SEARCH_TEXT = "(coalesce(business_key, '') || ' ' || coalesce(entity_name, '') || ' ' || coalesce(entity_id, ''))"


def upgrade() -> None:
    op.create_index("ix_process_instance_started_by", "process_instance", ["started_by"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(f"CREATE INDEX ix_process_instance_search_trgm ON process_instance USING gin ({SEARCH_TEXT} "
                   "gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_process_instance_search_trgm")
    op.drop_index("ix_process_instance_started_by", table_name="process_instance")

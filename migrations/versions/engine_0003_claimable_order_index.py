"""engine: everyone's claimable tasks in page order, and true counts for them (PostgreSQL)

``engine.tasks._wide_inbox`` first reads the head of everyone's ready, unassigned tasks in page
order (``ix_human_task_claimable_order``): for a scope covering most of a province the first few
dozen already hold the page. Only when that falls short does it walk each (unit, role) pair
over ``ix_human_task_claimable_walk`` (engine_0002). PostgreSQL estimates
``status = 'ready' AND assignee IS NULL`` as if the two were unrelated (every completed task has
an assignee) and then prefers sorting a few hundred rows it expects over the ordered index;
multi-column statistics on the pair give it the true count. SQLite does not take the wide path
and gets none of this (fewer index writes per task). The statistics object is not a model
construct, so autogenerate neither sees nor wants it.

A separate revision, not an edit of engine_0002: a database already at engine_0002 must get
these too.

Revision ID: engine_0003
Revises: engine_0002
Create Date: 2026-11-22 15:10:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'engine_0003'
down_revision = 'engine_0002'
branch_labels = None
depends_on = None

WHERE = "status = 'ready' AND assignee IS NULL"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_index("ix_human_task_claimable_order", "human_task", ["due_sort", "id"],
                    unique=False, postgresql_where=sa.text(WHERE))
    op.execute("CREATE STATISTICS IF NOT EXISTS st_human_task_status_assignee (mcv) ON status, assignee "
               "FROM human_task")
    op.execute("ANALYZE human_task")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP STATISTICS IF EXISTS st_human_task_status_assignee")
    op.drop_index("ix_human_task_claimable_order", table_name="human_task")

"""engine: a task's owner and delegation state (substitutes and delegation with return)

``human_task.owner`` is whom the holder works the task for (an absent officer's substitute, or
a delegate); ``delegation`` is "pending" while a delegate works on it and "resolved" once it is
back with its owner. The index serves the owner's 已委托 tab.

Revision ID: engine_0007_task_owner
Revises: engine_0006_case_search_trgm
Create Date: 2026-12-05 07:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "engine_0007_task_owner"
down_revision = "engine_0006_case_search_trgm"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("human_task") as batch:
        batch.add_column(sa.Column("owner", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("delegation", sa.String(length=20), nullable=True))
    op.create_index("ix_human_task_owner", "human_task", ["owner", "delegation"])


def downgrade() -> None:
    op.drop_index("ix_human_task_owner", table_name="human_task")
    with op.batch_alter_table("human_task") as batch:
        batch.drop_column("delegation")
        batch.drop_column("owner")

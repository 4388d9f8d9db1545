"""web: follow-up dates on tasks (hidden from the holder's default inbox tab until that day)

Revision ID: web_0007
Revises: web_0006
Create Date: 2026-12-05 03:25:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'web_0007'
down_revision = 'web_0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'web_task_follow_up',
        sa.Column('task_id', sa.String(length=36), nullable=False),
        sa.Column('user_id', sa.String(length=100), nullable=False),
        sa.Column('follow_up_on', sa.Date(), nullable=False),
        sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('task_id', name=op.f('pk_web_task_follow_up')),
    )


def downgrade() -> None:
    op.drop_table('web_task_follow_up')

"""penalty: the pending transfer/withdrawal/termination request and the approved ending on the case
register (移送、撤销立案、终止调查). Merges the two ``penalty_0002`` heads.

Revision ID: penalty_0003_endings
Revises: penalty_0002_exec, penalty_0002_rules
Create Date: 2026-12-04 16:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'penalty_0003_endings'
down_revision = ('penalty_0002_exec', 'penalty_0002_rules')
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('penalty_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending_ending', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('ending', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('penalty_case', schema=None) as batch_op:
        batch_op.drop_column('ending')
        batch_op.drop_column('pending_ending')

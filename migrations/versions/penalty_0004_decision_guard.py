"""penalty: the penalty the head approved (行政处罚法 Art. 57), so a decision document that differs
goes back for approval, and the record of a decision made after the decision period (Art. 60).

Revision ID: penalty_0004_decision_guard
Revises: penalty_0003_endings
Create Date: 2026-12-04 19:15:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'penalty_0004_decision_guard'
down_revision = 'penalty_0003_endings'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('penalty_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approved_penalty', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('overdue_decision', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('penalty_case', schema=None) as batch_op:
        batch_op.drop_column('overdue_decision')
        batch_op.drop_column('approved_penalty')

"""penalty: the discovery date of a lead and the filing deadline counted from it (令第13号: decide
whether to file within the period from discovering the clue, extendable by the head).

Revision ID: penalty_0005_filing_due
Revises: penalty_0004_decision_guard
Create Date: 2026-12-05 03:05:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'penalty_0005_filing_due'
down_revision = 'penalty_0004_decision_guard'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('penalty_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('discovered_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('filing_due', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('penalty_case', schema=None) as batch_op:
        batch_op.drop_column('filing_due')
        batch_op.drop_column('discovered_on')

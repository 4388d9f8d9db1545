"""penalty: the head's extension of the filing period, recorded when approved (who, when, why, the
original and the extended last day), so a later filing decision cannot claim an earlier approval.

Revision ID: penalty_0006_filing_extension
Revises: penalty_0005_filing_due
Create Date: 2026-12-05 07:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'penalty_0006_filing_extension'
down_revision = 'penalty_0005_filing_due'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('penalty_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('filing_extension', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('penalty_case', schema=None) as batch_op:
        batch_op.drop_column('filing_extension')

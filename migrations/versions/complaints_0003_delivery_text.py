"""complaints: a delivery keeps the text it carries (``complaint_delivery.body``)

A reply letter is a PDF; an SMS cannot carry it and an email's body said only "答复见附件",
so a complainant who chose SMS never read the reply. The text now travels with every delivery.

Revision ID: complaints_0003
Revises: complaints_0002
Create Date: 2026-12-04 17:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'complaints_0003'
down_revision = 'complaints_0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('complaint_delivery', schema=None) as batch_op:
        batch_op.add_column(sa.Column('body', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('complaint_delivery', schema=None) as batch_op:
        batch_op.drop_column('body')

"""inspections: the log of corrections and withdrawals of public items (insp_public_change)

Revision ID: inspections_0003
Revises: inspections_0002
Create Date: 2026-12-05 03:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'inspections_0003'
down_revision = 'inspections_0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('insp_public_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_kind', sa.String(length=30), nullable=False),
    sa.Column('item_id', sa.String(length=36), nullable=False),
    sa.Column('credit_code', sa.String(length=40), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('changed_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_insp_public_change_item', 'insp_public_change', ['item_kind', 'item_id'], unique=False)
    op.create_index(op.f('ix_insp_public_change_credit_code'), 'insp_public_change', ['credit_code'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_insp_public_change_credit_code'), table_name='insp_public_change')
    op.drop_index('ix_insp_public_change_item', table_name='insp_public_change')
    op.drop_table('insp_public_change')

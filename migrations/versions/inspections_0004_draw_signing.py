"""inspections: the signing step of each finished draw (insp_draw_signing)

Revision ID: inspections_0004
Revises: inspections_0003
Create Date: 2026-12-06 09:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'inspections_0004'
down_revision = 'inspections_0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('insp_draw_signing',
    sa.Column('draw_id', sa.String(length=36), nullable=False),
    sa.Column('instance_id', sa.String(length=36), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['draw_id'], ['insp_draw.id'], name=op.f('fk_insp_draw_signing_draw_id_insp_draw')),
    sa.PrimaryKeyConstraint('draw_id', name=op.f('pk_insp_draw_signing')),
    sa.UniqueConstraint('instance_id', name=op.f('uq_insp_draw_signing_instance_id'))
    )


def downgrade() -> None:
    op.drop_table('insp_draw_signing')

"""inspections: the explicit disclosure step of a result (insp_inspection.disclosed_on/_by)

Results recorded before this revision were public as soon as they were recorded, so they are
marked disclosed on their result day.

Revision ID: inspections_0002
Revises: inspections_0001
Create Date: 2026-12-05 03:20:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'inspections_0002'
down_revision = 'inspections_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('insp_inspection') as batch:
        batch.add_column(sa.Column('disclosed_on', sa.Date(), nullable=True))
        batch.add_column(sa.Column('disclosed_by', sa.String(length=100), nullable=True))
    op.execute("UPDATE insp_inspection SET disclosed_on = result_on, disclosed_by = 'system' "
               "WHERE result_on IS NOT NULL AND status <> 'cancelled'")


def downgrade() -> None:
    with op.batch_alter_table('insp_inspection') as batch:
        batch.drop_column('disclosed_by')
        batch.drop_column('disclosed_on')

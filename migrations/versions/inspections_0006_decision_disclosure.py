"""inspections: the disclosure step of each penalty decision (insp_decision_disclosure)

Backfill: every decision decided (with its number) before this revision was public already (the
public site listed it the moment it was decided), so it counts as disclosed on its decision day
and today's public site keeps its rows.

Revision ID: inspections_0006
Revises: inspections_0005
Create Date: 2026-12-05 17:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'inspections_0006'
down_revision = 'inspections_0005'
branch_labels = None
depends_on = 'penalty_0001'  # the backfill reads penalty_case


def upgrade() -> None:
    op.create_table('insp_decision_disclosure',
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('instance_id', sa.String(length=36), nullable=True),
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('disclosed_on', sa.Date(), nullable=True),
    sa.Column('disclosed_by', sa.String(length=100), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('withdrawn_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_insp_decision_disclosure')),
    sa.UniqueConstraint('instance_id', name=op.f('uq_insp_decision_disclosure_instance_id'))
    )
    with op.batch_alter_table('insp_decision_disclosure', schema=None) as batch_op:
        batch_op.create_index('ix_insp_decision_disclosure_status_due', ['status', 'due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_insp_decision_disclosure_unit_id'), ['unit_id'], unique=False)
    op.execute(
        "INSERT INTO insp_decision_disclosure (case_id, unit_id, status, disclosed_on, disclosed_by, created_at) "
        "SELECT id, unit_id, 'disclosed', decided_on, 'migration', CURRENT_TIMESTAMP FROM penalty_case "
        "WHERE decided_on IS NOT NULL AND case_number IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('insp_decision_disclosure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_insp_decision_disclosure_unit_id'))
        batch_op.drop_index('ix_insp_decision_disclosure_status_due')
    op.drop_table('insp_decision_disclosure')

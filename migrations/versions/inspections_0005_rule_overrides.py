"""inspections: administrators' changes of rules.toml entries (insp_rule_override)

Revision ID: inspections_0005
Revises: inspections_0004
Create Date: 2026-12-05 12:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'inspections_0005'
down_revision = 'inspections_0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('insp_rule_override',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('value', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('previous', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('changed_by', sa.String(length=100), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_insp_rule_override'))
    )
    with op.batch_alter_table('insp_rule_override', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_insp_rule_override_key'), ['key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('insp_rule_override', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_insp_rule_override_key'))
    op.drop_table('insp_rule_override')

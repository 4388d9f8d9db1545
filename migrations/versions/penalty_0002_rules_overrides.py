"""penalty: administrators' overrides of rules.toml and of the penalty DMN tables (with history),
and the rules snapshot each case starts with

Models in ``processes/penalty/rule_overrides.py``. Another revision may share the down revision
``penalty_0001`` (two heads; ``upgrade heads`` applies both).

Revision ID: penalty_0002_rules
Revises: penalty_0001
Create Date: 2026-11-22 11:10:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'penalty_0002_rules'
down_revision = 'penalty_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('penalty_rule_override',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('value', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('previous', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('changed_by', sa.String(length=100), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_penalty_rule_override'))
    )
    with op.batch_alter_table('penalty_rule_override', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_penalty_rule_override_key'), ['key'], unique=False)

    op.create_table('penalty_dmn_override',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=100), nullable=False),
    sa.Column('xml', sa.Text(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('previous_sha256', sa.String(length=64), nullable=False),
    sa.Column('versions', sa.JSON(), nullable=False),
    sa.Column('changed_by', sa.String(length=100), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_penalty_dmn_override'))
    )
    with op.batch_alter_table('penalty_dmn_override', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_penalty_dmn_override_file_name'), ['file_name'], unique=False)

    op.create_table('penalty_case_rules',
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['penalty_case.id'],
                            name=op.f('fk_penalty_case_rules_case_id_penalty_case')),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_penalty_case_rules'))
    )


def downgrade() -> None:
    op.drop_table('penalty_case_rules')
    with op.batch_alter_table('penalty_dmn_override', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_penalty_dmn_override_file_name'))
    op.drop_table('penalty_dmn_override')
    with op.batch_alter_table('penalty_rule_override', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_penalty_rule_override_key'))
    op.drop_table('penalty_rule_override')

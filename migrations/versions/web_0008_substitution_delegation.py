"""web: absences with a substitute (dir_substitution) and what a delegate entered in a delegated task

Revision ID: web_0008
Revises: web_0007
Create Date: 2026-12-05 07:35:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'web_0008'
down_revision = 'web_0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'dir_substitution',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.String(length=100), nullable=False),
        sa.Column('substitute_id', sa.String(length=100), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('created_by', sa.String(length=100), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('ended_by', sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(['substitute_id'], ['dir_user.id'],
                                name=op.f('fk_dir_substitution_substitute_id_dir_user')),
        sa.ForeignKeyConstraint(['user_id'], ['dir_user.id'], name=op.f('fk_dir_substitution_user_id_dir_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_dir_substitution')),
    )
    op.create_index('ix_dir_substitution_user', 'dir_substitution', ['user_id', 'starts_on'])
    op.create_table(
        'web_task_delegation_draft',
        sa.Column('task_id', sa.String(length=36), nullable=False),
        sa.Column('user_id', sa.String(length=100), nullable=False),
        sa.Column('values', sa.JSON(), nullable=False),
        sa.Column('saved_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('task_id', name=op.f('pk_web_task_delegation_draft')),
    )


def downgrade() -> None:
    op.drop_table('web_task_delegation_draft')
    op.drop_index('ix_dir_substitution_user', table_name='dir_substitution')
    op.drop_table('dir_substitution')

"""web: comments on cases and their tasks

Revision ID: web_0005
Revises: web_0004
Create Date: 2026-12-04 19:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'web_0005'
down_revision = 'web_0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'web_case_comment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('instance_id', sa.String(length=36), nullable=False),
        sa.Column('task_id', sa.String(length=36), nullable=True),
        sa.Column('task_title', sa.String(length=300), nullable=True),
        sa.Column('author', sa.String(length=100), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'],
                                name=op.f('fk_web_case_comment_instance_id_process_instance')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_web_case_comment')),
    )
    op.create_index(op.f('ix_web_case_comment_instance_id'), 'web_case_comment', ['instance_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_web_case_comment_instance_id'), table_name='web_case_comment')
    op.drop_table('web_case_comment')

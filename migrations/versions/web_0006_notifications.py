"""web: notices to people about their tasks, and how each wants to be told

Revision ID: web_0006
Revises: web_0005
Create Date: 2026-12-04 19:10:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'web_0006'
down_revision = 'web_0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'dir_notification',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.String(length=100), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('task_id', sa.String(length=36), nullable=False),
        sa.Column('instance_id', sa.String(length=36), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('case_label', sa.String(length=300), nullable=True),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('emailed_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['dir_user.id'], name=op.f('fk_dir_notification_user_id_dir_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_dir_notification')),
        sa.UniqueConstraint('user_id', 'kind', 'task_id', name=op.f('uq_dir_notification_user_id_kind_task_id')),
    )
    op.create_index('ix_dir_notification_unread', 'dir_notification', ['user_id', 'read_at'], unique=False)
    op.create_table(
        'dir_notification_pref',
        sa.Column('user_id', sa.String(length=100), nullable=False),
        sa.Column('email', sa.String(length=200), nullable=True),
        sa.Column('email_immediate', sa.Boolean(), nullable=False),
        sa.Column('email_digest', sa.Boolean(), nullable=False),
        sa.Column('kinds', sa.JSON(), nullable=False),
        sa.Column('last_digest_on', sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['dir_user.id'], name=op.f('fk_dir_notification_pref_user_id_dir_user')),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_dir_notification_pref')),
    )


def downgrade() -> None:
    op.drop_table('dir_notification_pref')
    op.drop_index('ix_dir_notification_unread', table_name='dir_notification')
    op.drop_table('dir_notification')

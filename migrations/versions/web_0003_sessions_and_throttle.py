"""web: server-side sessions (``web_session``) and attempt throttling (``dir_throttle``)

A copied session cookie must stop working at sign-out, password change or reset; guessing a
password or a signing passphrase is slowed per account and source, without a lock anyone can
trigger (OWASP ASVS 2.2). ``dir_user.failed_logins``/``locked_until`` stay for old rows but are
no longer written.

Revision ID: web_0003
Revises: web_0002
Create Date: 2026-12-04 15:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = 'web_0003'
down_revision = 'web_0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'web_session',
        sa.Column('id_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.String(length=100), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('address', sa.String(length=64), nullable=True),
        sa.Column('user_agent', sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['dir_user.id'], name=op.f('fk_web_session_user_id_dir_user')),
        sa.PrimaryKeyConstraint('id_hash', name=op.f('pk_web_session')),
    )
    op.create_index(op.f('ix_web_session_user_id'), 'web_session', ['user_id'], unique=False)
    op.create_table(
        'dir_throttle',
        sa.Column('key', sa.String(length=300), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('blocked_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_dir_throttle')),
    )
    op.create_index(op.f('ix_dir_throttle_updated_at'), 'dir_throttle', ['updated_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_dir_throttle_updated_at'), table_name='dir_throttle')
    op.drop_table('dir_throttle')
    op.drop_index(op.f('ix_web_session_user_id'), table_name='web_session')
    op.drop_table('web_session')

"""directory: who uploaded each stored file (``dir_upload_grant``)

A form may name a stored file by SHA-256 only when its user uploaded that content or it is
already in the same case; before, knowing another unit's hash was enough to attach and then
download its file. Files uploaded before this revision are granted to their first uploader.

Revision ID: web_0004
Revises: web_0003
Create Date: 2026-12-04 16:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'web_0004'
down_revision = 'web_0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'dir_upload_grant',
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.String(length=100), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('sha256', 'user_id', name=op.f('pk_dir_upload_grant')),
    )
    op.execute("INSERT INTO dir_upload_grant (sha256, user_id, created_at) "
               "SELECT sha256, uploaded_by, uploaded_at FROM stored_file")


def downgrade() -> None:
    op.drop_table('dir_upload_grant')

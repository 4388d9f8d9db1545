"""directory: the last day a user's enforcement certificate is valid (``dir_user.certificate_valid_until``)

Pickers show it beside the certificate number (执法证有效至… or 执法证已过期). Nullable: existing
users have no recorded date until an administrator enters one.

Revision ID: web_0009
Revises: web_0008
Create Date: 2026-12-05 12:20:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'web_0009'
down_revision = 'web_0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('dir_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('certificate_valid_until', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('dir_user', schema=None) as batch_op:
        batch_op.drop_column('certificate_valid_until')

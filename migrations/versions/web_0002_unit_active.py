"""directory: units can be deactivated (``dir_unit.active``)

A unit that is merged away or closed keeps its id (staff history, cases and case numbers refer
to it) but takes no new staff, entities or cases. Existing rows stay active.

Revision ID: web_0002
Revises: web_0001
Create Date: 2026-11-22 13:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'web_0002'
down_revision = 'web_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('dir_unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('dir_unit', schema=None) as batch_op:
        batch_op.drop_column('active')

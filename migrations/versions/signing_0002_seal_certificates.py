"""signing: certificate kind (person / seal), for the units' electronic seal certificates

Revision ID: signing_0002
Revises: signing_0001
Create Date: 2026-12-05
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "signing_0002"
down_revision = "signing_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("signing_certificate") as batch:
        batch.add_column(sa.Column("kind", sa.String(20), nullable=False, server_default="person"))


def downgrade() -> None:
    with op.batch_alter_table("signing_certificate") as batch:
        batch.drop_column("kind")

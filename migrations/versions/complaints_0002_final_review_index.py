"""complaints: a partial index of the finally reviewed (复核) complaints by target

Every new complaint is compared with the complaints about the same target whose 复核 is done
(``intake.finally_reviewed``). Through ``ix_complaint_target_received`` that read every complaint
ever filed about the target: a busy hospital's thousands over the years, for a handful reviewed
(66 ms with a cold cache in ``bench.complaints``). This index holds only the reviewed ones.

Revision ID: complaints_0002
Revises: complaints_0001
Create Date: 2026-12-04 16:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'complaints_0002'
down_revision = 'complaints_0001'
branch_labels = None
depends_on = None

WHERE = "review_level >= 2"


def upgrade() -> None:
    op.create_index("ix_complaint_final_target", "complaint", ["target_key"], unique=False,
                    postgresql_where=sa.text(WHERE), sqlite_where=sa.text(WHERE))


def downgrade() -> None:
    op.drop_index("ix_complaint_final_target", table_name="complaint")

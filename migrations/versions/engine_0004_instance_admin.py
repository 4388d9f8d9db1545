"""engine: suspended tasks, and indexes for the administrators' instance search

* ``human_task.suspended``: set by ``engine.instance_admin.suspend``/``resume`` on the ready
  tasks of a suspended case. The inbox hides such tasks from claimable lists by this column
  (no join on ``process_instance``); the PostgreSQL claimable indexes of engine_0002/0003 are
  rebuilt without them, so the wide inbox keeps reading only rows it can show.
* ``process_instance``: newest-first orders alone, within a status and within a process and
  status; on PostgreSQL ``lower(business_key) text_pattern_ops`` (with the order columns) for a
  business-key prefix in any case, and a trigram (pg_trgm) GIN index for entity-name substrings
  (``ILIKE``). pg_trgm is a trusted extension (PostgreSQL 13+): the
  database owner may create it.
* ``human_task`` (PostgreSQL): ready tasks by element id and by due date, for "current
  activity" and "due before" filters; ``engine_timer`` (PostgreSQL): failing timers.

Revision ID: engine_0004_instance_admin
Revises: engine_0003
Create Date: 2026-12-04 18:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'engine_0004_instance_admin'
down_revision = 'engine_0003'
branch_labels = None
depends_on = None

OLD_CLAIMABLE = "status = 'ready' AND assignee IS NULL"
NEW_CLAIMABLE = "status = 'ready' AND assignee IS NULL AND NOT suspended"
CLAIMABLE_INDEXES = (("ix_human_task_claimable_order", ["due_sort", "id"]),
                     ("ix_human_task_claimable_walk", ["unit_id", "candidate_role", "due_sort", "id"]))


def upgrade() -> None:
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suspended', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.create_index('ix_process_instance_started', ['started_at', 'id'], unique=False)
        batch_op.create_index('ix_process_instance_status_started', ['status', 'started_at', 'id'], unique=False)
        batch_op.create_index('ix_process_instance_process_started', ['process_key', 'status', 'started_at'],
                              unique=False)
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, columns in CLAIMABLE_INDEXES:
        op.drop_index(name, table_name="human_task")
        op.create_index(name, "human_task", columns, unique=False, postgresql_where=sa.text(NEW_CLAIMABLE))
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_index("ix_process_instance_business_key_lower", "process_instance",
                    [sa.func.lower(sa.column("business_key")).label("business_key_lower"), "started_at", "id"],
                    unique=False, postgresql_ops={"business_key_lower": "text_pattern_ops"})
    op.create_index("ix_process_instance_entity_name_trgm", "process_instance", ["entity_name"], unique=False,
                    postgresql_using="gin", postgresql_ops={"entity_name": "gin_trgm_ops"})
    op.create_index("ix_human_task_ready_name", "human_task", ["task_name", "instance_id"], unique=False,
                    postgresql_where=sa.text("status = 'ready'"))
    op.create_index("ix_human_task_ready_due", "human_task", ["due_sort", "instance_id"], unique=False,
                    postgresql_where=sa.text("status = 'ready'"))
    op.create_index("ix_engine_timer_failed", "engine_timer", ["instance_id"], unique=False,
                    postgresql_where=sa.text("last_error IS NOT NULL"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_engine_timer_failed", table_name="engine_timer")
        op.drop_index("ix_human_task_ready_due", table_name="human_task")
        op.drop_index("ix_human_task_ready_name", table_name="human_task")
        op.drop_index("ix_process_instance_entity_name_trgm", table_name="process_instance")
        op.drop_index("ix_process_instance_business_key_lower", table_name="process_instance")
        for name, columns in CLAIMABLE_INDEXES:
            op.drop_index(name, table_name="human_task")
            op.create_index(name, "human_task", columns, unique=False, postgresql_where=sa.text(OLD_CLAIMABLE))
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.drop_index('ix_process_instance_process_started')
        batch_op.drop_index('ix_process_instance_status_started')
        batch_op.drop_index('ix_process_instance_started')
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.drop_column('suspended')

"""engine: drafts of process bundles, batches migrating instances, rollback versions

* ``process_draft``: one shared draft per process key (``engine.process_admin``).
* ``migration_batch``: instances moved to another version by a worker, with per-instance results.
* ``process_definition``: the content hash is no longer unique per process: a rollback deploys an
  older version's files again as a new version. A plain index keeps the look-up by hash.

Revision ID: engine_0005_process_admin
Revises: engine_0004_instance_admin
Create Date: 2026-12-04 19:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'engine_0005_process_admin'
down_revision = 'engine_0004_instance_admin'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('process_definition') as batch:
        batch.drop_constraint('uq_process_definition_process_key_content_hash', type_='unique')
        batch.create_index('ix_process_definition_key_hash', ['process_key', 'content_hash'], unique=False)
    op.create_table(
        'process_draft',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('process_key', sa.String(length=200), nullable=False),
        sa.Column('base_definition_id', sa.Integer(), nullable=False),
        sa.Column('files', sa.JSON(), nullable=False),
        sa.Column('problems', sa.JSON(), nullable=False),
        sa.Column('editors', sa.JSON(), nullable=False),
        sa.Column('updated_by', sa.String(length=100), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['base_definition_id'], ['process_definition.id'],
                                name=op.f('fk_process_draft_base_definition_id_process_definition')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_process_draft')),
        sa.UniqueConstraint('process_key', name=op.f('uq_process_draft_process_key')),
    )
    op.create_table(
        'migration_batch',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('process_key', sa.String(length=200), nullable=False),
        sa.Column('target_definition_id', sa.Integer(), nullable=False),
        sa.Column('mapping', sa.JSON(), nullable=False),
        sa.Column('instance_ids', sa.JSON(), nullable=False),
        sa.Column('results', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('created_by', sa.String(length=100), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['target_definition_id'], ['process_definition.id'],
                                name=op.f('fk_migration_batch_target_definition_id_process_definition')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_migration_batch')),
    )
    op.create_index(op.f('ix_migration_batch_process_key'), 'migration_batch', ['process_key'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_migration_batch_process_key'), table_name='migration_batch')
    op.drop_table('migration_batch')
    op.drop_table('process_draft')
    with op.batch_alter_table('process_definition') as batch:
        batch.drop_index('ix_process_definition_key_hash')
        batch.create_unique_constraint('uq_process_definition_process_key_content_hash',
                                       ['process_key', 'content_hash'])

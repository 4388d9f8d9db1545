"""signing: agency CA, issued certificates, CRLs, deliberation records and their signatures

Written by hand (the signing package has its own branch). Constraint names follow the naming
convention in ``signing/models.py`` so SQLite and PostgreSQL agree and autogenerate finds no
difference.

Revision ID: signing_0001
Revises:
Create Date: 2026-11-22
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "signing_0001"
down_revision = None
branch_labels = ("signing",)
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "signing_ca",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("common_name", sa.String(200), nullable=False),
        sa.Column("serial", sa.String(64), nullable=False),
        sa.Column("certificate_pem", sa.Text(), nullable=False),
        sa.Column("key_pkcs12", sa.LargeBinary(), nullable=False),
        sa.Column("fingerprint_sha256", sa.String(64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_signing_ca"),
        sa.UniqueConstraint("serial", name="uq_signing_ca_serial"),
    )
    op.create_table(
        "signing_certificate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ca_id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(100), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("certificate_pem", sa.Text(), nullable=False),
        sa.Column("pkcs12", sa.LargeBinary(), nullable=False),
        sa.Column("not_before", TS, nullable=False),
        sa.Column("not_after", TS, nullable=False),
        sa.Column("issued_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
        sa.Column("revocation_reason", sa.String(40), nullable=True),
        sa.ForeignKeyConstraint(["ca_id"], ["signing_ca.id"], name="fk_signing_certificate_ca_id_signing_ca"),
        sa.PrimaryKeyConstraint("id", name="pk_signing_certificate"),
        sa.UniqueConstraint("serial", name="uq_signing_certificate_serial"),
    )
    op.create_index("ix_signing_certificate_ca_id", "signing_certificate", ["ca_id"])
    op.create_index("ix_signing_certificate_user_id", "signing_certificate", ["user_id"])
    op.create_table(
        "signing_crl",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ca_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("this_update", TS, nullable=False),
        sa.Column("next_update", TS, nullable=False),
        sa.Column("crl_der", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["ca_id"], ["signing_ca.id"], name="fk_signing_crl_ca_id_signing_ca"),
        sa.PrimaryKeyConstraint("id", name="pk_signing_crl"),
        sa.UniqueConstraint("ca_id", "number", name="uq_signing_crl_ca_id"),
    )
    op.create_table(
        "signing_record",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("case_ref", sa.String(100), nullable=False),
        sa.Column("case_number", sa.String(100), nullable=False),
        sa.Column("record_xml", sa.LargeBinary(), nullable=False),
        sa.Column("record_sha256", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_signing_record"),
    )
    op.create_index("ix_signing_record_case_ref", "signing_record", ["case_ref"])
    op.create_table(
        "signing_record_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["signing_record.id"],
                                name="fk_signing_record_member_record_id_signing_record"),
        sa.PrimaryKeyConstraint("id", name="pk_signing_record_member"),
        sa.UniqueConstraint("record_id", "user_id", name="uq_signing_record_member_record_id"),
    )
    op.create_index("ix_signing_record_member_user_id", "signing_record_member", ["user_id"])
    op.create_table(
        "signing_signature",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(100), nullable=False),
        sa.Column("certificate_serial", sa.String(64), nullable=False),
        sa.Column("signature_xml", sa.LargeBinary(), nullable=False),
        sa.Column("signing_time", TS, nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["signing_record.id"],
                                name="fk_signing_signature_record_id_signing_record"),
        sa.PrimaryKeyConstraint("id", name="pk_signing_signature"),
        sa.UniqueConstraint("record_id", "user_id", name="uq_signing_signature_record_id"),
    )


def downgrade() -> None:
    op.drop_table("signing_signature")
    op.drop_index("ix_signing_record_member_user_id", table_name="signing_record_member")
    op.drop_table("signing_record_member")
    op.drop_index("ix_signing_record_case_ref", table_name="signing_record")
    op.drop_table("signing_record")
    op.drop_table("signing_crl")
    op.drop_index("ix_signing_certificate_user_id", table_name="signing_certificate")
    op.drop_index("ix_signing_certificate_ca_id", table_name="signing_certificate")
    op.drop_table("signing_certificate")
    op.drop_table("signing_ca")

"""status lists: revocation and suspension (W3C Bitstring Status List)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "status_allocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer_id", sa.Integer(), nullable=False),
        sa.Column("list_number", sa.Integer(), nullable=False),
        sa.Column("list_index", sa.Integer(), nullable=False),
        sa.Column("allocated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["issuer_id"],
            ["issuers.id"],
            name=op.f("fk_status_allocations_issuer_id_issuers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_allocations")),
        sa.UniqueConstraint(
            "issuer_id", "list_number", "list_index",
            name=op.f("uq_status_allocations_issuer_id"),
        ),
    )
    op.create_table(
        "status_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_credential", sa.Text(), nullable=True),
        sa.Column("signed_etag", sa.String(length=64), nullable=True),
        sa.Column("signed_version", sa.Integer(), nullable=True),
        sa.Column("signing_key_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["issuer_id"],
            ["issuers.id"],
            name=op.f("fk_status_lists_issuer_id_issuers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["signing_key_id"],
            ["signing_keys.id"],
            name=op.f("fk_status_lists_signing_key_id_signing_keys"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_lists")),
        sa.UniqueConstraint(
            "issuer_id", "purpose", "number", name=op.f("uq_status_lists_issuer_id")
        ),
    )
    op.create_table(
        "status_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.String(length=36), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=False),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=320), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["credentials.id"],
            name=op.f("fk_status_events_credential_id_credentials"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_events")),
    )
    with op.batch_alter_table("status_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_status_events_credential_id"), ["credential_id"], unique=False
        )

    # Batch mode so SQLite, which cannot add constraints in place, can follow along; the
    # server default marks credentials issued before this revision as active.
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), server_default="active", nullable=False)
        )
        batch_op.add_column(sa.Column("status_reason", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("status_allocation_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_credentials_status"), ["status"], unique=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_credentials_status_allocation_id"), ["status_allocation_id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_credentials_status_allocation_id_status_allocations"),
            "status_allocations",
            ["status_allocation_id"],
            ["id"],
            ondelete="RESTRICT",
        )


def downgrade() -> None:
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_credentials_status_allocation_id_status_allocations"),
            type_="foreignkey",
        )
        batch_op.drop_constraint(
            batch_op.f("uq_credentials_status_allocation_id"), type_="unique"
        )
        batch_op.drop_index(batch_op.f("ix_credentials_status"))
        batch_op.drop_column("status_allocation_id")
        batch_op.drop_column("status_changed_at")
        batch_op.drop_column("status_reason")
        batch_op.drop_column("status")

    with op.batch_alter_table("status_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_status_events_credential_id"))

    op.drop_table("status_events")
    op.drop_table("status_lists")
    op.drop_table("status_allocations")

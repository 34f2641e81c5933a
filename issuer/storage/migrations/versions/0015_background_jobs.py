"""background work: bulk award leases, mail retries, staff session activity, and one
credential per bulk row

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bulk_runs",
        sa.Column("bulk_job_id", sa.Integer(), nullable=False),
        sa.Column("notify", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_digest", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["bulk_job_id"], ["bulk_jobs.id"],
                                name=op.f("fk_bulk_runs_bulk_job_id_bulk_jobs"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("bulk_job_id", name=op.f("pk_bulk_runs")),
    )
    op.create_index(op.f("ix_bulk_runs_lease_until"), "bulk_runs", ["lease_until"])
    op.create_index(op.f("ix_bulk_runs_source_digest"), "bulk_runs", ["source_digest"])
    op.create_table(
        "bulk_row_keys",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("bulk_job_id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(["bulk_job_id"], ["bulk_jobs.id"],
                                name=op.f("fk_bulk_row_keys_bulk_job_id_bulk_jobs"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["credential_id"], ["credentials.id"],
                                name=op.f("fk_bulk_row_keys_credential_id_credentials"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_bulk_row_keys")),
    )
    op.create_index(op.f("ix_bulk_row_keys_bulk_job_id"), "bulk_row_keys", ["bulk_job_id"])
    op.create_index(op.f("ix_bulk_row_keys_credential_id"), "bulk_row_keys",
                    ["credential_id"])
    op.create_table(
        "mail_retries",
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["message_id"], ["mail_messages.id"],
                                name=op.f("fk_mail_retries_message_id_mail_messages"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_mail_retries")),
    )
    op.create_index(op.f("ix_mail_retries_retry_at"), "mail_retries", ["retry_at"])
    op.create_table(
        "staff_session_activity",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["staff_sessions.id"],
                                name=op.f("fk_staff_session_activity_session_id_staff_sessions"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_staff_session_activity")),
    )
    op.create_index("uq_credentials_bulk_job_row", "credentials", ["bulk_job_id", "bulk_row"],
                    unique=True)


def downgrade() -> None:
    op.drop_index("uq_credentials_bulk_job_row", table_name="credentials")
    op.drop_table("staff_session_activity")
    op.drop_index(op.f("ix_bulk_row_keys_credential_id"), table_name="bulk_row_keys")
    op.drop_index(op.f("ix_bulk_row_keys_bulk_job_id"), table_name="bulk_row_keys")
    op.drop_table("bulk_row_keys")
    op.drop_index(op.f("ix_bulk_runs_source_digest"), table_name="bulk_runs")
    op.drop_index(op.f("ix_mail_retries_retry_at"), table_name="mail_retries")
    op.drop_table("mail_retries")
    op.drop_index(op.f("ix_bulk_runs_lease_until"), table_name="bulk_runs")
    op.drop_table("bulk_runs")

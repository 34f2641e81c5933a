"""community traces: imported archives, their interactions, and captured pages

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trace_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=True),
        sa.Column("format", sa.String(length=32), nullable=False),
        sa.Column("source_kind", sa.String(length=32), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("handle", sa.String(length=320), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("source_bytes", sa.Integer(), nullable=False),
        sa.Column("items_read", sa.Integer(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("truncated", sa.Boolean(), nullable=False),
        sa.Column("accounts_created", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["learner_id"], ["learners.id"],
                                name=op.f("fk_trace_imports_learner_id_learners"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["claim_id"], ["claims.id"],
                                name=op.f("fk_trace_imports_claim_id_claims"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trace_imports")),
    )
    op.create_index(op.f("ix_trace_imports_learner_id"), "trace_imports", ["learner_id"])
    op.create_index(op.f("ix_trace_imports_claim_id"), "trace_imports", ["claim_id"])
    op.create_index(op.f("ix_trace_imports_source_sha256"), "trace_imports",
                    ["source_sha256"])
    op.create_table(
        "trace_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("post_id", sa.String(length=500), nullable=False),
        sa.Column("permalink", sa.String(length=1000), nullable=True),
        sa.Column("author", sa.String(length=320), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=True),
        sa.Column("thread", sa.String(length=500), nullable=False),
        sa.Column("community", sa.String(length=300), nullable=False),
        sa.Column("reply_to_post", sa.String(length=500), nullable=True),
        sa.Column("reply_to_person", sa.String(length=320), nullable=True),
        sa.Column("acknowledgements", sa.JSON(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=True),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("opens_thread", sa.Boolean(), nullable=False),
        sa.Column("says_thanks", sa.Boolean(), nullable=False),
        sa.Column("own", sa.Boolean(), nullable=False),
        sa.Column("answers_other", sa.Boolean(), nullable=False),
        sa.Column("acknowledged", sa.Boolean(), nullable=False),
        sa.Column("evidence_record_id", sa.Integer(), nullable=True),
        sa.Column("genre", sa.String(length=64), nullable=True),
        sa.Column("audience", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(["import_id"], ["trace_imports.id"],
                                name=op.f("fk_trace_items_import_id_trace_imports"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["learner_id"], ["learners.id"],
                                name=op.f("fk_trace_items_learner_id_learners"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["evidence_record_id"], ["evidence_records.id"],
                                name=op.f("fk_trace_items_evidence_record_id_evidence_records"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trace_items")),
    )
    op.create_index(op.f("ix_trace_items_import_id"), "trace_items", ["import_id"])
    op.create_index(op.f("ix_trace_items_learner_id"), "trace_items", ["learner_id"])
    op.create_index(op.f("ix_trace_items_own"), "trace_items", ["own"])
    op.create_index(op.f("ix_trace_items_evidence_record_id"), "trace_items",
                    ["evidence_record_id"])
    op.create_table(
        "trace_captures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("evidence_record_id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("final_url", sa.String(length=1000), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=True),
        sa.Column("captured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload_sha256", sa.String(length=64), nullable=False),
        sa.Column("payload_bytes", sa.Integer(), nullable=False),
        sa.Column("warc_sha256", sa.String(length=64), nullable=False),
        sa.Column("warc_data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["claim_id"], ["claims.id"],
                                name=op.f("fk_trace_captures_claim_id_claims"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["evidence_record_id"], ["evidence_records.id"],
                                name=op.f("fk_trace_captures_evidence_record_id_evidence_records"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["learner_id"], ["learners.id"],
                                name=op.f("fk_trace_captures_learner_id_learners"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trace_captures")),
    )
    op.create_index(op.f("ix_trace_captures_claim_id"), "trace_captures", ["claim_id"])
    op.create_index(op.f("ix_trace_captures_evidence_record_id"), "trace_captures",
                    ["evidence_record_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_trace_captures_evidence_record_id"), table_name="trace_captures")
    op.drop_index(op.f("ix_trace_captures_claim_id"), table_name="trace_captures")
    op.drop_table("trace_captures")
    op.drop_index(op.f("ix_trace_items_evidence_record_id"), table_name="trace_items")
    op.drop_index(op.f("ix_trace_items_own"), table_name="trace_items")
    op.drop_index(op.f("ix_trace_items_learner_id"), table_name="trace_items")
    op.drop_index(op.f("ix_trace_items_import_id"), table_name="trace_items")
    op.drop_table("trace_items")
    op.drop_index(op.f("ix_trace_imports_source_sha256"), table_name="trace_imports")
    op.drop_index(op.f("ix_trace_imports_claim_id"), table_name="trace_imports")
    op.drop_index(op.f("ix_trace_imports_learner_id"), table_name="trace_imports")
    op.drop_table("trace_imports")

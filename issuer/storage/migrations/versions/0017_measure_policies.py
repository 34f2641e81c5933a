"""measure policies: thresholds of measured help an achievement requires; community exports
uploaded to suggest awards

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "measure_policies",
        sa.Column("achievement_id", sa.Integer(), nullable=False),
        sa.Column("min_people", sa.Integer(), nullable=False),
        sa.Column("min_acknowledgements", sa.Float(), nullable=False),
        sa.Column("min_rate", sa.Integer(), nullable=False),
        sa.Column("min_transfer", sa.Integer(), nullable=False),
        sa.Column("min_threads", sa.Integer(), nullable=False),
        sa.Column("min_communities", sa.Integer(), nullable=False),
        sa.Column("min_months", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=320), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["achievement_id"], ["achievements.id"],
                                name=op.f("fk_measure_policies_achievement_id_achievements"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("achievement_id", name=op.f("pk_measure_policies")),
    )
    op.create_table(
        "suggestion_uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer_id", sa.Integer(), nullable=False),
        sa.Column("achievement_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("site", sa.String(length=255), nullable=True),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("source", sa.LargeBinary(), nullable=False),
        sa.Column("users_source", sa.LargeBinary(), nullable=True),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["issuer_id"], ["issuers.id"],
                                name=op.f("fk_suggestion_uploads_issuer_id_issuers"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["achievement_id"], ["achievements.id"],
                                name=op.f("fk_suggestion_uploads_achievement_id_achievements"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suggestion_uploads")),
    )
    op.create_index(op.f("ix_suggestion_uploads_issuer_id"), "suggestion_uploads",
                    ["issuer_id"])
    op.create_index(op.f("ix_suggestion_uploads_source_sha256"), "suggestion_uploads",
                    ["source_sha256"])


def downgrade() -> None:
    op.drop_index(op.f("ix_suggestion_uploads_source_sha256"), table_name="suggestion_uploads")
    op.drop_index(op.f("ix_suggestion_uploads_issuer_id"), table_name="suggestion_uploads")
    op.drop_table("suggestion_uploads")
    op.drop_table("measure_policies")

"""learner sessions kept on the server: signing out ends them, and they expire

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "learner_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["learner_id"], ["learners.id"],
                                name=op.f("fk_learner_sessions_learner_id_learners"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learner_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_learner_sessions_token_hash")),
    )
    op.create_index(op.f("ix_learner_sessions_learner_id"), "learner_sessions",
                    ["learner_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_learner_sessions_learner_id"), table_name="learner_sessions")
    op.drop_table("learner_sessions")

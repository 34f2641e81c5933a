"""bulk jobs keep their uploaded file between preview and confirmation

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Batch mode so SQLite, which cannot drop columns in place, can also go back down.
    with op.batch_alter_table("bulk_jobs") as batch_op:
        batch_op.add_column(sa.Column("filename", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("source", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("message", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bulk_jobs") as batch_op:
        batch_op.drop_column("message")
        batch_op.drop_column("source")
        batch_op.drop_column("filename")

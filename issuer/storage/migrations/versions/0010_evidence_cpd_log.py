"""evidence items as CPD log entries: end date, participatory hours, reflection

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evidence_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("activity_end_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("participatory_hours", sa.Double(), nullable=True))
        batch_op.add_column(sa.Column("reflection", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("practice_change", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("framework_reference", sa.String(length=300),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("evidence_records", schema=None) as batch_op:
        batch_op.drop_column("framework_reference")
        batch_op.drop_column("practice_change")
        batch_op.drop_column("reflection")
        batch_op.drop_column("participatory_hours")
        batch_op.drop_column("activity_end_date")

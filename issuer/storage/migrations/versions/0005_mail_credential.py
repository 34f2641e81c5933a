"""badge-awarded mail names the credential it announces

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Batch mode: SQLite adds a foreign key (and later drops the column) by copying the table.
    with op.batch_alter_table("mail_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("credential_id", sa.String(length=36), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_mail_messages_credential_id"), ["credential_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_mail_messages_credential_id_credentials"),
            "credentials", ["credential_id"], ["id"], ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("mail_messages", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_mail_messages_credential_id_credentials"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_mail_messages_credential_id"))
        batch_op.drop_column("credential_id")

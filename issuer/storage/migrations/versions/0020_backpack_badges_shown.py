"""a learner may show a badge from another issuer, stored in their backpack, on their
public profile (hidden unless they choose to)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Badges already stored stay private: nobody chose to show them.
    with op.batch_alter_table("ob_api_upserted_credentials") as batch:
        batch.add_column(sa.Column("shown", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("ob_api_upserted_credentials") as batch:
        batch.drop_column("shown")

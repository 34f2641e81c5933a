"""peer attestations describe the scaffolding; a policy may require a scaffolding level

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("attestations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scaffolding_functions", sa.String(length=200),
                                      nullable=True))
        batch_op.add_column(sa.Column("contingency", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("fading", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("transfer", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("transfer_url", sa.String(length=1000), nullable=True))
    with op.batch_alter_table("achievement_policies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scaffolding_level_required", sa.Integer(),
                                      server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("achievement_policies", schema=None) as batch_op:
        batch_op.drop_column("scaffolding_level_required")
    with op.batch_alter_table("attestations", schema=None) as batch_op:
        batch_op.drop_column("transfer_url")
        batch_op.drop_column("transfer")
        batch_op.drop_column("fading")
        batch_op.drop_column("contingency")
        batch_op.drop_column("scaffolding_functions")

"""wallet exchanges: single-use VC API exchanges that hand a DID-bound copy to a wallet

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wallet_exchanges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exchange_hash", sa.String(length=64), nullable=False),
        sa.Column("credential_id", sa.String(length=36), nullable=False),
        sa.Column("challenge", sa.String(length=64), nullable=False),
        sa.Column("started_by", sa.String(length=320), nullable=True),
        sa.Column("state", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("holder_did", sa.String(length=500), nullable=True),
        sa.Column("issued_credential_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["credential_id"], ["credentials.id"],
            name=op.f("fk_wallet_exchanges_credential_id_credentials"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["issued_credential_id"], ["credentials.id"],
            name=op.f("fk_wallet_exchanges_issued_credential_id_credentials"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_exchanges")),
        sa.UniqueConstraint("exchange_hash", name=op.f("uq_wallet_exchanges_exchange_hash")),
        sa.UniqueConstraint("issued_credential_id",
                            name=op.f("uq_wallet_exchanges_issued_credential_id")),
    )
    with op.batch_alter_table("wallet_exchanges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wallet_exchanges_credential_id"), ["credential_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("wallet_exchanges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wallet_exchanges_credential_id"))
    op.drop_table("wallet_exchanges")

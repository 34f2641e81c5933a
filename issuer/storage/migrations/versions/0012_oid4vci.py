"""OpenID for Verifiable Credential Issuance: offers, access tokens, nonces, issued copies

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oid4vci_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_hash", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("credential_id", sa.String(length=36), nullable=False),
        sa.Column("tx_code_hash", sa.String(length=64), nullable=True),
        sa.Column("tx_code_length", sa.Integer(), nullable=True),
        sa.Column("tx_code_input_mode", sa.String(length=16), nullable=True),
        sa.Column("failed_tx_codes", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("redeemed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["credential_id"], ["credentials.id"],
            name=op.f("fk_oid4vci_offers_credential_id_credentials"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oid4vci_offers")),
        sa.UniqueConstraint("offer_hash", name=op.f("uq_oid4vci_offers_offer_hash")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_oid4vci_offers_code_hash")),
    )
    with op.batch_alter_table("oid4vci_offers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oid4vci_offers_credential_id"), ["credential_id"], unique=False
        )
    op.create_table(
        "oid4vci_access_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["oid4vci_offers.id"],
            name=op.f("fk_oid4vci_access_tokens_offer_id_oid4vci_offers"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oid4vci_access_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_oid4vci_access_tokens_token_hash")),
    )
    with op.batch_alter_table("oid4vci_access_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oid4vci_access_tokens_offer_id"), ["offer_id"], unique=False
        )
    op.create_table(
        "oid4vci_nonces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nonce_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oid4vci_nonces")),
        sa.UniqueConstraint("nonce_hash", name=op.f("uq_oid4vci_nonces_nonce_hash")),
    )
    with op.batch_alter_table("oid4vci_nonces", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oid4vci_nonces_expires_at"), ["expires_at"], unique=False
        )
    op.create_table(
        "oid4vci_issuances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("configuration_id", sa.String(length=100), nullable=False),
        sa.Column("credential_id", sa.String(length=36), nullable=False),
        sa.Column("holder_did", sa.String(length=500), nullable=False),
        sa.Column("issued_credential_id", sa.String(length=36), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["token_id"], ["oid4vci_access_tokens.id"],
            name=op.f("fk_oid4vci_issuances_token_id_oid4vci_access_tokens"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["credential_id"], ["credentials.id"],
            name=op.f("fk_oid4vci_issuances_credential_id_credentials"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["issued_credential_id"], ["credentials.id"],
            name=op.f("fk_oid4vci_issuances_issued_credential_id_credentials"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oid4vci_issuances")),
        sa.UniqueConstraint("token_id", "configuration_id",
                            name=op.f("uq_oid4vci_issuances_token_id")),
        sa.UniqueConstraint("issued_credential_id",
                            name=op.f("uq_oid4vci_issuances_issued_credential_id")),
    )
    with op.batch_alter_table("oid4vci_issuances", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oid4vci_issuances_credential_id"), ["credential_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("oid4vci_issuances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oid4vci_issuances_credential_id"))
    op.drop_table("oid4vci_issuances")
    with op.batch_alter_table("oid4vci_nonces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oid4vci_nonces_expires_at"))
    op.drop_table("oid4vci_nonces")
    with op.batch_alter_table("oid4vci_access_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oid4vci_access_tokens_offer_id"))
    op.drop_table("oid4vci_access_tokens")
    with op.batch_alter_table("oid4vci_offers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oid4vci_offers_credential_id"))
    op.drop_table("oid4vci_offers")

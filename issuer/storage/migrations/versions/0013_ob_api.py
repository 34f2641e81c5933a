"""Open Badges 3.0 API: OAuth 2.0 clients, codes and tokens, profiles, upserted credentials;
the hosts this service sends badges to and the sends waiting for their authorization

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ob_api_clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("client_secret_hash", sa.String(length=64), nullable=False),
        sa.Column("client_metadata", sa.JSON(), nullable=False),
        sa.Column("issued_at", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ob_api_clients")),
        sa.UniqueConstraint("client_id", name=op.f("uq_ob_api_clients_client_id")),
    )
    op.create_table(
        "ob_api_authorization_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("code_challenge", sa.String(length=128), nullable=False),
        sa.Column("code_challenge_method", sa.String(length=16), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("expires_at", _WHEN, nullable=False),
        sa.Column("used_at", _WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"], ["ob_api_clients.id"],
            name=op.f("fk_ob_api_authorization_codes_client_id_ob_api_clients"),
            ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learners.id"],
            name=op.f("fk_ob_api_authorization_codes_learner_id_learners"),
            ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ob_api_authorization_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_ob_api_authorization_codes_code_hash")),
    )
    op.create_index(op.f("ix_ob_api_authorization_codes_client_id"),
                    "ob_api_authorization_codes", ["client_id"])
    op.create_index(op.f("ix_ob_api_authorization_codes_learner_id"),
                    "ob_api_authorization_codes", ["learner_id"])
    op.create_table(
        "ob_api_pending_authorizations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("expires_at", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ob_api_pending_authorizations")),
    )
    op.create_index(op.f("ix_ob_api_pending_authorizations_expires_at"),
                    "ob_api_pending_authorizations", ["expires_at"])
    op.create_table(
        "ob_api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("authorization_code_id", sa.Integer(), nullable=True),
        sa.Column("access_token_hash", sa.String(length=64), nullable=False),
        sa.Column("refresh_token_hash", sa.String(length=64), nullable=True),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("issued_at", _WHEN, nullable=False),
        sa.Column("expires_at", _WHEN, nullable=False),
        sa.Column("revoked_at", _WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"], ["ob_api_clients.id"],
            name=op.f("fk_ob_api_tokens_client_id_ob_api_clients"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learners.id"],
            name=op.f("fk_ob_api_tokens_learner_id_learners"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["authorization_code_id"], ["ob_api_authorization_codes.id"],
            name=op.f("fk_ob_api_tokens_authorization_code_id_ob_api_authorization_codes"),
            ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ob_api_tokens")),
        sa.UniqueConstraint("access_token_hash",
                            name=op.f("uq_ob_api_tokens_access_token_hash")),
        sa.UniqueConstraint("refresh_token_hash",
                            name=op.f("uq_ob_api_tokens_refresh_token_hash")),
    )
    op.create_index(op.f("ix_ob_api_tokens_client_id"), "ob_api_tokens", ["client_id"])
    op.create_index(op.f("ix_ob_api_tokens_learner_id"), "ob_api_tokens", ["learner_id"])
    op.create_index(op.f("ix_ob_api_tokens_authorization_code_id"), "ob_api_tokens",
                    ["authorization_code_id"])
    op.create_table(
        "ob_api_profiles",
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learners.id"],
            name=op.f("fk_ob_api_profiles_learner_id_learners"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("learner_id", name=op.f("pk_ob_api_profiles")),
    )
    op.create_table(
        "ob_api_upserted_credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("match_key", sa.String(length=64), nullable=False),
        sa.Column("credential_key", sa.Text(), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("issuer_name", sa.String(length=500), nullable=True),
        sa.Column("achievement_name", sa.String(length=500), nullable=True),
        sa.Column("issued_at", _WHEN, nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("verification", sa.JSON(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("received_at", _WHEN, nullable=False),
        sa.Column("replaced_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learners.id"],
            name=op.f("fk_ob_api_upserted_credentials_learner_id_learners"),
            ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["client_id"], ["ob_api_clients.id"],
            name=op.f("fk_ob_api_upserted_credentials_client_id_ob_api_clients"),
            ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ob_api_upserted_credentials")),
        sa.UniqueConstraint("learner_id", "match_key",
                            name=op.f("uq_ob_api_upserted_credentials_learner_id")),
    )
    op.create_index(op.f("ix_ob_api_upserted_credentials_learner_id"),
                    "ob_api_upserted_credentials", ["learner_id"])
    op.create_index(op.f("ix_ob_api_upserted_credentials_issued_at"),
                    "ob_api_upserted_credentials", ["issued_at"])


    op.create_table(
        "ob_api_remote_hosts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("discovery_url", sa.String(length=2000), nullable=False),
        sa.Column("discovery_key", sa.String(length=64), nullable=False),
        sa.Column("api_base", sa.Text(), nullable=False),
        sa.Column("authorization_url", sa.Text(), nullable=False),
        sa.Column("token_url", sa.Text(), nullable=False),
        sa.Column("client_id", sa.Text(), nullable=False),
        sa.Column("client_secret", sa.Text(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=True),
        sa.Column("registered_at", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ob_api_remote_hosts")),
        sa.UniqueConstraint("discovery_key", name=op.f("uq_ob_api_remote_hosts_discovery_key")),
    )
    op.create_table(
        "ob_api_send_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.String(length=36), nullable=False),
        sa.Column("host_id", sa.Integer(), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("expires_at", _WHEN, nullable=False),
        sa.Column("finished_at", _WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learners.id"],
            name=op.f("fk_ob_api_send_requests_learner_id_learners"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["credential_id"], ["credentials.id"],
            name=op.f("fk_ob_api_send_requests_credential_id_credentials"),
            ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["host_id"], ["ob_api_remote_hosts.id"],
            name=op.f("fk_ob_api_send_requests_host_id_ob_api_remote_hosts"),
            ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ob_api_send_requests")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_ob_api_send_requests_state_hash")),
    )
    op.create_index(op.f("ix_ob_api_send_requests_learner_id"), "ob_api_send_requests",
                    ["learner_id"])


def downgrade() -> None:
    op.drop_table("ob_api_send_requests")
    op.drop_table("ob_api_remote_hosts")
    op.drop_table("ob_api_upserted_credentials")
    op.drop_table("ob_api_profiles")
    op.drop_table("ob_api_tokens")
    op.drop_table("ob_api_pending_authorizations")
    op.drop_table("ob_api_authorization_codes")
    op.drop_table("ob_api_clients")

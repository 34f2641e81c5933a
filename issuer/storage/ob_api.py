"""Rows of the Open Badges 3.0 API (OB 3.0 §6, §7): the OAuth 2.0 clients that registered
themselves, their authorization codes and tokens, the learner's profile as a client put it,
and the credentials clients stored for a learner (upsertCredential).

Secrets (client secrets, codes, access and refresh tokens) are stored only as their SHA-256
digests: a copy of the database hands nobody a working token.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from issuer.storage.learning import Learner
from issuer.storage.models import Base, UTCDateTime, utcnow


class ObApiClient(Base):
    """A client registered by RFC 7591 dynamic client registration (OB 3.0 §7.1.1)."""

    __tablename__ = "ob_api_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    client_secret_hash: Mapped[str] = mapped_column(String(64))
    #: The registered metadata as answered to the client (client_name, redirect_uris, …).
    client_metadata: Mapped[dict[str, Any]] = mapped_column(JSON)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ObApiAuthorizationCode(Base):
    """A single-use authorization code with its PKCE challenge (RFC 6749 §4.1, RFC 7636)."""

    __tablename__ = "ob_api_authorization_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[int] = mapped_column(
        ForeignKey("ob_api_clients.id", ondelete="CASCADE"), index=True)
    learner_id: Mapped[int] = mapped_column(
        ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text)
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    client: Mapped[ObApiClient] = relationship()
    learner: Mapped[Learner] = relationship()


class ObApiPendingAuthorization(Base):
    """An authorization request kept while the learner signs in: the request is too long to
    ride along as the sign-in link's next page, so that page names this row instead."""

    __tablename__ = "ob_api_pending_authorizations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    query: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class ObApiToken(Base):
    """An access token and, with it, its refresh token (RFC 6749 §5.1, §6)."""

    __tablename__ = "ob_api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(
        ForeignKey("ob_api_clients.id", ondelete="CASCADE"), index=True)
    learner_id: Mapped[int] = mapped_column(
        ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    #: The code the first token of this chain was issued for; a replayed code revokes them.
    authorization_code_id: Mapped[int | None] = mapped_column(
        ForeignKey("ob_api_authorization_codes.id", ondelete="SET NULL"), index=True)
    access_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Revoking (RFC 7009) or refreshing ends both the access and the refresh token.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    client: Mapped[ObApiClient] = relationship()
    learner: Mapped[Learner] = relationship()


class ObApiProfile(Base):
    """The learner's Profile as a client last put it (putProfile, OB 3.0 §6.2.5)."""

    __tablename__ = "ob_api_profiles"

    learner_id: Mapped[int] = mapped_column(
        ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class UpsertedCredential(Base):
    """A credential a client stored for the learner (upsertCredential, OB 3.0 §6.2.3), kept
    byte for byte as received, with what the verifier said about it then.

    One row per credential as OB 3.0 §10 defines equality: the issuer's id and the
    credential's id, unescaped and trimmed.
    """

    __tablename__ = "ob_api_upserted_credentials"
    __table_args__ = (UniqueConstraint("learner_id", "match_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(
        ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    #: SHA-256 of the issuer id and credential id as §10 compares them (ids may be long).
    match_key: Mapped[str] = mapped_column(String(64))
    credential_key: Mapped[str] = mapped_column(Text)
    #: ``json`` (a JSON-LD credential) or ``jws`` (a VC-JWT in compact serialization).
    format: Mapped[str] = mapped_column(String(8))
    document: Mapped[str] = mapped_column(Text)
    issuer_name: Mapped[str | None] = mapped_column(String(500))
    achievement_name: Mapped[str | None] = mapped_column(String(500))
    #: validFrom (or issuanceDate) of the credential: what ``since`` filters on.
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    verified: Mapped[bool] = mapped_column(Boolean)
    #: The verification report's checks, shown to the learner.
    verification: Mapped[dict[str, Any]] = mapped_column(JSON)
    client_id: Mapped[int | None] = mapped_column(
        ForeignKey("ob_api_clients.id", ondelete="SET NULL"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    replaced_count: Mapped[int] = mapped_column(Integer, default=0)
    #: On the learner's public profile; only when they choose so (private by default).
    shown: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    learner: Mapped[Learner] = relationship()


class RemoteHost(Base):
    """Another Open Badges API host this service registered with as a client (the learner's
    "Send to my backpack"): its endpoints as its discovery document named them, and the
    client id and secret it gave (OB 3.0 §7.1.1). The secret is what this service
    authenticates with there, so it is kept as given."""

    __tablename__ = "ob_api_remote_hosts"

    id: Mapped[int] = mapped_column(primary_key=True)
    discovery_url: Mapped[str] = mapped_column(String(2000))
    discovery_key: Mapped[str] = mapped_column(String(64), unique=True)
    api_base: Mapped[str] = mapped_column(Text)
    authorization_url: Mapped[str] = mapped_column(Text)
    token_url: Mapped[str] = mapped_column(Text)
    client_id: Mapped[str] = mapped_column(Text)
    client_secret: Mapped[str] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(String(500))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SendRequest(Base):
    """A learner's request to send one of their badges to a host, waiting for the host's
    authorization (its ``state`` and PKCE verifier, RFC 6749 §4.1.1, RFC 7636 §4.1)."""

    __tablename__ = "ob_api_send_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    code_verifier: Mapped[str] = mapped_column(String(128))
    learner_id: Mapped[int] = mapped_column(
        ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[str] = mapped_column(
        ForeignKey("credentials.id", ondelete="CASCADE"))
    host_id: Mapped[int] = mapped_column(
        ForeignKey("ob_api_remote_hosts.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    host: Mapped[RemoteHost] = relationship()

"""Rows of OpenID for Verifiable Credential Issuance 1.0 (pre-authorized code flow): offers,
access tokens, nonces and the DID-bound copies issued through them.

Every secret a wallet presents (pre-authorized code, transaction code, access token, nonce)
is a bearer capability, so only its SHA-256 is stored. Schema changes go through migrations.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from issuer.storage.models import Base, Credential, UTCDateTime, utcnow


class CredentialOffer(Base):
    """A credential offer by reference (OID4VCI 1.0 §4.1.3) for one issued credential.

    Its pre-authorized code is single-use and short-lived (§4.1.1, §13.6); ``redeemed_at``
    is set by the one token request that may use it. Wrong transaction codes are counted,
    and the offer is dead after a few, so the short code cannot be guessed (§13.6).
    """

    __tablename__ = "oid4vci_offers"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 of the random id in ``credential_offer_uri``: whoever holds the link may read
    #: the offer.
    offer_hash: Mapped[str] = mapped_column(String(64), unique=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    credential_id: Mapped[str] = mapped_column(
        ForeignKey("credentials.id", ondelete="CASCADE"), index=True
    )
    tx_code_hash: Mapped[str | None] = mapped_column(String(64))
    tx_code_length: Mapped[int | None] = mapped_column(Integer)
    tx_code_input_mode: Mapped[str | None] = mapped_column(String(16))
    failed_tx_codes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: Who made it: a staff email, ``learner`` for the recipient's own page, or the CLI.
    created_by: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    credential: Mapped[Credential] = relationship()


class AccessToken(Base):
    """A short-lived Bearer token (RFC 6750) the token endpoint gave for a redeemed offer."""

    __tablename__ = "oid4vci_access_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    offer_id: Mapped[int] = mapped_column(
        ForeignKey("oid4vci_offers.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())

    offer: Mapped[CredentialOffer] = relationship()


class Nonce(Base):
    """A ``c_nonce`` of the nonce endpoint (OID4VCI 1.0 §7): one key proof may use it once."""

    __tablename__ = "oid4vci_nonces"

    id: Mapped[int] = mapped_column(primary_key=True)
    nonce_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Issuance(Base):
    """A DID-bound copy issued for an access token: one per credential configuration, which
    the database keeps unique; the copy is a credential of its own, revoked with the original.
    """

    __tablename__ = "oid4vci_issuances"
    __table_args__ = (UniqueConstraint("token_id", "configuration_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(
        ForeignKey("oid4vci_access_tokens.id", ondelete="CASCADE")
    )
    configuration_id: Mapped[str] = mapped_column(String(100))
    #: The award the wallet received a copy of.
    credential_id: Mapped[str] = mapped_column(
        ForeignKey("credentials.id", ondelete="CASCADE"), index=True
    )
    holder_did: Mapped[str] = mapped_column(String(500))
    issued_credential_id: Mapped[str | None] = mapped_column(
        ForeignKey("credentials.id", ondelete="SET NULL"), unique=True
    )
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    credential: Mapped[Credential] = relationship(foreign_keys=[credential_id])
    issued_credential: Mapped[Credential | None] = relationship(
        foreign_keys=[issued_credential_id]
    )


__all__ = ["AccessToken", "CredentialOffer", "Issuance", "Nonce"]

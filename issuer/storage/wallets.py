"""Rows of wallet hand-over: VC API exchanges that deliver a DID-bound copy of a credential.

Schema changes go through migrations.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from issuer.storage.models import Base, Credential, UTCDateTime, utcnow


class WalletExchange(Base):
    """A single-use, short-lived exchange (VC API) for one credential.

    The exchange id in the URL is a bearer capability, so only its SHA-256 is stored. The
    challenge doubles as the transaction id of the second step, as the wallet's flow expects.
    """

    __tablename__ = "wallet_exchanges"

    id: Mapped[int] = mapped_column(primary_key=True)
    exchange_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The award the wallet receives a copy of.
    credential_id: Mapped[str] = mapped_column(
        ForeignKey("credentials.id", ondelete="CASCADE"), index=True
    )
    challenge: Mapped[str] = mapped_column(String(64))
    #: Who started it: a staff email, or ``learner`` for the recipient's own page or email.
    started_by: Mapped[str | None] = mapped_column(String(320))
    #: ``pending`` until a wallet proved its DID, then ``completed``.
    state: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    holder_did: Mapped[str | None] = mapped_column(String(500))
    #: The DID-bound copy, a credential of its own; revoked together with the original.
    issued_credential_id: Mapped[str | None] = mapped_column(
        ForeignKey("credentials.id", ondelete="SET NULL"), unique=True
    )

    credential: Mapped[Credential] = relationship(foreign_keys=[credential_id])
    issued_credential: Mapped[Credential | None] = relationship(
        foreign_keys=[issued_credential_id]
    )

"""Rows of requests sent with an ``Idempotency-Key``: which credentials a key's request
issued, so the same request sent again is answered with them instead of issuing again.
Schema changes go through migrations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from issuer.storage.models import Base, UTCDateTime


class IdempotentRequest(Base):
    """One key of one issuer's requests to one route, written in the transaction of what
    the request issued: the key is taken (its row inserted) before anything is issued, so
    a second request with the key waits on that row and is refused once the first commits,
    or goes ahead if the first was rolled back."""

    __tablename__ = "idempotent_requests"
    __table_args__ = (UniqueConstraint("issuer_id", "route", "key",
                                       name="uq_idempotent_requests_issuer_route_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"))
    #: Which request the key was sent to, e.g. ``awards`` or ``awards/batch``.
    route: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(255))
    #: SHA-256 of the request's body, hex: the key sent again with another body is refused.
    body_digest: Mapped[str] = mapped_column(String(64))
    #: The ids of the credentials the request issued, in the order of its answer.
    credential_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

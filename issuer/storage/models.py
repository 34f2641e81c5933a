"""Database rows (SQLAlchemy 2.x). Schema changes go through migrations in ``migrations/``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database (SQLite has no time zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Issuer(Base):
    """An organisation that awards badges; its identity is a did:web under the base URL, or
    (``did_method`` "key") the did:key of its one signing key."""

    __tablename__ = "issuers"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    did_method: Mapped[str] = mapped_column(String(8), default="web", server_default="web")
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(500))
    email: Mapped[str | None] = mapped_column(String(320))
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    keys: Mapped[list[SigningKey]] = relationship(
        back_populates="issuer", order_by="SigningKey.id"
    )
    achievements: Mapped[list[Achievement]] = relationship(back_populates="issuer")


class SigningKey(Base):
    """Public half and bookkeeping of an issuer key; the private half stays in the key store."""

    __tablename__ = "signing_keys"
    __table_args__ = (UniqueConstraint("issuer_id", "fragment"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"))
    fragment: Mapped[str] = mapped_column(String(64))
    key_type: Mapped[str] = mapped_column(String(16))
    public_multibase: Mapped[str] = mapped_column(String(200))
    key_file: Mapped[str] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    compromised_since: Mapped[datetime | None] = mapped_column(UTCDateTime())

    issuer: Mapped[Issuer] = relationship(back_populates="keys")


class User(Base):
    """A staff member who signs in to the admin pages."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(back_populates="user")


class Membership(Base):
    """Which issuers a staff member may act for."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "issuer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(32), default="admin")

    user: Mapped[User] = relationship(back_populates="memberships")
    issuer: Mapped[Issuer] = relationship()


class ApiToken(Base):
    """A bearer token for the JSON API, stored only as a SHA-256 digest."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    issuer: Mapped[Issuer] = relationship()


class Image(Base):
    """An uploaded achievement image, checked for type and size, served from its own URL."""

    __tablename__ = "images"

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"))
    media_type: Mapped[str] = mapped_column(String(32))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Achievement(Base):
    """What a badge recognises; editing it never changes credentials already issued."""

    __tablename__ = "achievements"
    __table_args__ = (UniqueConstraint("issuer_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    criteria_narrative: Mapped[str | None] = mapped_column(Text)
    criteria_url: Mapped[str | None] = mapped_column(String(500))
    achievement_type: Mapped[str | None] = mapped_column(String(100))
    credits_available: Mapped[float | None] = mapped_column()
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    alignments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    image_id: Mapped[int | None] = mapped_column(ForeignKey("images.id", ondelete="SET NULL"))
    image_caption: Mapped[str | None] = mapped_column(String(300))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    issuer: Mapped[Issuer] = relationship(back_populates="achievements")
    image: Mapped[Image | None] = relationship()


class Credential(Base):
    """An issued credential, stored byte for byte as signed and served unchanged."""

    __tablename__ = "credentials"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id", ondelete="RESTRICT"))
    achievement_id: Mapped[int | None] = mapped_column(
        ForeignKey("achievements.id", ondelete="SET NULL")
    )
    signing_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("signing_keys.id", ondelete="SET NULL")
    )
    recipient_name: Mapped[str | None] = mapped_column(String(200))
    recipient_email: Mapped[str | None] = mapped_column(String(320), index=True)
    recipient_did: Mapped[str | None] = mapped_column(String(500))
    achievement_name: Mapped[str] = mapped_column(String(200))
    proof_format: Mapped[str] = mapped_column(String(32), default="eddsa-rdfc-2022")
    document: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    bulk_job_id: Mapped[int | None] = mapped_column(
        ForeignKey("bulk_jobs.id", ondelete="SET NULL")
    )
    #: Its row in the bulk award's file as a spreadsheet numbers it (the header is row 1).
    bulk_row: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str | None] = mapped_column(String(320))
    #: ``active``, ``revoked`` or ``suspended``: what the issuer's status lists say about it.
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active",
                                        index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Its place in the issuer's status lists; None for credentials issued without one.
    status_allocation_id: Mapped[int | None] = mapped_column(
        ForeignKey("status_allocations.id", ondelete="RESTRICT"), unique=True
    )

    issuer: Mapped[Issuer] = relationship()
    achievement: Mapped[Achievement | None] = relationship()
    status_allocation: Mapped[StatusAllocation | None] = relationship()


class BulkJob(Base):
    """A CSV bulk award: validated first, then issued row by row with progress."""

    __tablename__ = "bulk_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"))
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievements.id"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str | None] = mapped_column(String(320))
    #: The uploaded file's name, for the people who look at the job later.
    filename: Mapped[str | None] = mapped_column(String(255))
    #: The uploaded CSV, kept between preview and confirmation and dropped when the job ends.
    source: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    #: Why a job stopped, when it did not finish.
    message: Mapped[str | None] = mapped_column(Text)


class StatusList(Base):
    """One W3C Bitstring Status List of an issuer, published at its own URL.

    Lists come in pairs with the same ``number``: one for ``revocation``, one for
    ``suspension``; a credential has the same index in both. The bits are not stored: they
    are read from the credentials' ``status``, so two changes at once cannot overwrite each
    other. ``version`` goes up with every change; the signed list is kept with the version
    it shows and signed again only when that is no longer the current one.
    """

    __tablename__ = "status_lists"
    __table_args__ = (UniqueConstraint("issuer_id", "purpose", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(16))
    number: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    signed_credential: Mapped[str | None] = mapped_column(Text, deferred=True)
    signed_etag: Mapped[str | None] = mapped_column(String(64))
    signed_version: Mapped[int | None] = mapped_column(Integer)
    signing_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("signing_keys.id", ondelete="SET NULL")
    )


class StatusAllocation(Base):
    """An index taken in an issuer's status lists ``list_number``; the database keeps it unique."""

    __tablename__ = "status_allocations"
    __table_args__ = (UniqueConstraint("issuer_id", "list_number", "list_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"))
    list_number: Mapped[int] = mapped_column(Integer)
    list_index: Mapped[int] = mapped_column(Integer)
    allocated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StatusEvent(Base):
    """One revocation, suspension or reinstatement: who, when, why (the audit trail)."""

    __tablename__ = "status_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    credential_id: Mapped[str] = mapped_column(
        ForeignKey("credentials.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(320))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StaffSignInFailure(Base):
    """One refused staff sign-in, kept for the length of the throttling window so the limit
    holds across worker processes and nodes (:mod:`issuer.services.sign_in_throttle`).

    The typed email is kept only as its SHA-256 digest: a wrong guess may be someone's
    password typed into the email field."""

    __tablename__ = "staff_sign_in_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class StaffSession(Base):
    """A staff member's signed-in session: the signed cookie carries its random id, the row
    its SHA-256 digest; a session without a live row is signed out, whatever the cookie
    says (:mod:`issuer.services.staff_sessions`)."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


__all__ = [
    "Achievement",
    "ApiToken",
    "Base",
    "BulkJob",
    "Credential",
    "Image",
    "Issuer",
    "Membership",
    "SigningKey",
    "StaffSession",
    "StaffSignInFailure",
    "StatusAllocation",
    "StatusEvent",
    "StatusList",
    "User",
    "utcnow",
]

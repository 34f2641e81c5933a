"""Rows of the informal-learning workflow: learners, claims, evidence, peer attestations,
review, endorsements, mail and the audit trail. Schema changes go through migrations."""

from __future__ import annotations

from datetime import date as date_type
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from issuer.storage.models import Achievement, Base, Credential, Issuer, UTCDateTime, utcnow


class AchievementPolicy(Base):
    """How an achievement is earned through a claim: peer attestations and review.

    Absent row: no attestations required, a reviewer decides.
    """

    __tablename__ = "achievement_policies"

    achievement_id: Mapped[int] = mapped_column(
        ForeignKey("achievements.id", ondelete="CASCADE"), primary_key=True
    )
    #: Distinct peers who must attest before the claim can be approved.
    attestations_required: Mapped[int] = mapped_column(Integer, default=0)
    #: False: approved automatically once the attestations are in.
    review_required: Mapped[bool] = mapped_column(Boolean, default=True)
    #: What peers attest to: "helped-me-learn" (scaffolding) or "genuine-contribution".
    attestation_kind: Mapped[str] = mapped_column(String(32), default="helped-me-learn")
    #: CPD category the hours of this achievement count towards.
    cpd_category: Mapped[str | None] = mapped_column(String(100))
    open_to_claims: Mapped[bool] = mapped_column(Boolean, default=True)
    #: The scaffolding rubric level (0: none, 1–3) the peer attestations must reach.
    scaffolding_level_required: Mapped[int] = mapped_column(Integer, default=0,
                                                            server_default="0")

    achievement: Mapped[Achievement] = relationship()




class Learner(Base):
    """A person who claims badges and attests to peers; signs in by one-time email link."""

    __tablename__ = "learners"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    #: Part of the public profile URL; random so profiles cannot be enumerated.
    profile_handle: Mapped[str] = mapped_column(String(32), unique=True)
    #: A salt for pairwise pseudonymous identifiers of this learner as a peer.
    pairwise_secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SignInToken(Base):
    """A one-time sign-in link: stored hashed, single use, short-lived."""

    __tablename__ = "sign_in_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    next_path: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class MailMessage(Base):
    """Every message the service sends: the outbox page in development, a log in production."""

    __tablename__ = "mail_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(320), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(48))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Set while a worker sends it (``issuer.services.mail``): only one worker sends a
    #: message, and ``sent_at`` is written once the server has taken it.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)
    #: The credential a "badge awarded" message announces, so its page can say whether the
    #: recipient was told.
    credential_id: Mapped[str | None] = mapped_column(
        ForeignKey("credentials.id", ondelete="SET NULL"), index=True
    )
    #: Never set or read: it tells the unit of work that a credential is inserted before
    #: its message, so both can be written by one flush.
    credential: Mapped[Credential | None] = relationship(passive_deletes=True)


class Claim(Base):
    """A learner's request for an achievement, with evidence and peer attestations.

    States: draft → submitted → (returned → submitted)* → approved | rejected.
    """

    __tablename__ = "claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"))
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievements.id"))
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    statement: Mapped[str | None] = mapped_column(Text)
    reviewer_comment: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[str | None] = mapped_column(String(320))
    credential_id: Mapped[str | None] = mapped_column(
        ForeignKey("credentials.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    learner: Mapped[Learner] = relationship()
    issuer: Mapped[Issuer] = relationship()
    achievement: Mapped[Achievement] = relationship()
    evidence: Mapped[list[EvidenceRecord]] = relationship(
        back_populates="claim", order_by="EvidenceRecord.id", cascade="all, delete-orphan"
    )
    attestations: Mapped[list[Attestation]] = relationship(
        back_populates="claim", order_by="Attestation.id"
    )


class EvidenceRecord(Base):
    """One piece of evidence on a claim; the learner decides whether it may be public."""

    __tablename__ = "evidence_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"))
    url: Mapped[str | None] = mapped_column(String(1000))
    title: Mapped[str | None] = mapped_column(String(300))
    narrative: Mapped[str | None] = mapped_column(Text)
    file_name: Mapped[str | None] = mapped_column(String(255))
    media_type: Mapped[str | None] = mapped_column(String(100))
    file_data: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    sha256: Mapped[str | None] = mapped_column(String(64))
    #: First day of the activity; the day CPD hours count on (USERS.md §G4).
    activity_date: Mapped[date_type | None] = mapped_column(Date)
    #: Last day of an activity spanning several days; None: a one-day activity.
    activity_end_date: Mapped[date_type | None] = mapped_column(Date)
    cpd_hours: Mapped[float | None] = mapped_column()
    #: Of ``cpd_hours``, the hours spent interacting with others (revalidation CPD logs).
    participatory_hours: Mapped[float | None] = mapped_column()
    #: The learner's own category for this item (the method of learning), not the badge's.
    cpd_category: Mapped[str | None] = mapped_column(String(100))
    #: Reflection: what happened, so what, now what.
    reflection: Mapped[str | None] = mapped_column(Text)
    #: How the activity changed the learner's practice (relevance to practice).
    practice_change: Mapped[str | None] = mapped_column(Text)
    #: The standard of the learner's professional framework the activity relates to.
    framework_reference: Mapped[str | None] = mapped_column(String(300))
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    claim: Mapped[Claim] = relationship(back_populates="evidence")


class AttestationRequest(Base):
    """An invitation to a peer, by link (and optionally email); the link token is hashed."""

    __tablename__ = "attestation_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"))
    email: Mapped[str | None] = mapped_column(String(320))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Attestation(Base):
    """A peer's statement that the learner helped them learn, or that the work is genuine.

    One per peer per claim (a unique constraint, so concurrent submissions cannot double up);
    the learner cannot edit it.
    """

    __tablename__ = "attestations"
    __table_args__ = (UniqueConstraint("claim_id", "peer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"))
    peer_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    comment: Mapped[str] = mapped_column(Text)
    show_name: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The scaffolding functions the peer says the learner performed, as space-separated
    #: codes (``issuer.services.attestation_scaffolding``); None when none was ticked.
    scaffolding_functions: Mapped[str | None] = mapped_column(String(200))
    #: "Did they first check what you had tried?" (contingency); None: not answered.
    contingency: Mapped[bool | None] = mapped_column(Boolean)
    #: "Did they step back as you got it?" (fading); None: not answered.
    fading: Mapped[bool | None] = mapped_column(Boolean)
    #: "Can you now do it unaided?" (transfer of responsibility); None: not answered.
    transfer: Mapped[bool | None] = mapped_column(Boolean)
    #: Later work the peer did alone, showing the transfer.
    transfer_url: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    claim: Mapped[Claim] = relationship(back_populates="attestations")
    peer: Mapped[Learner] = relationship()


class LearnerBadge(Base):
    """A credential awarded to a learner, and whether the learner shows it on the profile."""

    __tablename__ = "learner_badges"
    __table_args__ = (UniqueConstraint("learner_id", "credential_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    credential_id: Mapped[str] = mapped_column(ForeignKey("credentials.id", ondelete="CASCADE"))
    shown: Mapped[bool] = mapped_column(Boolean, default=False)
    cpd_hours: Mapped[float | None] = mapped_column()
    cpd_category: Mapped[str | None] = mapped_column(String(100))
    earned_on: Mapped[date_type | None] = mapped_column(Date)


class Endorsement(Base):
    """An EndorsementCredential by another organisation about an achievement or an issuer."""

    __tablename__ = "endorsements"

    id: Mapped[int] = mapped_column(primary_key=True)
    target_issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"))
    target_achievement_id: Mapped[int | None] = mapped_column(
        ForeignKey("achievements.id", ondelete="CASCADE")
    )
    endorser_name: Mapped[str] = mapped_column(String(200))
    document: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuditEvent(Base):
    """Who did what, when: every step of the evidence-to-badge workflow."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer_id: Mapped[int | None] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"))
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"))
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

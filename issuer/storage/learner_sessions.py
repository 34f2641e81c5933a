"""Learner sessions kept on the server, so that signing out ends them. Schema changes go
through migrations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from issuer.storage.learning import Learner
from issuer.storage.models import Base, UTCDateTime


class LearnerSession(Base):
    """A learner's signed-in session: the signed cookie carries its random id, the row its
    SHA-256 digest; a session without a live row is signed out, whatever the cookie says
    (:mod:`issuer.services.learner_sessions`)."""

    __tablename__ = "learner_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    learner_id: Mapped[int] = mapped_column(
        ForeignKey(Learner.id, ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: For the idle time limit; written at most once a minute.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


__all__ = ["LearnerSession"]

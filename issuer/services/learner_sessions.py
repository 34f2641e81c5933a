"""Learner sessions kept on the server, so that signing out ends them.

The session cookie is signed, not encrypted, and lives in the browser: on its own it stays
valid for anyone who copied it, after its owner signed out. So each learner sign-in makes a
random session id, the cookie carries it, and the database keeps its SHA-256 digest
(:class:`~issuer.storage.learner_sessions.LearnerSession`); every learner request looks the
row up, and an ended row signs no one in (OWASP Session Management Cheat Sheet, "Manual
session expiration").

A session also ends by itself: after ``learner_session_idle_minutes`` without a request
(idle timeout) and ``learner_session_max_hours`` after sign-in whatever happens (absolute
timeout), both checked on the server, where a copied cookie cannot extend them (same sheet,
"Idle Timeout" and "Absolute Timeout"). The last use is written at most once a minute, so a
busy page does not write on every request.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from issuer.services.context import ServiceContext
from issuer.services.secret_digest import digest
from issuer.storage.learner_sessions import LearnerSession
from issuer.storage.learning import Learner

__all__ = ["TOUCH_EVERY", "end", "learner_of", "start"]

#: The last use is written when it is older than this.
TOUCH_EVERY = timedelta(minutes=1)



def start(session: Session, ctx: ServiceContext, learner: Learner) -> str:
    """A new session of ``learner``; the returned id goes into the cookie, never elsewhere."""
    now = ctx.now()
    token = secrets.token_urlsafe(32)
    # Sessions that can sign no one in again are kept for nothing: a sign-in clears its
    # learner's ended ones and those past the absolute limit.
    oldest = now - timedelta(hours=ctx.settings.learner_session_max_hours)
    session.execute(delete(LearnerSession)
                    .where(LearnerSession.learner_id == learner.id,
                           or_(LearnerSession.ended_at.is_not(None),
                               LearnerSession.created_at <= oldest))
                    .execution_options(synchronize_session=False))
    session.add(LearnerSession(token_hash=digest(token), learner_id=learner.id,
                               created_at=now, last_seen_at=now))
    session.flush()
    return token


def learner_of(session: Session, ctx: ServiceContext, token: str,
               learner_id: int) -> Learner | None:
    """The learner whose live session ``token`` is, if it is ``learner_id``'s; a session
    past its idle or absolute time limit is ended here and signs no one in."""
    found = session.execute(
        select(LearnerSession, Learner).join(Learner, LearnerSession.learner_id == Learner.id)
        .where(LearnerSession.token_hash == digest(token),
               LearnerSession.learner_id == learner_id,
               LearnerSession.ended_at.is_(None))).first()
    if found is None:
        return None
    row, learner = found
    now = ctx.now()
    settings = ctx.settings
    if (now - row.created_at >= timedelta(hours=settings.learner_session_max_hours)
            or now - row.last_seen_at >= timedelta(minutes=settings.learner_session_idle_minutes)):
        end(session, ctx, token)
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        # Conditional, so two requests at once both succeed and the later time wins.
        session.execute(update(LearnerSession)
                        .where(LearnerSession.id == row.id, LearnerSession.last_seen_at < now)
                        .values(last_seen_at=now)
                        .execution_options(synchronize_session=False))
    return learner


def end(session: Session, ctx: ServiceContext, token: str) -> None:
    """End one session (signing out); an unknown or ended one is left as it is."""
    session.execute(update(LearnerSession)
                    .where(LearnerSession.token_hash == digest(token),
                           LearnerSession.ended_at.is_(None))
                    .values(ended_at=ctx.now())
                    .execution_options(synchronize_session=False))

"""Staff sessions kept on the server, so that signing out ends them.

The session cookie is signed, not encrypted, and lives in the browser: on its own it
stays valid for anyone who copied it, after its owner signed out. So each staff sign-in
makes a random session id, the cookie carries it, and the database keeps its SHA-256
digest (:class:`~issuer.storage.models.StaffSession`); every staff request looks the row
up. Signing out, a new password, and "sign out everywhere" end rows, and an ended row
signs no one in (OWASP Session Management Cheat Sheet, "Session expiration" and
"Manual session expiration").

A session also ends by itself: after ``staff_session_idle_minutes`` without a request (idle
timeout) and ``staff_session_max_hours`` after sign-in whatever happens (absolute timeout),
both checked on the server, where a copied cookie cannot extend them (same sheet, "Idle
Timeout" and "Absolute Timeout"). The last use is written at most once a minute
(:class:`~issuer.storage.jobs.StaffSessionActivity`), so a busy page does not write on
every request.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from issuer.services.context import ServiceContext
from issuer.services.secret_digest import digest
from issuer.storage.jobs import StaffSessionActivity
from issuer.storage.models import StaffSession, User

#: The last use is written when it is older than this.
TOUCH_EVERY = timedelta(minutes=1)



def start(session: Session, ctx: ServiceContext, user: User) -> str:
    """A new session of ``user``; the returned id goes into the cookie, never elsewhere."""
    token = secrets.token_urlsafe(32)
    # Ended sessions are kept for nothing: a sign-in clears its staff member's.
    session.execute(delete(StaffSession)
                    .where(StaffSession.user_id == user.id, StaffSession.ended_at.is_not(None))
                    .execution_options(synchronize_session=False))
    started = StaffSession(token_hash=digest(token), user_id=user.id, created_at=ctx.now())
    session.add(started)
    session.flush()
    session.add(StaffSessionActivity(session_id=started.id, last_seen_at=started.created_at))
    session.flush()
    return token


def user_of(session: Session, ctx: ServiceContext, token: str, user_id: int) -> User | None:
    """The staff member whose live session ``token`` is, if it is ``user_id``'s; a session
    past its idle or absolute time limit is ended here and signs no one in."""
    found = session.execute(
        select(StaffSession, User).join(User, StaffSession.user_id == User.id)
        .where(StaffSession.token_hash == digest(token), StaffSession.user_id == user_id,
               StaffSession.ended_at.is_(None))).first()
    if found is None:
        return None
    staff_session, user = found
    now = ctx.now()
    settings = ctx.settings
    last = session.scalar(select(StaffSessionActivity.last_seen_at)
                          .where(StaffSessionActivity.session_id == staff_session.id))
    last = last or staff_session.created_at
    if (now - staff_session.created_at >= timedelta(hours=settings.staff_session_max_hours)
            or now - last >= timedelta(minutes=settings.staff_session_idle_minutes)):
        end(session, ctx, token)
        return None
    if now - last >= TOUCH_EVERY:
        # An UPDATE, never an INSERT: two requests at once both write, neither fails.
        session.execute(update(StaffSessionActivity)
                        .where(StaffSessionActivity.session_id == staff_session.id,
                               StaffSessionActivity.last_seen_at < now)
                        .values(last_seen_at=now)
                        .execution_options(synchronize_session=False))
    return user


def end(session: Session, ctx: ServiceContext, token: str) -> None:
    """End one session (signing out); an unknown or ended one is left as it is."""
    session.execute(update(StaffSession)
                    .where(StaffSession.token_hash == digest(token),
                           StaffSession.ended_at.is_(None))
                    .values(ended_at=ctx.now())
                    .execution_options(synchronize_session=False))


def end_all(session: Session, ctx: ServiceContext, user: User) -> int:
    """End every session of ``user`` (sign out everywhere, a new password); how many."""
    result = session.execute(update(StaffSession)
                             .where(StaffSession.user_id == user.id,
                                    StaffSession.ended_at.is_(None))
                             .values(ended_at=ctx.now())
                             .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)

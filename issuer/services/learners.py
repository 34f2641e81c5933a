"""Learner accounts and sign-in by one-time email link (no passwords).

A learner proves they own an address by opening a link mailed to it. The link's token is
stored only as its SHA-256 digest, works for 15 minutes, and works once: it is spent by one
conditional UPDATE, so a replayed link, or two tabs racing, cannot sign in twice. The account
is created on the first successful sign-in, so asking for a link reveals nothing about which
addresses have accounts (../shared/design/USERS.md §3, identity and privacy).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from issuer.core.errors import IssuerError
from issuer.services import audit
from issuer.services.context import ServiceContext
from issuer.services.errors import Invalid, TooManyRequests
from issuer.services.mail import render_mail, send_mail
from issuer.storage.learning import Learner, SignInToken

#: How long a sign-in link works.
SIGN_IN_TTL = timedelta(minutes=15)
#: At most this many links per address within ``RATE_WINDOW``; counted in the database, so
#: the limit holds across worker processes.
RATE_LIMIT = 5
RATE_WINDOW = timedelta(minutes=15)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
_NEXT_MAX = 500


class RateLimited(TooManyRequests):
    """Too many sign-in links asked for one address; ``retry_after`` in seconds."""

    code = "rate-limited"


class SignInLinkError(IssuerError):
    """A sign-in link that cannot be used; ``reason`` is "unknown", "used" or "expired"."""

    code = "sign-in-link"

    def __init__(self, reason: str) -> None:
        super().__init__({
            "used": "This sign-in link was already used. Each link works only once.",
            "expired": "This sign-in link has expired. Links work for 15 minutes.",
        }.get(reason, "This sign-in link is not valid. It may be incomplete: copy the whole "
                      "link from the email."))
        self.reason = reason


@dataclass(frozen=True)
class PendingSignIn:
    """A link that would sign in right now: whose it is, and where it leads afterwards."""

    email: str
    next_path: str | None


def normalize_email(raw: str | None) -> str:
    """The address as stored: trimmed and lower-cased (people type it in any case)."""
    email = (raw or "").strip().lower()
    if not email:
        raise Invalid("Enter your email address.", {"email": "Enter your email address."})
    if (len(email) > 320 or not _EMAIL.match(email)
            or any(ord(c) < 32 or ord(c) == 127 for c in email)):
        message = "Enter an email address like name@example.org."
        raise Invalid(message, {"email": message})
    return email


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign_in_link(ctx: ServiceContext, token: str) -> str:
    """The link mailed to the learner, always on the configured base URL (never the
    request's Host header, which an attacker could set to their own site)."""
    return f"{ctx.base}/learn/sign-in/{token}"


def request_sign_in(session: Session, ctx: ServiceContext, *, email: str,
                    next_path: str | None = None) -> str:
    """Create a sign-in link for ``email``, queue the mail carrying it, and return the token.

    The same happens whether or not the address has an account. ``next_path`` must already
    be checked as a local path by the caller. Raises ``Invalid`` for a malformed address and
    ``RateLimited`` after ``RATE_LIMIT`` links within ``RATE_WINDOW``.
    """
    email = normalize_email(email)
    now = ctx.now()
    since = now - RATE_WINDOW
    # Spent and expired links of this address older than the window count for nothing.
    session.execute(
        delete(SignInToken)
        .where(SignInToken.email == email, SignInToken.created_at <= since,
               SignInToken.expires_at <= now)
        .execution_options(synchronize_session=False)
    )
    recent = list(session.scalars(
        select(SignInToken.created_at)
        .where(SignInToken.email == email, SignInToken.created_at > since)
        .order_by(SignInToken.created_at)
    ))
    if len(recent) >= RATE_LIMIT:
        oldest = recent[-RATE_LIMIT]
        wait = max(60, int((oldest + RATE_WINDOW - now).total_seconds()))
        minutes = -(-wait // 60)
        raise RateLimited(
            f"Too many sign-in links were asked for this address. Use the newest link in your "
            f"email, or try again in {minutes} minute{'s' if minutes != 1 else ''}.", wait)
    token = secrets.token_urlsafe(32)
    session.add(SignInToken(
        email=email, token_hash=token_digest(token),
        next_path=next_path if next_path and len(next_path) <= _NEXT_MAX else None,
        created_at=now, expires_at=now + SIGN_IN_TTL,
    ))
    subject, body = render_mail("sign_in", link=sign_in_link(ctx, token),
                                minutes=int(SIGN_IN_TTL.total_seconds() // 60), site=ctx.base)
    send_mail(session, ctx, to=email, subject=subject, body=body, kind="sign_in")
    return token


def check_sign_in(session: Session, ctx: ServiceContext, token: str) -> PendingSignIn:
    """What ``token`` would do, without spending it (for the confirmation page).

    Raises ``SignInLinkError`` when the link is unknown, used or expired.
    """
    row = _usable(_row(session, token), ctx)
    return PendingSignIn(email=row.email, next_path=row.next_path)


def complete_sign_in(session: Session, ctx: ServiceContext,
                     token: str) -> tuple[Learner, str | None]:
    """Spend ``token`` and return the learner (created on first sign-in) and the next path.

    Spending is one ``UPDATE … WHERE used_at IS NULL AND expires_at > now``: of two requests
    with the same link, exactly one changes the row, the other sees ``rowcount == 0``.
    Raises ``SignInLinkError`` (and changes nothing) when the link cannot be used.
    """
    now = ctx.now()
    digest = token_digest(token)
    result = session.execute(
        update(SignInToken)
        .where(SignInToken.token_hash == digest, SignInToken.used_at.is_(None),
               SignInToken.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        _usable(_row(session, token), ctx)
        raise SignInLinkError("used")  # spent by a request that committed meanwhile
    row = _usable_after_update(_row(session, token))
    learner = ensure_learner(session, ctx, row.email)
    learner.last_sign_in_at = now
    audit.record(session, ctx, actor=audit.learner_actor(learner.email),
                 action="learner.signed_in")
    session.flush()
    return learner, row.next_path


def find_learner(session: Session, email: str) -> Learner | None:
    """The learner with this address (any case), or None."""
    return session.scalars(
        select(Learner).where(Learner.email == email.strip().lower())
    ).one_or_none()


def ensure_learner(session: Session, ctx: ServiceContext, email: str) -> Learner:
    """The learner with ``email``, created (no display name, random handle and pairwise
    secret) if there is none.

    ``INSERT … ON CONFLICT DO NOTHING`` rather than look-up-then-insert: two requests creating
    the same learner at once both end with the one row, and neither transaction fails.
    """
    email = normalize_email(email)
    learner = find_learner(session, email)
    if learner is not None:
        return learner
    insert = _insert_for(session)
    for _attempt in range(3):
        result = session.execute(
            insert(Learner)
            .values(email=email, display_name=None,
                    profile_handle=secrets.token_urlsafe(9),  # 12 url-safe characters
                    pairwise_secret=secrets.token_hex(32),  # 32 random bytes
                    created_at=ctx.now())
            .on_conflict_do_nothing()
            .returning(Learner.id)
        )
        created = result.scalar_one_or_none() is not None
        learner = find_learner(session, email)
        if learner is not None:
            if created:
                audit.record(session, ctx, actor=audit.learner_actor(email),
                             action="learner.created")
            return learner
    # Only a clash of random profile handles three times running gets here.
    raise RuntimeError("could not create a learner account")


def _insert_for(session: Session) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert
    return sqlite.insert


def _row(session: Session, token: str) -> SignInToken | None:
    if not token or len(token) > 100:
        return None
    return session.scalars(
        select(SignInToken)
        .where(SignInToken.token_hash == token_digest(token))
        .execution_options(populate_existing=True)
    ).one_or_none()


def _usable(row: SignInToken | None, ctx: ServiceContext) -> SignInToken:
    if row is None:
        raise SignInLinkError("unknown")
    if row.used_at is not None:
        raise SignInLinkError("used")
    if row.expires_at <= ctx.now():
        raise SignInLinkError("expired")
    return row


def _usable_after_update(row: SignInToken | None) -> SignInToken:
    if row is None:  # the UPDATE just matched it, in this transaction
        raise SignInLinkError("unknown")
    return row


__all__ = [
    "RATE_LIMIT",
    "RATE_WINDOW",
    "SIGN_IN_TTL",
    "PendingSignIn",
    "RateLimited",
    "SignInLinkError",
    "check_sign_in",
    "complete_sign_in",
    "ensure_learner",
    "find_learner",
    "normalize_email",
    "request_sign_in",
    "sign_in_link",
]

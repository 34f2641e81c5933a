"""API bearer tokens: shown once, stored as SHA-256 digests, revocable."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import timedelta
from functools import cache

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session, joinedload

from issuer.services.context import ServiceContext
from issuer.services.errors import Invalid, NotFound
from issuer.storage.models import ApiToken, Issuer

PREFIX = "obi_"
#: ``last_used_at`` is rewritten only once it is this old. Writing the token's row on every
#: request would make concurrent requests with one token wait on that row's lock until each
#: commits (PostgreSQL), for a time shown to the minute.
USE_RESOLUTION = timedelta(minutes=1)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, ctx: ServiceContext, issuer: Issuer,
                 name: str) -> tuple[ApiToken, str]:
    """A new token for ``issuer``; the plain token is returned once and never stored."""
    name = (name or "").strip() or "API token"
    if len(name) > 200:
        raise Invalid("the token name is too long", {"name": "too long"})
    plain = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(issuer_id=issuer.id, name=name, prefix=plain[:10],
                   token_hash=_digest(plain), created_at=ctx.now())
    session.add(row)
    session.flush()
    return row, plain


def authenticate(session: Session, ctx: ServiceContext, plain: str) -> ApiToken | None:
    """The live token matching ``plain``, or None (unknown, malformed or revoked)."""
    if not plain or not plain.startswith(PREFIX) or len(plain) > 200:
        return None
    digest = _digest(plain)
    row = session.scalars(_by_digest(), {"digest": digest}).unique().first()
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.token_hash, digest):
        return None
    now = ctx.now()
    if row.last_used_at is None or now - row.last_used_at >= USE_RESOLUTION:
        row.last_used_at = now
    return row


@cache
def _by_digest() -> Select[tuple[ApiToken]]:
    # The issuer and its keys come in the same statement: every API request acts for the
    # issuer, and an award signs with its active key. Built once, as it runs per request.
    return (select(ApiToken).where(ApiToken.token_hash == bindparam("digest"))
            .options(joinedload(ApiToken.issuer).joinedload(Issuer.keys)))


def revoke_token(session: Session, ctx: ServiceContext, issuer: Issuer, token_id: int) -> None:
    row = session.get(ApiToken, token_id)
    if row is None or row.issuer_id != issuer.id:
        raise NotFound("no such token")
    if row.revoked_at is None:
        row.revoked_at = ctx.now()
    session.flush()


def list_tokens(session: Session, issuer: Issuer) -> Sequence[ApiToken]:
    return session.scalars(select(ApiToken).where(ApiToken.issuer_id == issuer.id)
                           .order_by(ApiToken.created_at.desc())).all()

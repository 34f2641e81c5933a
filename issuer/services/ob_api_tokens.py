"""Authorization codes, access tokens and refresh tokens of the Open Badges 3.0 API
(OB 3.0 §7.1.2–§7.3; RFC 6749 §4.1, §6; RFC 7636; RFC 7009).

Every code and token is stored as its SHA-256 digest. A code lives ten minutes and works
once: spending it is one conditional UPDATE, so two requests racing with the same code
cannot both get tokens, and a code presented again revokes the tokens issued for it
(RFC 6749 §4.1.2, OB 3.0 §7.1.2). An access token lives an hour; its refresh token is
replaced by a new one each time it is used, and revoking either ends both.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from issuer.services.context import ServiceContext
from issuer.services.secret_digest import digest
from issuer.storage.learning import Learner
from issuer.storage.ob_api import (
    ObApiAuthorizationCode,
    ObApiClient,
    ObApiPendingAuthorization,
    ObApiToken,
)

__all__ = ["ACCESS_TTL", "CODE_TTL", "PENDING_TTL", "REFRESH_TTL", "bearer_token",
           "find_code", "find_refresh_token", "find_token", "keep_pending", "pending_query",
           "revoke_code_tokens", "revoke_token", "save_code", "save_token", "spend_code"]

#: OB 3.0 §7.1.2 recommends 600 s for a code, §7.1.3 3600 s for an access token.
CODE_TTL = timedelta(seconds=600)
ACCESS_TTL = timedelta(seconds=3600)
#: How long a refresh token works if it is never used.
REFRESH_TTL = timedelta(days=90)
_MAX_TOKEN = 200
#: How long an authorization request waits for its learner to sign in (a sign-in link works
#: for 15 minutes).
PENDING_TTL = timedelta(minutes=30)
_MAX_QUERY = 8000


def keep_pending(session: Session, ctx: ServiceContext, query: str) -> str | None:
    """Keep an authorization request's query while its learner signs in; its id, or None
    for a query too long to keep."""
    if len(query) > _MAX_QUERY:
        return None
    now = ctx.now()
    session.execute(delete(ObApiPendingAuthorization)
                    .where(ObApiPendingAuthorization.expires_at <= now)
                    .execution_options(synchronize_session=False))
    row = ObApiPendingAuthorization(id=secrets.token_urlsafe(16), query=query,
                                    created_at=now, expires_at=now + PENDING_TTL)
    session.add(row)
    session.flush()
    return row.id


def pending_query(session: Session, ctx: ServiceContext, pending_id: str) -> str | None:
    if not pending_id or len(pending_id) > 32:
        return None
    row = session.get(ObApiPendingAuthorization, pending_id)
    if row is None or row.expires_at <= ctx.now():
        return None
    return row.query


def save_code(session: Session, ctx: ServiceContext, *, client: ObApiClient,
              learner: Learner, code: str, redirect_uri: str, scope: str,
              code_challenge: str, code_challenge_method: str) -> ObApiAuthorizationCode:
    now = ctx.now()
    row = ObApiAuthorizationCode(
        code_hash=digest(code), client_id=client.id, learner_id=learner.id,
        redirect_uri=redirect_uri, scope=scope, code_challenge=code_challenge,
        code_challenge_method=code_challenge_method, created_at=now, expires_at=now + CODE_TTL)
    session.add(row)
    session.flush()
    return row


def find_code(session: Session, ctx: ServiceContext, client: ObApiClient,
              code: Any) -> ObApiAuthorizationCode | None:
    """The code of ``client`` named by ``code``, spent or not; None when there is none or it
    has expired."""
    if not isinstance(code, str) or not code or len(code) > _MAX_TOKEN:
        return None
    row = session.scalar(select(ObApiAuthorizationCode).where(
        ObApiAuthorizationCode.code_hash == digest(code)))
    if row is None or row.client_id != client.id or row.expires_at <= ctx.now():
        return None
    return row


def spend_code(session: Session, ctx: ServiceContext, row: ObApiAuthorizationCode) -> bool:
    """Mark the code used; False when another request used it first."""
    result = session.execute(
        update(ObApiAuthorizationCode)
        .where(ObApiAuthorizationCode.id == row.id, ObApiAuthorizationCode.used_at.is_(None))
        .values(used_at=ctx.now())
        .execution_options(synchronize_session=False))
    return getattr(result, "rowcount", 0) == 1


def revoke_code_tokens(session: Session, ctx: ServiceContext, code_id: int) -> None:
    """End every token issued for a code, and the ones refreshed from them."""
    session.execute(
        update(ObApiToken)
        .where(ObApiToken.authorization_code_id == code_id, ObApiToken.revoked_at.is_(None))
        .values(revoked_at=ctx.now())
        .execution_options(synchronize_session=False))


def save_token(session: Session, ctx: ServiceContext, *, client: ObApiClient,
               learner: Learner, token: dict[str, Any],
               code_id: int | None) -> ObApiToken:
    now = ctx.now()
    refresh = token.get("refresh_token")
    row = ObApiToken(
        client_id=client.id, learner_id=learner.id, authorization_code_id=code_id,
        access_token_hash=digest(token["access_token"]),
        refresh_token_hash=digest(refresh) if isinstance(refresh, str) else None,
        scope=token.get("scope") or "", issued_at=now,
        expires_at=now + timedelta(seconds=int(token.get("expires_in") or ACCESS_TTL.seconds)))
    session.add(row)
    session.flush()
    return row


def find_token(session: Session, value: Any, hint: str | None = None) -> ObApiToken | None:
    """The token row ``value`` is the access or refresh token of (RFC 7009 §2.1: the hint
    only says where to look first)."""
    if not isinstance(value, str) or not value or len(value) > _MAX_TOKEN:
        return None
    hashed = digest(value)
    columns = [ObApiToken.access_token_hash, ObApiToken.refresh_token_hash]
    if hint == "refresh_token":
        columns.reverse()
    for column in columns:
        row = session.scalar(select(ObApiToken).where(column == hashed))
        if row is not None:
            return row
    return None


def find_refresh_token(session: Session, ctx: ServiceContext, value: Any) -> ObApiToken | None:
    """A refresh token that still works: not revoked, not older than ``REFRESH_TTL``."""
    if not isinstance(value, str) or not value or len(value) > _MAX_TOKEN:
        return None
    row = session.scalar(select(ObApiToken).where(
        ObApiToken.refresh_token_hash == digest(value)))
    if row is None or row.revoked_at is not None or row.issued_at + REFRESH_TTL <= ctx.now():
        return None
    return row


def revoke_token(session: Session, ctx: ServiceContext, row: ObApiToken) -> None:
    if row.revoked_at is None:
        row.revoked_at = ctx.now()
        session.flush()


def bearer_token(session: Session, ctx: ServiceContext, value: str) -> ObApiToken | None:
    """The access token a request presents, if it is one that still works."""
    if not value or len(value) > _MAX_TOKEN:
        return None
    row = session.scalar(select(ObApiToken).where(
        ObApiToken.access_token_hash == digest(value)))
    if row is None or row.revoked_at is not None or row.expires_at <= ctx.now():
        return None
    return row
